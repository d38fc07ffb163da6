//! `POST /refresh`: a refresh token in `Authorization: Bearer` (or, in cookie mode, its cookie
//! with `X-CSRF-TOKEN`), a new (non-fresh) access token out, of the same session, back where
//! the refresh token came from: the JSON body, or the cookies. With rotation on, also a new refresh token, and the one presented
//! is spent: presenting it again ends the session. No refresh token outlives its session's
//! cap (`JWT_SESSION_MAX_AGE` from the login), however often it rotates. Each refresh is
//! recorded in its session's record (for the user's list of sessions) beside the request's
//! own store requests, and a refresh or a replay in the user's activity log.

use auth_core::{
    AppState,
    activity::{Activity, ActivityEvent, ActivityOutcome, detail},
    claims::{AuthMethods, TokenKind, VerifiedClaims},
    grant::{Grant, GrantedTokens},
    sessions::{Rotation, RotationOutcome},
    tokens::{SessionClaims, TokenError, TokenService, new_token_id},
    users::User,
};
use auth_http::{
    ApiError, ErrorKey,
    client::activity_of,
    grant::{Delivery, granted_response},
    guard::verified_token,
    issuer::tokens_for,
    presented::Carrier,
    respond,
};
use lambda_http::{Body, Error, Request, Response};

/// The body of a refresh whose tokens went into cookies.
pub const TOKEN_REFRESHED: &str = "Token refreshed";

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Msg, refresh(state, &request)).await
}

async fn refresh(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    // Resolved before anything is spent: a rotation must never be left without its token.
    let tokens = tokens_for(state, request, ErrorKey::Msg)?;
    let (claims, carrier) = verified_token(state, request, TokenKind::Refresh)?;
    let refreshed = refreshed(state, &tokens, &claims).await;
    let outcome = match &refreshed {
        Ok(_) => Some((ActivityOutcome::Succeeded, None)),
        Err(ApiError::Replayed) => Some((ActivityOutcome::Blocked, Some(detail::REUSE_DETECTED))),
        Err(_) => None,
    };
    if refreshed.is_ok() {
        touch_session(state, &tokens, &claims);
    }
    if let Some((outcome, detail)) = outcome {
        let activity = Activity {
            detail,
            ..activity_of(request).session(claims.session_id())
        };
        state
            .activity()
            .record(&claims.subject, ActivityEvent::Refresh, outcome, activity);
    }
    // Back where the refresh token came from: the body, or the cookies.
    let from_cookie = carrier == Carrier::Cookie;
    Ok(granted_response(
        request,
        &refreshed?,
        Delivery {
            in_body: !from_cookie,
            in_cookies: from_cookie.then_some(&state.browser().cookies),
            cookie_message: TOKEN_REFRESHED,
        },
    ))
}

/// Tells the session's record of a refresh that succeeded: refreshed now, and with rotation,
/// listed until the end of the refresh token it issued. Written once the answer is known and
/// without the answer waiting for it, as the activity log is: only what the user's list shows
/// depends on it (a failure is logged, the refresh stands). Beside the lookup it was free on
/// DynamoDB but not on a store that answers one request at a time (scripts/session-latency:
/// +6.5 ms a refresh on moto). It never revives a session a replay ends (`touch_session`).
fn touch_session(state: &AppState, tokens: &TokenService, claims: &VerifiedClaims) {
    let Some(id) = claims.session_id() else {
        return;
    };
    let now = state.clock().unix_secs();
    let started_at = claims.session_started_at().unwrap_or(now);
    let refresh_until = state
        .rotation()
        .enabled
        .then(|| tokens.expiry(TokenKind::Refresh, now, Some(started_at)));
    let (store, id) = (state.shared_sessions(), id.to_owned());
    state
        .activity()
        .write_in_background("a refresh in its session's record", async move {
            store.touch_session(&id, now, refresh_until).await
        });
}

/// The tokens a refresh with the verified refresh token `claims` issues, its user looked up and,
/// with rotation on, the token spent.
async fn refreshed(
    state: &AppState,
    tokens: &TokenService,
    claims: &VerifiedClaims,
) -> Result<GrantedTokens, ApiError> {
    let now = state.clock().unix_secs();
    let rotation = state.rotation();
    // The new tokens stay in the session, with its start: for a token without `auth_time`
    // (issued before sessions had a start, or by flask-jwt-extended) its `iat`, which its own
    // cap counted from too, so the session's end is the same from every token of it.
    let session = claims.session_id().map(|id| SessionClaims {
        id,
        started_at: claims.session_started_at().unwrap_or(now),
        // A session keeps how it signed in: a refresh is no new proof, nor less of one.
        methods: claims.amr.as_deref().and_then(AuthMethods::of_claim),
    });
    let grant = |user, refresh_jti| Grant {
        user,
        session,
        issued_at: now,
        fresh: false,
        refresh_jti,
        with_csrf: state.browser().tokens_carry_csrf(),
    };
    // With rotation and a grace, the rotation goes beside the lookup: one round trip, not two.
    // A rotation made for a request that then fails is recoverable: a token refused by the
    // lookup could not be used anyway (it or its session is revoked, or its user is gone,
    // disabled or has ended their sessions since it was issued), and after a store error or a
    // passed deadline the client's retry within the grace gets the session's current refresh
    // token again. Without a grace that retry would be a replay that ends the session, so the
    // lookup must succeed before anything is spent. A key in KMS can fail to sign (throttled,
    // down) for longer than a grace: there the tokens are signed before the presented one is
    // spent, so that nothing is spent for a request that gets no tokens.
    match rotation.enabled {
        false => {
            let user = state.user_of(claims).await?;
            signed(tokens, &grant(&user, None)).await
        }
        true if tokens.signs_remotely() => {
            let user = state.user_of(claims).await?;
            let replacement = new_token_id();
            let granted = signed(tokens, &grant(&user, Some(&replacement))).await?;
            match rotate(state, claims, now, &replacement).await? {
                rotated if rotated == replacement => Ok(granted),
                // A retry within the grace gets the session's current refresh token, signed
                // anew: this request spent nothing, so its failure here loses nothing.
                current => signed(tokens, &grant(&user, Some(&current))).await,
            }
        }
        true if rotation.grace.is_zero() => {
            let user = state.user_of(claims).await?;
            let rotated = rotate(state, claims, now, &new_token_id()).await?;
            signed(tokens, &grant(&user, Some(&rotated))).await
        }
        true => {
            let replacement = new_token_id();
            let (user, rotated) = tokio::join!(
                async { state.user_of(claims).await.map_err(ApiError::from) },
                rotate(state, claims, now, &replacement)
            );
            let (user, rotated) = side_by_side(user, rotated)?;
            signed(tokens, &grant(&user, Some(&rotated))).await
        }
    }
}

/// The tokens of `grant`, signed.
async fn signed(tokens: &TokenService, grant: &Grant<'_>) -> Result<GrantedTokens, ApiError> {
    tokens
        .grant(grant)
        .await
        .map_err(|error| ApiError::Signing(ErrorKey::Msg, error))
}

/// Spends the presented refresh token for `replacement`, or ends the session on a replay: the
/// id of the refresh token to issue (`replacement`, or within the grace the one a first use
/// of the presented token recorded).
async fn rotate(
    state: &AppState,
    claims: &VerifiedClaims,
    now: i64,
    replacement: &str,
) -> Result<String, ApiError> {
    // A refresh token without an id cannot be spent, so it cannot rotate.
    let presented = claims
        .jti
        .as_deref()
        .ok_or(ApiError::Token(TokenError::MissingClaim("jti")))?;
    let session = claims.session_id().unwrap_or(presented);
    let grace = state.rotation().grace.as_secs() as i64;
    let rotation = Rotation {
        session,
        presented,
        replacement,
        now,
        grace_since: (grace > 0).then(|| now - grace),
        record_until: state.tokens().session_record_until(claims),
    };
    match state
        .sessions()
        .rotate(&rotation)
        .await
        .map_err(|error| ApiError::Store(ErrorKey::Msg, error))?
    {
        RotationOutcome::Rotated(refresh_jti) => Ok(refresh_jti),
        RotationOutcome::Reused => {
            // Ids only: never a token.
            tracing::warn!(
                user = %claims.subject,
                session,
                "a spent refresh token was presented again: the session is revoked"
            );
            Err(ApiError::Replayed)
        }
        RotationOutcome::Revoked => Err(ApiError::Revoked),
    }
}

/// The lookup and the rotation, made side by side, as one answer. A replay is the answer even
/// when the lookup beside it already saw the session the replay ended (DynamoDB may serve the
/// read after the rotation's write): one replay, one answer, one event.
fn side_by_side(
    user: Result<User, ApiError>,
    rotated: Result<String, ApiError>,
) -> Result<(User, String), ApiError> {
    match (user, rotated) {
        (_, Err(ApiError::Replayed)) => Err(ApiError::Replayed),
        (user, rotated) => Ok((user?, rotated?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_the_answer_even_when_the_lookup_saw_the_session_it_ended() {
        let answer = side_by_side(Err(ApiError::Revoked), Err(ApiError::Replayed));
        assert!(matches!(answer, Err(ApiError::Replayed)), "{answer:?}");
    }

    #[test]
    fn a_refused_lookup_is_the_answer_when_the_rotation_was_no_replay() {
        let answer = side_by_side(Err(ApiError::Revoked), Ok("next".to_owned()));
        assert!(matches!(answer, Err(ApiError::Revoked)), "{answer:?}");
        let answer = side_by_side(Err(ApiError::DisabledUser), Err(ApiError::Revoked));
        assert!(matches!(answer, Err(ApiError::DisabledUser)), "{answer:?}");
    }
}

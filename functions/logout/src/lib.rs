//! `POST /logout`: ends what the request holds. An access token (as the bearer) is revoked; a
//! refresh token (in the body as `{"refresh_token": ...}`, or as the bearer) is revoked with its
//! whole session, so that the access tokens it bought stop working too. Both may come at once.
//!
//! As RFC 7009 section 2.2 has it, revoking a token that is already invalid is not an error:
//! a token that has expired or is revoked already revokes what of it can still be used (an
//! expired refresh token still ends its session, whose other tokens may live on), and the
//! answer is 200. So a client idle past its access token's life logs out with it, and a second
//! logout, or the retry of one that failed half way, answers 200 and completes it. A token
//! that is not ours (malformed, forged, of another algorithm, of the wrong kind in the body)
//! is refused with flask-jwt-extended's error, and then nothing is revoked.
//!
//! In cookie mode (`JWT_TOKEN_LOCATION`) the tokens come in their cookies, with the
//! `X-CSRF-TOKEN` of the first; a cookie access token ends its whole session too (the answer
//! clears every cookie, so the browser keeps nothing of it), which is what a user who logs out
//! of a page means, and what keeps a refresh cookie, scoped to `/refresh` and so never sent
//! here, from outliving the logout.
//!
//! `?scope=` (Supabase Auth's names) says how much of the user's sign-in ends: `local` (the
//! default) is the above; `others` ends every other session of the user and keeps the caller's
//! (its cookies too); `global` ends every session of the user, the caller's with what `local`
//! ends. The two that reach beyond the request need its tokens live, as `/profile` does (an
//! expired, revoked or refused token is answered as there, and ends nothing): an expired
//! token's holder proves no more than that they once were signed in. An unknown scope is a
//! `400` before anything is read or revoked.
//!
//! A logout goes to its user's activity log when it ends something still in force: a token or
//! a session revoked or expired already, which a logout answers 200 all the same and anyone
//! holding an old one may send for ever, is read first (one batch a token) and not logged.

use auth_core::{
    AppState,
    activity::{ActivityEvent, ActivityOutcome},
    claims::TokenKind,
    logout_schema::{self, LogoutScope},
    lookup::{TokenQuery, TokenRecords},
    metrics::Event,
    sessions::{MAX_PAGE_SIZE, live_sessions_page},
    settings::browser::{BrowserSettings, TokenLocation},
    store::StoreError,
    tokens::{CheckedToken, TokenError},
};
use auth_http::{
    ApiError, ErrorKey,
    bearer::{AuthHeaderError, bearer_token},
    body::json_body,
    client::activity_of,
    cookies::{ACCESS_COOKIE, CookieWriter, request_cookie, token_cookie},
    csrf::{CsrfError, check_csrf, csrf_proof},
    grant::session_record_until,
    issuer::tokens_for,
    json_response,
    presented::{NoToken, NotPresented, no_token},
    query, respond,
};
use futures_util::{
    StreamExt,
    future::{join_all, try_join_all},
    stream,
};
use lambda_http::{
    Body, Error, Request, Response,
    http::{StatusCode, header::AUTHORIZATION},
};
use serde_json::json;

pub const LOGGED_OUT: &str = "Successfully logged out";

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Msg, logout(state, &request)).await
}

async fn logout(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let browser = state.browser();
    let scope = query::single(request, logout_schema::SCOPE, logout_schema::REPEATED_SCOPE)?;
    let scope = LogoutScope::of_query(scope.as_deref())
        .ok_or(ApiError::InvalidQuery(logout_schema::INVALID_SCOPE))?;
    match end_what_the_request_holds(state, request, scope).await {
        // In cookie mode, cookies that hold no token we can use (none, garbage, signed with a
        // retired key, one without a CSRF claim that no request can ever prove) are cleared all
        // the same, with the refusal: else the browser keeps them, and every later logout fails
        // as this one did. Never on a missing or wrong CSRF value, which is how another site's
        // request ends, nor on a store failure, which a retry completes; nor on an expired
        // token refused by a scope that needs a live one: a refresh makes it live again.
        Err(
            error
            @ (ApiError::Token(_) | ApiError::NoToken(_) | ApiError::Csrf(CsrfError::NoClaim)),
        ) if browser.uses_cookies() && !is_expired(&error) => {
            let mut response = error.into_response();
            CookieWriter::for_request(request, &browser.cookies).clear_all(&mut response);
            Ok(response)
        }
        ended => ended,
    }
}

fn is_expired(error: &ApiError) -> bool {
    matches!(error, ApiError::Token(error) if error.is_expired())
}

async fn end_what_the_request_holds(
    state: &AppState,
    request: &Request,
    scope: LogoutScope,
) -> Result<Response<Body>, ApiError> {
    let browser = state.browser();
    let (presented, missing) = presented_tokens(request, browser)?;
    let body_token = if has_body(request) {
        logout_schema::validate(&json_body(request)?).map_err(ApiError::Validation)?
    } else {
        None
    };
    if presented.is_empty() && body_token.is_none() {
        return Err(no_token(browser, missing).into());
    }
    // Asked before any token is read, as flask-jwt-extended asks.
    let csrf_sent = match presented.iter().any(|token| token.from_cookie) {
        true => csrf_proof(request, browser)?,
        false => None,
    };
    // Every token is checked before anything is revoked: a bad one revokes nothing.
    let now = state.clock().now().as_secs_f64();
    let tokens = tokens_for(state, request, ErrorKey::Msg)?;
    let mut signed = Vec::new();
    for token in &presented {
        signed.push(tokens.check_revocable_at(&token.token, None, now)?);
    }
    // One X-CSRF-TOKEN proves the request: the value of the first cookie token's CSRF cookie
    // (the access token's when it came), which only a page of the API's own site can read.
    // Compared before the kinds, as flask-jwt-extended compares it.
    if let Some(cookie_token) = presented
        .iter()
        .zip(&signed)
        .find_map(|(token, checked)| token.from_cookie.then_some(checked))
    {
        check_csrf(&cookie_token.claims, csrf_sent.as_deref())?;
    }
    let mut checked = Vec::new();
    for (token, revocable) in presented.iter().zip(signed) {
        checked.push((revocable.of_kind(token.kind)?, token.from_cookie));
    }
    if let Some(token) = &body_token {
        let revocable = tokens.check_revocable_at(token, Some(TokenKind::Refresh), now)?;
        checked.push((revocable, false));
    }
    let mut revocations = Vec::new();
    if scope != LogoutScope::Others {
        for (token, from_cookie) in &checked {
            // A cookie token ends its whole session: its cookies are cleared by this very
            // answer, so nothing of the session is left for the browser to use, and a copy of
            // the refresh cookie (which the browser does not even send here) must not outlive
            // the logout.
            let ends_session = *from_cookie || token.claims.kind == TokenKind::Refresh;
            for revocation in revocations_of(state, token, ends_session)? {
                if !revocations.contains(&revocation) {
                    revocations.push(revocation);
                }
            }
        }
    }
    // Which of the tokens still had something to end, read before anything is revoked. A
    // token that is revoked or expired already is answered 200 all the same (RFC 7009), and
    // anyone who holds an old one may send it again and again: a logout is written to its
    // user's log only when it ends something live, else each replay would add an entry, with
    // no end. `others` and `global` refuse a token that is not live (`sessions_beyond`).
    let live = match scope {
        LogoutScope::Local => still_live(state, &checked).await,
        LogoutScope::Others | LogoutScope::Global => vec![true; checked.len()],
    };
    // Read in full before anything is revoked: a refused token ends nothing.
    if scope.reaches_other_sessions() {
        let callers: Vec<&CheckedToken> = checked.iter().map(|(token, _)| token).collect();
        for ended in sessions_beyond(state, &callers, scope).await? {
            // A session the request's own tokens end already (`global`) is ended once.
            let known = revocations.iter().any(|revocation| {
                matches!(
                    (revocation, &ended),
                    (Revocation::Session { id, .. }, Revocation::Session { id: listed, .. })
                        if id == listed
                )
            });
            if !known {
                revocations.push(ended);
            }
        }
    }
    // Each revocation can be made again without harm, so they go at once (a bounded number at
    // a time: a user may have many sessions), each is made even if another fails (as much is
    // ended as the store allows), and a retry completes what a failure left undone.
    // Collected first: over a mapping closure, rustc cannot prove the stream `Send` for every
    // lifetime, which the boxed handler needs (a known limit of its higher-ranked checks).
    let pending: Vec<_> = revocations
        .iter()
        .map(|revocation| revoke(state, revocation))
        .collect();
    let results: Vec<Result<(), StoreError>> = stream::iter(pending)
        .buffer_unordered(REVOCATIONS_AT_ONCE)
        .collect()
        .await;
    for result in results {
        result.map_err(|error| ApiError::Store(ErrorKey::Msg, error))?;
    }
    state.record(Event::Logout);
    // One entry for each user whose tokens the request held (it may hold two users'), with the
    // session of the first of them.
    let mut logged: Vec<&str> = Vec::new();
    for ((token, _), _) in checked.iter().zip(&live).filter(|(_, live)| **live) {
        let claims = &token.claims;
        if logged.contains(&claims.subject.as_str()) {
            continue;
        }
        logged.push(&claims.subject);
        let activity = activity_of(request)
            .detail(scope.name())
            .session(claims.session_id());
        state.activity().record(
            &claims.subject,
            ActivityEvent::Logout,
            ActivityOutcome::Succeeded,
            activity,
        );
    }
    let mut response = json_response(StatusCode::OK, &json!({"msg": LOGGED_OUT}));
    // The caller's session lives on after `others`: its cookies stay.
    if browser.uses_cookies() && scope != LogoutScope::Others {
        CookieWriter::for_request(request, &browser.cookies).clear_all(&mut response);
    }
    Ok(response)
}

/// Revocations made at once.
const REVOCATIONS_AT_ONCE: usize = 16;

/// For each of `checked` (a token, and whether it came in a cookie), whether a local logout of
/// it ends something still in force: the token itself (not expired, not revoked), or the
/// session it ends (not revoked), of a user that exists (only a user that exists has a log).
/// Read as `/profile` reads a token, one batch each (the function's policy allows it for the
/// scopes already); the session only when the token is not in force. A token whose records
/// cannot be read counts as live: a real logout's entry is not lost to a failed read.
async fn still_live(state: &AppState, checked: &[(CheckedToken, bool)]) -> Vec<bool> {
    let reads = checked.iter().map(|(token, from_cookie)| async move {
        let ends_session = *from_cookie || token.claims.kind == TokenKind::Refresh;
        let revocations = revocations_of(state, token, ends_session).unwrap_or_default();
        let claims = &token.claims;
        let ends_token = revocations
            .iter()
            .any(|revocation| matches!(revocation, Revocation::Token { .. }));
        if ends_token && in_force(state, &claims.subject, claims.jti.as_deref(), None).await {
            return true;
        }
        let ends_its_session = revocations
            .iter()
            .any(|revocation| matches!(revocation, Revocation::Session { .. }));
        ends_its_session && in_force(state, &claims.subject, None, claims.session_id()).await
    });
    join_all(reads).await
}

/// Whether the token `jti`, or the session `session`, of `username` is in force: not revoked,
/// of a user that exists; in force when it cannot be read.
async fn in_force(
    state: &AppState,
    username: &str,
    jti: Option<&str>,
    session: Option<&str>,
) -> bool {
    let query = TokenQuery {
        username,
        jti,
        session,
        now: state.clock().unix_secs(),
    };
    match state.lookup().look_up(&query).await {
        Ok(TokenRecords::Revoked) => false,
        Ok(TokenRecords::Live(user)) => user.is_some(),
        Err(_) => true,
    }
}

/// The revocations of the sessions `scope` ends beyond what the request holds: every live session of the users
/// of `callers` (the request's tokens), listed page after page, but for `Others` the ones
/// `callers` are of. Each token must be live, and pass the lookup as at `/profile` (not
/// revoked, its user there, enabled, and not signed out since): it is refused otherwise, as
/// there, and nothing is ended.
async fn sessions_beyond(
    state: &AppState,
    callers: &[&CheckedToken],
    scope: LogoutScope,
) -> Result<Vec<Revocation>, ApiError> {
    if callers.iter().any(|token| token.expired) {
        return Err(ApiError::Token(TokenError::Expired));
    }
    let users = try_join_all(
        callers
            .iter()
            .map(|token| async { state.user_of(&token.claims).await.map_err(ApiError::from) }),
    )
    .await?;
    let kept: Vec<&str> = match scope {
        LogoutScope::Others => callers
            .iter()
            .filter_map(|token| token.claims.session_id())
            .collect(),
        LogoutScope::Local | LogoutScope::Global => Vec::new(),
    };
    let tokens = state.tokens();
    let now = state.clock().unix_secs();
    // A session whose refresh token has expired is no longer listed at `now`, yet the access
    // token its last refresh bought lives on for an access token's life: the sessions are read
    // as of that long ago, so that none with a token still good is left out.
    let access_life = tokens.expiry(TokenKind::Access, 0, None);
    let listed_at = now.saturating_sub(access_life);
    let mut ended = Vec::new();
    let mut listed: Vec<&str> = Vec::new();
    for user in &users {
        if listed.contains(&user.username.as_str()) {
            continue;
        }
        listed.push(&user.username);
        let mut after = None;
        loop {
            // As `GET /sessions` lists them: the session a password change kept included,
            // else `others` or `global` from a later session would leave it alive.
            let page = live_sessions_page(
                state.sessions(),
                user,
                listed_at,
                MAX_PAGE_SIZE,
                after.as_ref(),
            )
            .await
            .map_err(|error| ApiError::Store(ErrorKey::Msg, error))?;
            ended.extend(
                page.sessions
                    .into_iter()
                    .filter(|session| !kept.contains(&session.id.as_str()))
                    .map(|session| Revocation::Session {
                        record_until: session_record_until(tokens, session.started_at),
                        id: session.id,
                    }),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(ended)
}

/// A token the request presents in a place `JWT_TOKEN_LOCATION` names.
struct Presented {
    token: String,
    /// The kind it must be: a bearer may be either; each cookie holds its own kind.
    kind: Option<TokenKind>,
    from_cookie: bool,
}

/// Every token of the configured places, and what each place without one says. A bearer
/// that is there must be well-formed: a bad `Authorization` header revokes nothing.
fn presented_tokens(
    request: &Request,
    browser: &BrowserSettings,
) -> Result<(Vec<Presented>, Vec<NotPresented>), ApiError> {
    let (mut presented, mut missing) = (Vec::new(), Vec::new());
    for location in browser.token_locations.iter() {
        match location {
            TokenLocation::Headers => match request.headers().get(AUTHORIZATION) {
                None => missing.push(AuthHeaderError::Missing.into()),
                Some(_) => presented.push(Presented {
                    token: bearer_token(request.headers())?,
                    kind: None,
                    from_cookie: false,
                }),
            },
            TokenLocation::Cookies => {
                let before = presented.len();
                for kind in [TokenKind::Access, TokenKind::Refresh] {
                    if let Some(token) = request_cookie(request.headers(), token_cookie(kind)) {
                        presented.push(Presented {
                            token,
                            kind: Some(kind),
                            from_cookie: true,
                        });
                    }
                }
                if presented.len() == before {
                    missing.push(NotPresented::Missing(NoToken(format!(
                        "Missing cookie \"{ACCESS_COOKIE}\""
                    ))));
                }
            }
        }
    }
    Ok((presented, missing))
}

/// One record that ends what a token can still do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Revocation {
    /// The token `jti`, until its `exp`.
    Token { jti: String, expires_at: i64 },
    /// Every token of `session`, whose record lasts until `record_until`.
    Session { id: String, record_until: i64 },
}

/// What of `token` can still be used, and so is to be revoked: the token itself until it
/// expires, and when it `ends_session` its session as long as any token of it may live.
fn revocations_of(
    state: &AppState,
    token: &CheckedToken,
    ends_session: bool,
) -> Result<Vec<Revocation>, ApiError> {
    let claims = &token.claims;
    let now = state.clock().unix_secs();
    let mut revocations = Vec::new();
    if !token.expired {
        // Revocation is by id; a live token without one cannot be told apart from others.
        let jti = claims
            .jti
            .clone()
            .ok_or(ApiError::Token(TokenError::MissingClaim("jti")))?;
        revocations.push(Revocation::Token {
            jti,
            expires_at: claims.expires_at,
        });
    }
    if ends_session {
        let record_until = state.tokens().session_record_until(claims);
        if let Some(id) = claims.session_id()
            && record_until > now
        {
            revocations.push(Revocation::Session {
                id: id.to_owned(),
                record_until,
            });
        }
    }
    Ok(revocations)
}

async fn revoke(state: &AppState, revocation: &Revocation) -> Result<(), StoreError> {
    let now = state.clock().unix_secs();
    match revocation {
        Revocation::Token { jti, expires_at } => {
            state.sessions().revoke_token(jti, *expires_at, now).await
        }
        Revocation::Session { id, record_until } => {
            state
                .sessions()
                .revoke_session(id, *record_until, now)
                .await
        }
    }
}

fn has_body(request: &Request) -> bool {
    match request.body() {
        Body::Empty => false,
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.trim_ascii().is_empty(),
        _ => true,
    }
}

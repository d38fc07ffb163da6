//! `POST /login`: username and password in, an access and a refresh token out, both of a new
//! session: in the JSON body, and in cookie mode (`JWT_TOKEN_LOCATION`) in HttpOnly cookies
//! with their CSRF cookies, as flask-jwt-extended's `set_access_cookies` and
//! `set_refresh_cookies` set them. With cookies only, the body carries no token at all: no
//! script of the page can read one.
//!
//! The session is recorded (`auth_http::grant::start_session`: when, from where, how it signed
//! in) before any token of it is handed over, and each outcome of a user that exists goes to
//! their activity log, without waiting for the write.

use std::time::Duration;

use auth_core::{
    AppState,
    accounts::ip_limit::LimitedRoute,
    activity::{Activity, ActivityEvent, ActivityOutcome, detail},
    claims::AuthMethods,
    device_proof::DeviceProof,
    login_schema::{self, Credentials},
    login_throttle::Admission,
    metrics::Event,
    sessions::{AttemptBucket, AttemptOutcome},
    tokens::new_token_id,
    users::{self, User},
};
use auth_http::{
    ApiError, ErrorKey,
    body::{declared_json_body, json_body},
    client::activity_of,
    deadline, device_proof,
    errors::MFA_REQUIRED,
    grant::{
        granted_response, login_delivery, sign_session, start_session, wait_until_tokens_are_valid,
    },
    ip_limit,
    issuer::tokens_for,
    json_response, respond,
};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;

/// The body of a login whose tokens went into cookies only (a confirmed sign-up's too).
pub use auth_http::grant::LOGIN_SUCCESSFUL;

/// What a login keeps of its request's budget for its own password check and answer when it
/// waits for checks in flight ahead of it (`LoginThrottle::admit`).
const KEPT_FOR_THE_CHECK: Duration = Duration::from_secs(2);

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, login(state, &request)).await
}

async fn login(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let tokens = tokens_for(state, request, ErrorKey::Error)?;
    let browser = state.browser();
    // Cookie mode's login sets the session cookies: its body must be declared JSON (login CSRF).
    let body = match browser.uses_cookies() {
        true => declared_json_body(request)?,
        false => json_body(request)?,
    };
    let credentials = login_schema::validate(&body).map_err(ApiError::Validation)?;
    // A client that shows a proof of an earlier login as this user keeps its own allowance:
    // strangers' failures against the username do not lock it out. Any other proof (another
    // user's, forged, expired) counts as none.
    let proof = device_proof::presented(request, browser.uses_cookies()).and_then(|proof| {
        auth_core::device_proof::check(
            &tokens,
            &proof,
            &credentials.username,
            state.clock().unix_secs(),
        )
    });
    let Proven {
        user,
        device,
        admission,
    } = authenticate(state, request, &credentials, proof.as_ref()).await?;
    let log = |outcome, detail, session: Option<&str>| {
        let activity = Activity {
            detail,
            ..activity_of(request).session(session)
        };
        state
            .activity()
            .record(&user.username, ActivityEvent::Login, outcome, activity);
    };
    // Told only to whoever knows the password: no tokens until the mailed link is opened.
    if user.account.unconfirmed {
        settle(admission, AttemptOutcome::Succeeded).await;
        log(
            ActivityOutcome::Failed,
            Some(detail::EMAIL_NOT_CONFIRMED),
            None,
        );
        return Err(ApiError::EmailNotConfirmed);
    }
    // No token before the second factor: a token for `/login/mfa` alone, of this second (one
    // of the second the factor was confirmed in would be ended by it).
    if user.account.mfa.is_on() {
        settle(admission, AttemptOutcome::Succeeded).await;
        let now = wait_until_tokens_are_valid(state.clock(), &user).await;
        let source_ip = ip_limit::source_ip(request);
        let mfa_token = auth_mfa::challenge::begin(state, &user, source_ip, now)
            .await
            .map_err(|error| ApiError::Mfa(ErrorKey::Error, error))?;
        log(
            ActivityOutcome::Succeeded,
            Some(detail::SECOND_FACTOR_REQUIRED),
            None,
        );
        return Ok(json_response(
            StatusCode::FORBIDDEN,
            &json!({"error": MFA_REQUIRED, "mfa_token": mfa_token}),
        ));
    }

    let now = wait_until_tokens_are_valid(state.clock(), &user).await;
    // The session's record goes beside the settlement: no round trip of its own. Without it
    // there are no tokens (a session its user could neither see nor end).
    let session_id = new_token_id();
    let methods = AuthMethods::Password;
    let ((), started) = tokio::join!(
        settle(admission, AttemptOutcome::Succeeded),
        start_session(state, request, &user, &session_id, methods, now)
    );
    started.map_err(|error| ApiError::Store(ErrorKey::Error, error))?;
    // Signed side by side: with a key in KMS, each signature is a request.
    let (granted, proof) = tokio::join!(
        sign_session(&tokens, browser, &user, &session_id, methods, now),
        auth_core::device_proof::issue(&tokens, &user.username, device.as_deref(), now)
    );
    let granted = granted.map_err(|error| ApiError::Signing(ErrorKey::Error, error))?;
    let delivery = login_delivery(browser);
    let (in_header, in_cookies) = (delivery.in_body, delivery.in_cookies);
    let mut response = granted_response(request, &granted, delivery);
    // Renewed at every login (the same device when it showed a current proof), so a device
    // that logs in at least every 90 days keeps its allowance. With cookies only, the proof
    // travels in its HttpOnly cookie alone: no script of the page reads it from a header.
    match proof {
        Ok(issued) => device_proof::deliver(request, &mut response, &issued, in_header, in_cookies),
        // The tokens are issued: a client without a proof is throttled per username, as before.
        Err(error) => tracing::error!(%error, "could not sign a device proof"),
    }
    state.record(Event::LoginSucceeded);
    log(ActivityOutcome::Succeeded, None, Some(&session_id));
    Ok(response)
}

/// A user whose password a login proved, with the device of its proof when current, and the
/// place its attempt holds, for the caller to settle with what follows (the session's start
/// goes beside the settlement).
struct Proven {
    user: User,
    device: Option<String>,
    admission: Option<Admission>,
}

/// Settles a login attempt's place, if it holds one. The answer stands whatever the store says:
/// an unsettled place stays taken until it goes stale (`MAX_PLACE_HOLD_SECS` after the
/// window's last), one attempt less meanwhile.
async fn settle(admission: Option<Admission>, outcome: AttemptOutcome) {
    if let Some(admission) = admission
        && let Err(error) = admission.settle(outcome).await
    {
        tracing::error!(%error, ?outcome, "could not settle a login attempt");
    }
}

/// The user `credentials` prove, with the device of `proof` when it is current for the user,
/// its password checked under the login throttle: in the device's own bucket then, else the
/// username's. A proof is current only if younger than the user's last password change (one
/// collected with a password since changed proves nothing), so a proof-bearing login reads the
/// user first; any other takes its place and reads the user at once, in one round trip (a
/// refused login's read is thrown away, its password never checked). A refused attempt is
/// settled here and, for a user that exists, written to their activity log; a proven one is
/// left for the caller to settle.
async fn authenticate(
    state: &AppState,
    request: &Request,
    credentials: &Credentials,
    proof: Option<&DeviceProof>,
) -> Result<Proven, ApiError> {
    let throttle = state.login_throttle();
    let wait_limit =
        deadline::budget(request, state.request_budget()).saturating_sub(KEPT_FOR_THE_CHECK);
    let username = AttemptBucket::Username(&credentials.username);
    // The per-address count goes beside the first store request, not before it: no round trip
    // of its own, and still before any password is checked.
    let per_address = ip_limit::admit(state, request, LimitedRoute::Login, ErrorKey::Error);
    let (admitted, found, device) = match proof {
        None => {
            let (per_address, admitted, found) = tokio::join!(
                per_address,
                throttle.admit(username, state.clock(), wait_limit),
                state.users().find(&credentials.username)
            );
            if let Err(refused) = per_address {
                if let Ok(Some(admission)) = admitted {
                    settle(Some(admission), AttemptOutcome::Unchecked).await;
                }
                return Err(refused);
            }
            (admitted, found, None)
        }
        Some(proof) => {
            let (per_address, found) =
                tokio::join!(per_address, state.users().find(&credentials.username));
            per_address?;
            let current = matches!(&found, Ok(Some(user)) if !user.outlived(Some(proof.issued_at)));
            let device = current.then(|| proof.device.clone());
            let bucket = match &device {
                Some(device) => AttemptBucket::Device(device),
                None => username,
            };
            let admitted = throttle.admit(bucket, state.clock(), wait_limit).await;
            (admitted, found, device)
        }
    };
    // Refusals while locked are not logged one by one: anyone could fill a user's log with
    // them. The failure that locked is (below).
    let admission = admitted?;
    let found = found.map_err(|error| ApiError::Store(ErrorKey::Error, error));
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            settle(admission, AttemptOutcome::Unchecked).await;
            return Err(error);
        }
    };
    // The user was read beside the throttle: whether they exist is known without a read more,
    // and only a user that exists has a log (never an entry for an arbitrary name). What a
    // refusal tells the user's log: the check does not say why it refused a disabled
    // user, so their entry says no more than that it failed.
    let refused_because = found.as_ref().map(|user| {
        let detail = (!user.disabled).then_some(detail::WRONG_PASSWORD);
        (user.username.clone(), detail)
    });
    match users::check_password(state.passwords(), found, &credentials.password).await {
        Some(user) => Ok(Proven {
            user,
            device,
            admission,
        }),
        None => {
            let locks = admission
                .as_ref()
                .is_some_and(|admission| throttle.failure_would_lock(admission));
            settle(admission, AttemptOutcome::Failed).await;
            if let Some((username, detail)) = refused_because {
                let activity = Activity {
                    detail,
                    ..activity_of(request)
                };
                state.activity().record(
                    &username,
                    ActivityEvent::Login,
                    ActivityOutcome::Failed,
                    activity,
                );
                if locks {
                    state.activity().record(
                        &username,
                        ActivityEvent::Login,
                        ActivityOutcome::Blocked,
                        activity_of(request).detail(detail::TOO_MANY_ATTEMPTS),
                    );
                }
            }
            Err(ApiError::BadCredentials)
        }
    }
}

//! One deadline per request, over a store that answers every call, slowly: in memory, and
//! DynamoDB on moto behind a proxy that holds each request. Past the deadline the answer is
//! 503 JSON with `Retry-After` (not Lambda's bare timeout), and a retry with time enough
//! completes what the first attempt left, whatever of it reached the store.
//!
//! Each request comes as Lambda delivers it, with the invocation's deadline, so the budget is
//! the one the functions compute. The bounds on how long an answer took are generous: they
//! tell a deadline that works from one that does not (a request that runs to the end of the
//! slow store), never how fast the machine is.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::common::{
    Backend, PASSWORD, Reply, Service, Setup, assert_logged_out, assert_revoked, token,
};
use lambda_http::http::StatusCode;
use serde_json::json;

over_both_stores!(
    a_login_past_its_deadline_is_503_and_a_retry_logs_in,
    a_profile_past_its_deadline_is_503_and_a_retry_answers,
    a_logout_past_its_deadline_is_503_and_a_retry_completes_it,
    a_rotation_past_its_deadline_is_retried_within_the_grace,
    a_flood_of_logins_waits_for_the_password_workers_then_gets_503,
);

/// Every store call takes this long.
const SLOW: Duration = Duration::from_millis(300);

async fn slow_service(backend: Backend, overrides: &[(&str, &str)]) -> Service {
    Service::with(
        backend,
        Setup {
            overrides,
            store_delay: Some(SLOW),
            ..Setup::default()
        },
    )
    .await
}

fn assert_unavailable(reply: &Reply, key: &str, what: &str) {
    assert_eq!(
        (reply.status, &reply.body, reply.retry_after),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({key: "Service unavailable"}),
            Some(2)
        ),
        "{what}"
    );
}

/// `reply` came at about its deadline, `budget` from `started`: long before the slow store
/// would have let the request finish.
fn assert_answered_at_the_deadline(started: Instant, budget: Duration, what: &str) {
    let took = started.elapsed();
    assert!(
        took >= budget && took < budget + Duration::from_millis(900),
        "{what}: answered after {took:?}, with a budget of {budget:?}"
    );
}

async fn a_login_past_its_deadline_is_503_and_a_retry_logs_in(backend: Backend) {
    let service = slow_service(backend, &[]).await;
    // Count the attempt and find the user at once, then clear the count: two round trips.
    let budget = SLOW + SLOW / 2;
    service.set_lambda_budget(budget);
    let started = Instant::now();
    let reply = service.login_as("cosmo", PASSWORD).await;
    assert_unavailable(&reply, "error", "a login past its deadline");
    assert_answered_at_the_deadline(started, budget, "login");
    service.set_lambda_budget(SLOW * 10);
    let (access, _) = service.login().await;
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
}

async fn a_profile_past_its_deadline_is_503_and_a_retry_answers(backend: Backend) {
    let service = slow_service(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let budget = SLOW / 2;
    service.set_lambda_budget(budget);
    let started = Instant::now();
    assert_unavailable(&service.profile(&access).await, "msg", "profile");
    assert_answered_at_the_deadline(started, budget, "profile");
    assert_unavailable(&service.refresh(&refresh).await, "msg", "refresh");
    service.set_lambda_budget(SLOW * 10);
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

async fn a_logout_past_its_deadline_is_503_and_a_retry_completes_it(backend: Backend) {
    let service = slow_service(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let body = json!({"refresh_token": refresh});
    service.set_lambda_budget(SLOW / 2);
    let reply = service.logout(Some(&access), Some(body.clone())).await;
    assert_unavailable(&reply, "msg", "logout");
    // Whatever of it reached the store, the retry finishes it.
    service.set_lambda_budget(SLOW * 10);
    assert_logged_out(&service.logout(Some(&access), Some(body)).await, "retry");
    assert_revoked(&service.profile(&access).await, "the access token");
    assert_revoked(&service.refresh(&refresh).await, "the refresh token");
}

/// With rotation, a refresh stopped at its deadline may have spent its token in the store
/// (DynamoDB applies a write whose answer never came back): the client's retry then presents
/// a spent token, which the grace lets through instead of ending the session.
async fn a_rotation_past_its_deadline_is_retried_within_the_grace(backend: Backend) {
    let rotation = [
        ("JWT_REFRESH_TOKEN_ROTATION", "true"),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "30s"),
    ];
    let service = slow_service(backend, &rotation).await;
    let (_, refresh) = service.login().await;
    // The reads and the rotation go at once: stopped before their answers come, after the
    // rotation's write was sent.
    service.set_lambda_budget(SLOW / 2);
    assert_unavailable(&service.refresh(&refresh).await, "msg", "refresh");
    // Let a write the proxy still holds reach the store before the retry.
    tokio::time::sleep(SLOW).await;
    service.set_lambda_budget(SLOW * 10);
    let retried = service.refresh(&refresh).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let current = token(&retried, "refresh_token");
    assert_eq!(service.refresh(&current).await.status, StatusCode::OK);
}

/// More logins at once than there are workers to check passwords: they wait their turn, and
/// those whose deadline passes first get 503, never an answer after the deadline. (That the
/// workers bound the checks at once is `passwords`' unit tests' to prove.)
async fn a_flood_of_logins_waits_for_the_password_workers_then_gets_503(backend: Backend) {
    let service = Service::with(
        backend,
        Setup {
            overrides: &[("LOGIN_MAX_FAILURES", "0")],
            password_workers: Some(1),
            ..Setup::default()
        },
    )
    .await;
    let service = Arc::new(service);
    service.login().await; // the user's first login waits for its account's first second
    // One worker, 64 logins of at least 20 ms of Argon2 each: 1.3 s of work at the very
    // least, for a budget of 800 ms. The first fit; the last cannot.
    service.set_lambda_budget(Duration::from_millis(800));
    let flood: Vec<_> = (0..64)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                (service.login_as("cosmo", PASSWORD).await, started)
            })
        })
        .collect();
    let (mut ok, mut unavailable) = (0, 0);
    for login in flood {
        let (reply, started) = login.await.unwrap();
        match reply.status {
            StatusCode::OK => ok += 1,
            _ => {
                assert_unavailable(&reply, "error", "a login of the flood");
                // Never after the deadline (with the margin for a loaded machine that
                // assert_answered_at_the_deadline allows; the deadline itself is whole ms).
                let took = started.elapsed();
                assert!(
                    took < Duration::from_millis(800 + 900),
                    "a login of the flood answered 503 after {took:?}"
                );
                unavailable += 1;
            }
        }
    }
    assert!(
        ok >= 1 && unavailable >= 1,
        "{ok} logged in and {unavailable} got 503"
    );
    service.set_lambda_budget(Duration::from_secs(10));
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::OK,
        "the workers are free again"
    );
}

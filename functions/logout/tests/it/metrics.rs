//! A logout that ended what it was given counts as one `logout`; one that was refused counts
//! nothing. The line carries neither the token nor the user.

use auth_core::{claims::TokenKind, metrics::Function};
use auth_testkit::{IssueNow, bearer_request, captured_metrics, metric_events, state_builder};
use lambda_http::http::StatusCode;

#[tokio::test]
async fn a_logout_counts_once_and_a_refused_one_not_at_all() {
    let (metrics, log) = captured_metrics(Function::Logout);
    let state = state_builder(&[]).metrics(metrics).build().unwrap();
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", false)
        .unwrap();

    let ok = logout::handle(&state, bearer_request("POST", "/logout", &token))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = logout::handle(&state, bearer_request("POST", "/logout", "not-a-token"))
        .await
        .unwrap();
    assert!(refused.status().is_client_error());

    assert_eq!(
        metric_events(&log),
        [("logout".to_owned(), "logout".to_owned())]
    );
    let lines = log.contents();
    assert!(
        !lines.contains(&token) && !lines.contains("cosmo"),
        "{lines}"
    );
}

/// The scopes that end other sessions look the token up, as `/profile` does: a revoked one is
/// counted as presented, and ends nothing.
#[tokio::test]
async fn a_revoked_token_refused_by_a_wider_scope_counts_as_presented() {
    let (metrics, log) = captured_metrics(Function::Logout);
    let state = state_builder(&[]).metrics(metrics).build().unwrap();
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", false)
        .unwrap();
    let logout = |path: &'static str| logout::handle(&state, bearer_request("POST", path, &token));
    assert_eq!(logout("/logout").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        logout("/logout?scope=others").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        metric_events(&log),
        [
            ("logout".to_owned(), "logout".to_owned()),
            ("logout".to_owned(), "revoked_token_presented".to_owned())
        ]
    );
}

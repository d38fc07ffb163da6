//! A logout that ended what it was given counts as one `logout`; one that was refused counts
//! nothing. The line carries neither the token nor the user.

use lambda_http::http::StatusCode;
use shared::{
    claims::TokenKind,
    metrics::{Function, Metrics},
    testing::{bearer_request, metric_events, state},
};

#[tokio::test]
async fn a_logout_counts_once_and_a_refused_one_not_at_all() {
    let mut state = state();
    let (metrics, log) = Metrics::captured(Function::Logout);
    state.metrics = metrics;
    let token = state
        .tokens
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

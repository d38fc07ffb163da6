//! One deadline per request. In Lambda it is the invocation's own deadline (the function's
//! timeout) less a margin to send the answer; elsewhere (the local server, tests) a fixed
//! budget. Past it, the request stops where it is and answers 503 with `Retry-After`, rather
//! than let Lambda kill it and API Gateway answer a bare error. Every write a handler makes is
//! one a retry can finish (idempotent, or conditional on the state it moves from), so a
//! request stopped between two writes leaves nothing a retry cannot complete.

use std::{
    future::Future,
    time::{Duration, SystemTime},
};

use lambda_http::{Request, RequestExt};

/// Kept back from Lambda's deadline to send the answer (to the Runtime API), the margin the
/// local server's budget keeps too.
pub const LAMBDA_MARGIN: Duration = auth_core::state::ANSWER_MARGIN;

/// How long `request` may take: until its Lambda deadline less the margin, or `fallback`.
pub fn budget(request: &Request, fallback: Duration) -> Duration {
    match request.lambda_context_ref() {
        Some(context) if context.deadline > 0 => context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(LAMBDA_MARGIN),
        _ => fallback,
    }
}

/// The deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineExceeded;

/// `work`'s answer, or `DeadlineExceeded` if it takes longer than `budget`.
pub async fn within<T>(
    budget: Duration,
    work: impl Future<Output = T>,
) -> Result<T, DeadlineExceeded> {
    tokio::time::timeout(budget, work)
        .await
        .map_err(|_| DeadlineExceeded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Context;

    fn request_with_deadline(deadline: SystemTime) -> Request {
        let mut context = Context::default();
        context.deadline = deadline
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        auth_testkit::request("GET", "/profile", &[], None).with_lambda_context(context)
    }

    #[test]
    fn in_lambda_the_budget_is_the_invocations_deadline_less_the_margin() {
        let request = request_with_deadline(SystemTime::now() + Duration::from_secs(10));
        let budget = budget(&request, Duration::from_secs(60));
        assert!(
            budget <= Duration::from_secs(10) - LAMBDA_MARGIN,
            "{budget:?}"
        );
        // Less only by the time this test took to get here (a loaded machine may stall a
        // thread that long; a margin taken twice would be 500 ms less).
        assert!(
            budget > Duration::from_secs(10) - LAMBDA_MARGIN - Duration::from_millis(400),
            "{budget:?}"
        );
    }

    #[test]
    fn a_deadline_already_past_leaves_no_budget() {
        let request = request_with_deadline(SystemTime::now() - Duration::from_secs(1));
        assert_eq!(budget(&request, Duration::from_secs(60)), Duration::ZERO);
        let close = request_with_deadline(SystemTime::now() + LAMBDA_MARGIN / 2);
        assert_eq!(budget(&close, Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn without_a_lambda_deadline_the_budget_is_the_fallback() {
        let request = auth_testkit::request("GET", "/profile", &[], None);
        assert_eq!(
            budget(&request, Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        let unset = request.with_lambda_context(Context::default());
        assert_eq!(
            budget(&unset, Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }

    #[tokio::test]
    async fn work_that_outlasts_its_budget_is_stopped() {
        let slow = within(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(slow, Err(DeadlineExceeded));
        let quick = within(Duration::from_secs(60), async { 7 }).await;
        assert_eq!(quick, Ok(7));
    }
}

//! The in-memory stores keep the `MfaStore` and `MfaChallenges` contracts.

use std::sync::Arc;

use auth_core::{sessions::InMemorySessionStore, users::InMemoryUserStore};
use auth_testkit::contract::mfa as contract;

#[tokio::test]
async fn factors() {
    let store = InMemoryUserStore::default();
    contract::an_enrolment_is_confirmed_only_for_the_pending_secret(&store).await;
    contract::each_step_is_spent_once_and_only_after_the_last(&store).await;
    contract::each_recovery_code_is_spent_once(&store).await;
    contract::new_recovery_codes_replace_the_old_on_a_proof(&store).await;
    contract::a_factor_is_removed_only_on_a_proof(&store).await;
}

#[tokio::test]
async fn challenges() {
    let store = InMemorySessionStore::default();
    contract::a_challenge_is_found_until_it_is_taken_once(&store).await;
    contract::wrong_codes_count_up_to_the_limit_and_the_last_kills_it(&store).await;
    contract::a_challenge_past_its_end_is_none(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_codes_and_answers() {
    contract::concurrent_uses_of_one_code_succeed_once(Arc::new(InMemoryUserStore::default()))
        .await;
    contract::concurrent_answers_take_once_and_count_to_the_limit(Arc::new(
        InMemorySessionStore::default(),
    ))
    .await;
}

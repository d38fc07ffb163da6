//! The in-memory session store keeps the `AccountRecords` contract.

use std::sync::Arc;

use auth_core::sessions::InMemorySessionStore;
use auth_testkit::contract::account_records as contract;

#[tokio::test]
async fn mailed_tokens() {
    let store = InMemorySessionStore::default();
    contract::a_mail_token_is_taken_once_and_only_for_its_purpose(&store).await;
    contract::a_mail_token_past_its_end_is_no_token(&store).await;
    contract::a_mail_token_put_again_is_replaced(&store).await;
}

#[tokio::test]
async fn mail_slots_and_request_counts() {
    let store = InMemorySessionStore::default();
    contract::a_mail_slot_is_one_until_its_end_or_its_release(&store).await;
    contract::requests_count_one_by_one_per_key_and_a_past_window_counts_nothing(&store).await;
    contract::a_key_whose_window_ended_counts_from_one_again(&store).await;
    contract::keys_of_every_shape_key_records_of_their_own(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takes_claims_and_counts() {
    let store = Arc::new(InMemorySessionStore::default());
    contract::concurrent_takes_of_one_token_give_it_to_exactly_one(store.clone()).await;
    contract::concurrent_claims_of_one_slot_give_it_to_exactly_one(store.clone()).await;
    contract::concurrent_requests_each_count_once(store).await;
}

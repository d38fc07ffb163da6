//! `DynamoSessionStore` passes the whole `SessionStore` contract against a real
//! DynamoDB-compatible server (moto, from `scripts/test`): conditional writes, atomic counters
//! and TTL items as DynamoDB has them.

use std::sync::Arc;

use auth_testkit::{contract::sessions as contract, fresh_dynamodb_sessions};

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn revocation_of_tokens_and_sessions() {
    let store = fresh_dynamodb_sessions().await;
    contract::revoked_token_is_revoked_and_others_are_not(&store).await;
    contract::revoked_session_revokes_every_token_of_it(&store).await;
    contract::revoking_again_is_revoking_once(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_ends_of_records() {
    let store = fresh_dynamodb_sessions().await;
    contract::records_mean_nothing_from_their_end_on(&store).await;
    contract::every_write_to_a_session_sets_the_end_of_its_record(&store).await;
    contract::a_session_record_past_its_end_does_not_stop_a_rotation(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn rotation_and_reuse_detection() {
    let store = fresh_dynamodb_sessions().await;
    contract::rotation_spends_each_token_once_and_reuse_revokes_the_session(&store).await;
    contract::a_revoked_session_does_not_rotate(&store).await;
    contract::the_same_rotation_made_again_is_no_replay(&store).await;
    contract::within_the_grace_a_spent_token_gets_the_current_one_again(&store).await;
    contract::after_the_grace_a_spent_token_is_a_replay(&store).await;
}

/// Empty, NUL, non-BMP and overlong ids, which DynamoDB refuses as keys (or would), key
/// records of their own as they do in memory: never a refused call, never a 503.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn ids_of_every_shape() {
    contract::ids_of_every_shape_key_records_of_their_own(&fresh_dynamodb_sessions().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_rotations_rotate_once() {
    contract::concurrent_rotations_of_one_token_rotate_exactly_once(Arc::new(
        fresh_dynamodb_sessions().await,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_attempts() {
    let store = Arc::new(fresh_dynamodb_sessions().await);
    contract::login_attempts_hold_places_in_a_window_and_start_over_after_it(store.as_ref()).await;
    contract::settled_places_are_kept_or_given_back_as_their_outcome_says(store.as_ref()).await;
    contract::stale_places_free_up_and_spent_failures_admit_nobody(store.as_ref()).await;
    contract::concurrent_attempts_never_take_more_places_than_there_are(store.clone()).await;
    contract::concurrent_attempts_after_a_window_ended_all_hold_places_in_one_new_window(store)
        .await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_table_has_its_ttl_enabled_on_expires_at() {
    let store = fresh_dynamodb_sessions().await;
    let client = auth_dynamodb::client().await;
    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.attribute_name(), Some("expires_at"));
    assert_eq!(
        description.time_to_live_status(),
        Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
}

//! The in-memory store passes the whole `SessionStore` contract.

use std::sync::Arc;

use auth_core::sessions::InMemorySessionStore;
use auth_testkit::contract::sessions as contract;

#[tokio::test]
async fn revocation_of_tokens_and_sessions() {
    let store = InMemorySessionStore::default();
    contract::revoked_token_is_revoked_and_others_are_not(&store).await;
    contract::revoked_session_revokes_every_token_of_it(&store).await;
    contract::revoking_again_is_revoking_once(&store).await;
}

#[tokio::test]
async fn the_ends_of_records() {
    let store = InMemorySessionStore::default();
    contract::records_mean_nothing_from_their_end_on(&store).await;
    contract::every_write_to_a_session_sets_the_end_of_its_record(&store).await;
    contract::a_session_record_past_its_end_does_not_stop_a_rotation(&store).await;
}

#[tokio::test]
async fn rotation_and_reuse_detection() {
    let store = InMemorySessionStore::default();
    contract::rotation_spends_each_token_once_and_reuse_revokes_the_session(&store).await;
    contract::a_revoked_session_does_not_rotate(&store).await;
    contract::the_same_rotation_made_again_is_no_replay(&store).await;
    contract::within_the_grace_a_spent_token_gets_the_current_one_again(&store).await;
    contract::after_the_grace_a_spent_token_is_a_replay(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_rotate_once() {
    contract::concurrent_rotations_of_one_token_rotate_exactly_once(Arc::new(
        InMemorySessionStore::default(),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_attempts() {
    let store = Arc::new(InMemorySessionStore::default());
    contract::login_attempts_hold_places_in_a_window_and_start_over_after_it(store.as_ref()).await;
    contract::settled_places_are_kept_or_given_back_as_their_outcome_says(store.as_ref()).await;
    contract::stale_places_free_up_and_spent_failures_admit_nobody(store.as_ref()).await;
    contract::concurrent_attempts_never_take_more_places_than_there_are(store.clone()).await;
    contract::concurrent_attempts_after_a_window_ended_all_hold_places_in_one_new_window(store)
        .await;
}

#[tokio::test]
async fn ids_of_every_shape() {
    contract::ids_of_every_shape_key_records_of_their_own(&InMemorySessionStore::default()).await;
}

#[tokio::test]
async fn listed_sessions() {
    let store = InMemorySessionStore::default();
    contract::started_sessions_are_listed_newest_first_as_their_logins_recorded(&store).await;
    contract::ended_expired_and_superseded_sessions_are_not_listed(&store).await;
    contract::a_refresh_updates_a_listed_session_and_lists_no_other(&store).await;
    contract::a_user_ends_their_own_session_once_and_no_one_elses(&store).await;
    contract::a_session_older_than_the_users_cut_off_is_not_ended_again(&store).await;
    contract::a_started_session_rotates_and_detects_reuse(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ends_end_once() {
    contract::concurrent_ends_of_one_session_end_it_once(Arc::new(InMemorySessionStore::default()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listing_in_pages() {
    let store = Arc::new(InMemorySessionStore::default());
    contract::pages_end_within_a_second_and_between_seconds(store.clone()).await;
    contract::a_thousand_sessions_list_in_pages_each_once_in_order(store).await;
}

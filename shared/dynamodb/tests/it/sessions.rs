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

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn listed_sessions() {
    let store = fresh_dynamodb_sessions().await;
    contract::started_sessions_are_listed_newest_first_as_their_logins_recorded(&store).await;
    contract::ended_expired_and_superseded_sessions_are_not_listed(&store).await;
    contract::a_refresh_updates_a_listed_session_and_lists_no_other(&store).await;
    contract::a_user_ends_their_own_session_once_and_no_one_elses(&store).await;
    contract::a_session_older_than_the_users_cut_off_is_not_ended_again(&store).await;
    contract::a_started_session_rotates_and_detects_reuse(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_ends_end_once() {
    contract::concurrent_ends_of_one_session_end_it_once(Arc::new(fresh_dynamodb_sessions().await))
        .await;
}

/// A thousand sessions of one user, started 32 at a time, list in pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn listing_in_pages() {
    let store = Arc::new(fresh_dynamodb_sessions().await);
    contract::pages_end_within_a_second_and_between_seconds(store.clone()).await;
    contract::a_thousand_sessions_list_in_pages_each_once_in_order(store).await;
}

/// The sessions table is made with the index that lists a user's sessions, as the template
/// declares it: partition `owner`, sort `started_at` (a number), every attribute projected.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_table_has_the_user_sessions_index() {
    use aws_sdk_dynamodb::types::{KeyType, ProjectionType, ScalarAttributeType};
    let store = fresh_dynamodb_sessions().await;
    let client = auth_dynamodb::client().await;
    let table = client
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let index = table
        .global_secondary_indexes()
        .iter()
        .find(|index| index.index_name() == Some(auth_dynamodb::USER_SESSIONS_INDEX))
        .expect("the user-sessions index");
    let keys: Vec<(&str, &KeyType)> = index
        .key_schema()
        .iter()
        .map(|key| (key.attribute_name(), key.key_type()))
        .collect();
    assert_eq!(
        keys,
        [("owner", &KeyType::Hash), ("started_at", &KeyType::Range)]
    );
    assert_eq!(
        index.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    let started_at = table
        .attribute_definitions()
        .iter()
        .find(|attribute| attribute.attribute_name() == "started_at")
        .unwrap();
    assert_eq!(started_at.attribute_type(), &ScalarAttributeType::N);
}

/// Listing a user's sessions is a `Query` of the `user-sessions` index for that user, never a
/// scan of the table; starting, refreshing and ending a session are single updates.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn listing_queries_the_users_index_and_never_scans() {
    use auth_core::{
        claims::AuthMethods,
        clock::Clock,
        sessions::{SessionCursor, SessionQuery, SessionStart, SessionStore},
        tokens::new_token_id,
    };
    let (client, recorded) = crate::wire::recording_client().await;
    let table = fresh_dynamodb_sessions().await.table().to_owned();
    let store = auth_dynamodb::DynamoSessionStore::new(client, table);
    let now = Clock::System.unix_secs();
    let user = format!("user-{}", new_token_id());
    let ids: Vec<String> = (0..3).map(|_| new_token_id()).collect();
    for (index, id) in ids.iter().enumerate() {
        let start = SessionStart {
            session: id,
            username: &user,
            started_at: now - 100 + index as i64,
            refresh_until: now + 3600,
            record_until: now + 3600,
            source_ip: Some("203.0.113.9"),
            user_agent: Some("curl/8.5.0"),
            methods: AuthMethods::Password,
        };
        store.start_session(&start).await.unwrap();
    }
    store
        .touch_session(&ids[0], now, Some(now + 3600))
        .await
        .unwrap();
    assert!(
        store
            .end_session_of(&user, &ids[1], None, now)
            .await
            .unwrap()
    );
    let writes = recorded.take();
    assert!(
        writes
            .iter()
            .all(|request| request.operation == "UpdateItem"),
        "{writes:?}"
    );
    assert_eq!(writes.len(), 5);

    let mut cursor: Option<SessionCursor> = None;
    let mut listed = Vec::new();
    loop {
        let page = store
            .list_sessions(&SessionQuery {
                username: &user,
                not_before: Some(now - 1000),
                now,
                limit: 1,
                after: cursor.as_ref(),
            })
            .await
            .unwrap();
        listed.extend(page.sessions.into_iter().map(|info| info.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, [ids[2].clone(), ids[0].clone()]);
    let reads = recorded.take();
    assert!(!reads.is_empty());
    for request in &reads {
        assert_eq!(request.operation, "Query", "{request:?}");
        assert_eq!(request.body["IndexName"], "user-sessions", "{request:?}");
        let condition = request.body["KeyConditionExpression"].as_str().unwrap();
        assert!(condition.starts_with("#owner = :owner"), "{condition}");
        assert_eq!(
            request.body["ExpressionAttributeValues"][":owner"]["S"],
            user
        );
    }
}

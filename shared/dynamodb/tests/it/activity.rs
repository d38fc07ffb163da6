//! `DynamoActivityLog` passes the whole `ActivityLog` contract against a real
//! DynamoDB-compatible server (moto, from `scripts/test`), and writes only by `PutItem` and
//! reads only by `Query`: what the functions' IAM policies allow them.

use std::collections::HashMap;

use auth_core::{
    activity::{ActivityEntry, ActivityEvent, ActivityLog, ActivityOutcome, entry_id},
    clock::Clock,
    tokens::new_token_id,
};
use auth_dynamodb::DynamoActivityLog;
use auth_testkit::{contract::activity as contract, fresh_dynamodb_activity};
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, TimeToLiveStatus};

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_activity_contract() {
    let log = fresh_dynamodb_activity().await;
    contract::entries_are_listed_newest_first_as_they_were_appended(&log).await;
    contract::pages_follow_each_other_with_before(&log).await;
    contract::expired_entries_are_not_listed(&log).await;
    contract::another_users_entries_are_never_listed(&log).await;
}

/// The table as `users create-activity-table` makes it: keys `pk` and `sk`, TTL on
/// `expires_at`.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_table_is_keyed_by_user_and_entry_with_its_ttl_on_expires_at() {
    let log = fresh_dynamodb_activity().await;
    let client = auth_dynamodb::client().await;
    let table = client
        .describe_table()
        .table_name(log.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|key| (key.attribute_name(), key.key_type()))
        .collect();
    assert_eq!(keys, [("pk", &KeyType::Hash), ("sk", &KeyType::Range)]);
    let ttl = client
        .describe_time_to_live()
        .table_name(log.table())
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.attribute_name(), Some("expires_at"));
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Enabled)
    );
}

fn entry(micros: i64) -> ActivityEntry {
    ActivityEntry {
        id: entry_id(micros),
        at_ms: micros / 1000,
        event: ActivityEvent::Login,
        outcome: ActivityOutcome::Succeeded,
        detail: None,
        session: Some(new_token_id()),
        source_ip: Some("203.0.113.9".to_owned()),
        user_agent: Some("curl/8.5.0".to_owned()),
    }
}

/// The log puts and queries, and nothing else: never an update, a delete or a scan.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_log_only_puts_items_and_queries_one_user() {
    let (client, recorded) = crate::wire::recording_client().await;
    let table = fresh_dynamodb_activity().await.table().to_owned();
    let log = DynamoActivityLog::new(client, table);
    let now = Clock::System.unix_secs();
    let user = format!("user-{}", new_token_id());
    for index in 0..5 {
        let until = if index < 2 { now + 3600 } else { now + 1 };
        log.append(&user, &entry(now * 1_000_000 + index), until)
            .await
            .unwrap();
    }
    let mut before = None;
    let mut listed = 0;
    loop {
        let page = log
            .list(&user, 1, before.as_deref(), now + 1)
            .await
            .unwrap();
        listed += page.entries.len();
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, 2);
    let requests = recorded.take();
    let operations: Vec<&str> = requests
        .iter()
        .map(|request| request.operation.as_str())
        .collect();
    assert_eq!(operations[..5], ["PutItem"; 5]);
    assert!(operations.len() > 5);
    for request in &requests[5..] {
        assert_eq!(request.operation, "Query", "{request:?}");
        assert_eq!(
            request.body["ExpressionAttributeValues"][":user"]["S"],
            user
        );
    }
}

/// An item this version cannot read (an event or outcome a later version added) is left out of
/// the listing, and the listing still fills its page with the entries around it.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn an_item_of_an_unknown_event_or_outcome_is_skipped() {
    let log = fresh_dynamodb_activity().await;
    let client = auth_dynamodb::client().await;
    let now = Clock::System.unix_secs();
    let user = format!("user-{}", new_token_id());
    let (older, newer) = (entry(now * 1_000_000), entry(now * 1_000_000 + 10));
    log.append(&user, &older, now + 3600).await.unwrap();
    log.append(&user, &newer, now + 3600).await.unwrap();
    for (index, (event, outcome)) in [("passkey_added", "success"), ("login", "deferred")]
        .into_iter()
        .enumerate()
    {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(user.clone())),
            (
                "sk".to_owned(),
                AttributeValue::S(entry_id(now * 1_000_000 + 5 + index as i64)),
            ),
            (
                "expires_at".to_owned(),
                AttributeValue::N((now + 3600).to_string()),
            ),
            ("event".to_owned(), AttributeValue::S(event.to_owned())),
            ("outcome".to_owned(), AttributeValue::S(outcome.to_owned())),
            (
                "at_ms".to_owned(),
                AttributeValue::N((now * 1000).to_string()),
            ),
        ]);
        client
            .put_item()
            .table_name(log.table())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    let page = log.list(&user, 2, None, now).await.unwrap();
    assert_eq!(page.entries, [newer, older]);
    assert_eq!(page.next, None);
}

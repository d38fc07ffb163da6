//! A refusal that is not a failed condition (IAM's `AccessDeniedException`, which the SDK does not
//! retry) is a store error at every conditional write of the sessions store: never read as
//! "spent" or "window ended", which would end a session on a replay it never saw, or count a
//! login in a window it never opened. A proxy in front of the test server answers it for the
//! writes a test names and forwards everything else.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use auth_core::{
    sessions::{
        AttemptBucket, AttemptOutcome, Reservation, Rotation, RotationOutcome, SessionStore,
    },
    store::StoreError,
    tokens::new_token_id,
};
use auth_dynamodb::DynamoSessionStore;
use auth_testkit::{dynamodb_endpoint, fresh_dynamodb_sessions};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Reads one HTTP/1.1 request or response (head and a `content-length` body), whole.
async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        message.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&message).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if message.len() >= end + 4 + length {
                return Some(message);
            }
        }
    }
}

/// Starts the proxy: the UpdateItems whose numbers (from 1, in the order they come) are in
/// `denied` are answered AccessDeniedException; every other request goes to the test server,
/// one connection each. Its URL.
async fn denying_proxy(denied: &[usize]) -> String {
    let denied: BTreeSet<usize> = denied.iter().copied().collect();
    let updates = Arc::new(AtomicUsize::new(0));
    let upstream = dynamodb_endpoint().trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let (denied, updates, upstream) = (denied.clone(), updates.clone(), upstream.clone());
            tokio::spawn(async move {
                let Some(request) = read_message(&mut client).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
                let is_update = head.contains("x-amz-target: dynamodb_20120810.updateitem");
                if is_update && denied.contains(&(updates.fetch_add(1, Ordering::SeqCst) + 1)) {
                    let body = r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"denied by the test"}"#;
                    let answer = format!(
                        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = client.write_all(answer.as_bytes()).await;
                    return;
                }
                let mut server = TcpStream::connect(&upstream).await.unwrap();
                server.write_all(&request).await.unwrap();
                if let Some(response) = read_message(&mut server).await {
                    let _ = client.write_all(&response).await;
                }
            });
        }
    });
    url
}

/// A store over a fresh table, through a proxy that denies the UpdateItems numbered `denied`.
async fn store_denying(denied: &[usize]) -> DynamoSessionStore {
    let table = fresh_dynamodb_sessions().await.table().to_owned();
    let client = auth_dynamodb::client_at(&denying_proxy(denied).await).await;
    DynamoSessionStore::new(client, table)
}

fn rotation<'a>(
    session: &'a str,
    presented: &'a str,
    replacement: &'a str,
    now: i64,
    grace_since: Option<i64>,
) -> Rotation<'a> {
    Rotation {
        session,
        presented,
        replacement,
        now,
        grace_since,
        record_until: now + 3600,
    }
}

fn now() -> i64 {
    auth_core::clock::Clock::System.unix_secs()
}

fn denied(result: Result<impl std::fmt::Debug, StoreError>) {
    assert!(
        matches!(&result, Err(StoreError::Unavailable(detail)) if detail.contains("AccessDenied")),
        "{result:?}"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_rotation_whose_write_is_denied_is_a_store_error_and_spends_nothing() {
    let store = store_denying(&[1]).await;
    let (session, presented, next) = (new_token_id(), new_token_id(), new_token_id());
    denied(
        store
            .rotate(&rotation(&session, &presented, &next, now(), None))
            .await,
    );
    // Nothing was spent or revoked: the retry rotates.
    assert_eq!(
        store
            .rotate(&rotation(&session, &presented, &next, now(), None))
            .await
            .unwrap(),
        RotationOutcome::Rotated(next.clone())
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_retry_within_the_grace_whose_write_is_denied_is_a_store_error_not_a_replay() {
    // 1: the rotation; 2: the retry's rotation, a failed condition; 3: its grace write, denied.
    let store = store_denying(&[3]).await;
    let (session, presented, next) = (new_token_id(), new_token_id(), new_token_id());
    let start = now();
    let first = rotation(&session, &presented, &next, start, None);
    assert_eq!(
        store.rotate(&first).await.unwrap(),
        RotationOutcome::Rotated(next.clone())
    );
    let retry_id = new_token_id();
    let retry = rotation(&session, &presented, &retry_id, start, Some(start - 10));
    denied(store.rotate(&retry).await);
    // The session lives on: the retry again, within the grace, gets its current token.
    assert_eq!(
        store.rotate(&retry).await.unwrap(),
        RotationOutcome::Rotated(next)
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_replay_whose_revoking_write_is_denied_is_a_store_error_and_revokes_nothing() {
    // 1: the rotation; 2: the replay's rotation, a failed condition; 3: its revoke, denied.
    let store = store_denying(&[3]).await;
    let (session, presented, next) = (new_token_id(), new_token_id(), new_token_id());
    let start = now();
    assert_eq!(
        store
            .rotate(&rotation(&session, &presented, &next, start, None))
            .await
            .unwrap(),
        RotationOutcome::Rotated(next.clone())
    );
    let replay_id = new_token_id();
    denied(
        store
            .rotate(&rotation(&session, &presented, &replay_id, start, None))
            .await,
    );
    assert!(!store.is_revoked(None, Some(&session), start).await.unwrap());
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_login_place_whose_write_is_denied_is_a_store_error() {
    let store = store_denying(&[1]).await;
    let username = new_token_id();
    let bucket = AttemptBucket::Username(&username);
    let now = now();
    denied(store.reserve_login_attempt(bucket, 1, now, now + 900).await);
    let place = store
        .reserve_login_attempt(bucket, 1, now, now + 900)
        .await
        .unwrap();
    assert!(
        matches!(place, Reservation::Held(_)),
        "the denied attempt took no place: {place:?}"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_window_restart_whose_write_is_denied_is_a_store_error() {
    // 1: the first window; 2: the next attempt's place, a failed condition (the window has
    // ended); 3: its restart of the window, denied.
    let store = store_denying(&[3]).await;
    let username = new_token_id();
    let bucket = AttemptBucket::Username(&username);
    let start = now();
    store
        .reserve_login_attempt(bucket, 5, start, start + 1)
        .await
        .unwrap();
    denied(
        store
            .reserve_login_attempt(bucket, 5, start + 5, start + 905)
            .await,
    );
}

/// A settlement the store refuses is an error the login logs, never a silent success: the
/// place stays taken, as a failure would.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_settlement_whose_write_is_denied_is_a_store_error_and_keeps_the_place() {
    // 1: the place; 2: its settlement, denied.
    let store = store_denying(&[2]).await;
    let username = new_token_id();
    let bucket = AttemptBucket::Username(&username);
    let now = now();
    let Reservation::Held(place) = store
        .reserve_login_attempt(bucket, 1, now, now + 900)
        .await
        .unwrap()
    else {
        panic!("no place");
    };
    denied(
        store
            .settle_login_attempt(bucket, place, AttemptOutcome::Succeeded)
            .await,
    );
    let after = store
        .reserve_login_attempt(bucket, 1, now, now + 900)
        .await
        .unwrap();
    assert!(
        matches!(after, Reservation::Full(attempts) if attempts.in_use == 1),
        "{after:?}"
    );
}

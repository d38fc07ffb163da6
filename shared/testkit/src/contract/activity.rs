//! What every `ActivityLog` must do, as checks that take the log: the in-memory log runs them
//! in `auth-core`'s tests, the DynamoDB log against a real server in `auth-dynamodb`'s.

use auth_core::{
    activity::{
        ActivityEntry, ActivityEvent, ActivityLog, ActivityOutcome, DEFAULT_PAGE_SIZE, detail,
        entry_id,
    },
    clock::Clock,
    tokens::new_token_id,
};

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// When entries of a check are kept until: nothing expires during a test.
fn later() -> i64 {
    now() + 3600
}

/// A username of its own for one check.
fn new_username() -> String {
    format!("user-{}", new_token_id())
}

/// An entry made `micros` microseconds into the check's hour: ids that sort as the order the
/// entries are made in.
fn entry_at(micros: i64, event: ActivityEvent, outcome: ActivityOutcome) -> ActivityEntry {
    let at_micros = (now() - 3600) * 1_000_000 + micros;
    ActivityEntry {
        id: entry_id(at_micros),
        at_ms: at_micros / 1000,
        event,
        outcome,
        detail: None,
        session: None,
        source_ip: None,
        user_agent: None,
    }
}

/// `count` successful refreshes of `username`, one a millisecond, appended; oldest first.
async fn append_refreshes(
    log: &dyn ActivityLog,
    username: &str,
    count: usize,
    expires_at: i64,
) -> Vec<ActivityEntry> {
    let mut entries = Vec::with_capacity(count);
    for index in 0..count {
        let entry = entry_at(
            index as i64 * 1000,
            ActivityEvent::Refresh,
            ActivityOutcome::Succeeded,
        );
        log.append(username, &entry, expires_at).await.unwrap();
        entries.push(entry);
    }
    entries
}

/// Every page of `username`'s log at `at`, `limit` at a time, following each page's cursor.
async fn pages_of(
    log: &dyn ActivityLog,
    username: &str,
    limit: usize,
    at: i64,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = log
            .list(username, limit, before.as_deref(), at)
            .await
            .unwrap();
        assert!(page.entries.len() <= limit);
        let ids: Vec<String> = page.entries.iter().map(|entry| entry.id.clone()).collect();
        if let Some(next) = &page.next {
            assert_eq!(
                Some(next),
                ids.last(),
                "the cursor is the page's last entry"
            );
        }
        pages.push(ids);
        match page.next {
            Some(next) => before = Some(next),
            None => return pages,
        }
        assert!(pages.len() <= 1000, "the pages never end");
    }
}

/// Entries are listed newest first, each as it was appended.
pub async fn entries_are_listed_newest_first_as_they_were_appended(log: &dyn ActivityLog) {
    let user = new_username();
    let entries = [
        ActivityEntry {
            detail: Some(detail::WRONG_PASSWORD.to_owned()),
            source_ip: Some("203.0.113.9".to_owned()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0".to_owned()),
            ..entry_at(1, ActivityEvent::Login, ActivityOutcome::Failed)
        },
        ActivityEntry {
            session: Some(new_token_id()),
            source_ip: Some("2001:db8::1".to_owned()),
            user_agent: Some("curl/8.5.0".to_owned()),
            ..entry_at(2, ActivityEvent::Login, ActivityOutcome::Succeeded)
        },
        ActivityEntry {
            detail: Some(detail::REUSE_DETECTED.to_owned()),
            session: Some(new_token_id()),
            ..entry_at(3, ActivityEvent::Refresh, ActivityOutcome::Blocked)
        },
    ];
    for entry in &entries {
        log.append(&user, entry, later()).await.unwrap();
    }
    let page = log
        .list(&user, DEFAULT_PAGE_SIZE, None, now())
        .await
        .unwrap();
    let newest_first: Vec<ActivityEntry> = entries.iter().rev().cloned().collect();
    assert_eq!(page.entries, newest_first);
    assert_eq!(page.next, None);
    // Appending an entry again (a retried write) lists it once.
    log.append(&user, &entries[2], later()).await.unwrap();
    let page = log
        .list(&user, DEFAULT_PAGE_SIZE, None, now())
        .await
        .unwrap();
    assert_eq!(page.entries, newest_first);
}

/// Pages follow each other with `before`: every entry once, newest first, with a cursor on
/// every page but the last, also when the entries fill the last page exactly.
pub async fn pages_follow_each_other_with_before(log: &dyn ActivityLog) {
    let user = new_username();
    let entries = append_refreshes(log, &user, 25, later()).await;
    let newest_first: Vec<String> = entries.iter().rev().map(|entry| entry.id.clone()).collect();
    let pages = pages_of(log, &user, 10, now()).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    assert_eq!(pages.concat(), newest_first);
    let pages = pages_of(log, &user, 5, now()).await;
    assert_eq!(pages.len(), 5, "no empty page after a full last one");
    assert_eq!(pages.concat(), newest_first);
    // A cursor in the middle: only what is older.
    let page = log
        .list(&user, 100, Some(&entries[3].id), now())
        .await
        .unwrap();
    let older: Vec<String> = entries[..3]
        .iter()
        .rev()
        .map(|entry| entry.id.clone())
        .collect();
    assert_eq!(
        page.entries
            .iter()
            .map(|entry| entry.id.clone())
            .collect::<Vec<_>>(),
        older
    );
}

/// An entry is not listed from its end on, whether or not the store has deleted it yet; a
/// page skips expired entries and still fills with older live ones.
pub async fn expired_entries_are_not_listed(log: &dyn ActivityLog) {
    let user = new_username();
    let at = now();
    let live = append_refreshes(log, &user, 3, later()).await;
    let mut ending = Vec::new();
    for index in 0..5 {
        let entry = entry_at(
            10_000_000 + index,
            ActivityEvent::Login,
            ActivityOutcome::Failed,
        );
        log.append(&user, &entry, at + 10).await.unwrap();
        ending.push(entry);
    }
    let page = log.list(&user, 2, None, at + 9).await.unwrap();
    assert_eq!(page.entries, [ending[4].clone(), ending[3].clone()]);
    let page = log.list(&user, 2, None, at + 10).await.unwrap();
    assert_eq!(page.entries, [live[2].clone(), live[1].clone()]);
    assert_eq!(page.next, Some(live[1].id.clone()));
    let page = log
        .list(&user, 2, page.next.as_deref(), at + 10)
        .await
        .unwrap();
    assert_eq!(page.entries, [live[0].clone()]);
    assert_eq!(page.next, None);
}

/// A user's log holds their entries only: another user's, a user with a name that begins
/// theirs, and a user with none are never listed.
pub async fn another_users_entries_are_never_listed(log: &dyn ActivityLog) {
    let user = new_username();
    let (longer, other) = (format!("{user}x"), new_username());
    let mine = append_refreshes(log, &user, 2, later()).await;
    append_refreshes(log, &longer, 2, later()).await;
    append_refreshes(log, &other, 3, later()).await;
    let page = log.list(&user, 100, None, now()).await.unwrap();
    let expected: Vec<ActivityEntry> = mine.iter().rev().cloned().collect();
    assert_eq!(page.entries, expected);
    assert_eq!(
        log.list(&other, 100, None, now())
            .await
            .unwrap()
            .entries
            .len(),
        3
    );
    let nobody = log.list(&new_username(), 100, None, now()).await.unwrap();
    assert!(nobody.entries.is_empty() && nobody.next.is_none());
}

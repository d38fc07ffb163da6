//! The in-memory activity log passes the whole `ActivityLog` contract.

use auth_core::activity::InMemoryActivityLog;
use auth_testkit::contract::activity as contract;

#[tokio::test]
async fn the_activity_contract() {
    let log = InMemoryActivityLog::default();
    contract::entries_are_listed_newest_first_as_they_were_appended(&log).await;
    contract::pages_follow_each_other_with_before(&log).await;
    contract::expired_entries_are_not_listed(&log).await;
    contract::another_users_entries_are_never_listed(&log).await;
}

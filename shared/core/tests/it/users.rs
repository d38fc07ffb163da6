//! The in-memory user store keeps the `UserStore` contract.

use auth_core::users::InMemoryUserStore;
use auth_testkit::contract::users as contract;

#[tokio::test]
async fn the_in_memory_store_keeps_the_user_store_contract() {
    // Given users no store can hold as well, which it must still not find.
    let users = [
        contract::storable_edge_usernames(),
        contract::unstorable_usernames(),
    ]
    .concat();
    let store = InMemoryUserStore::new(users.iter().map(|name| contract::user_named(name)));
    contract::every_edge_username_finds_its_user_and_only_it(&store).await;
    contract::unstorable_usernames_are_not_found(&store).await;
    let store = InMemoryUserStore::new(contract::scoped_users());
    contract::scopes_are_read_sorted_once_each_and_none_is_empty(&store).await;
}

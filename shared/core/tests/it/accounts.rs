//! The in-memory user store keeps the `AccountStore` contract.

use std::sync::Arc;

use auth_core::users::InMemoryUserStore;
use auth_testkit::contract::accounts as contract;

#[tokio::test]
async fn sign_up_and_addresses() {
    let store = InMemoryUserStore::new([contract::operator_with_address()]);
    contract::create_makes_an_unconfirmed_account_and_refuses_a_taken_name(&store).await;
    contract::an_address_nobody_has_finds_nobody(&store).await;
    contract::an_operators_user_is_found_by_the_address_it_was_given(&store).await;
}

#[tokio::test]
async fn mailed_tokens_and_confirmation() {
    let store = InMemoryUserStore::default();
    contract::set_mail_token_replaces_the_previous_hash_of_its_purpose(&store).await;
    contract::a_token_with_a_password_only_for_an_unconfirmed_account(&store).await;
    contract::confirm_takes_only_the_current_signup_hash_and_only_once(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_confirms_confirm_once() {
    contract::concurrent_confirms_confirm_exactly_once(Arc::new(InMemoryUserStore::default()))
        .await;
}

#[tokio::test]
async fn password_changes() {
    let store = InMemoryUserStore::default();
    contract::set_password_with_the_current_password_only_while_it_is_current(&store).await;
    contract::set_password_with_a_recovery_token_spends_it(&store).await;
}

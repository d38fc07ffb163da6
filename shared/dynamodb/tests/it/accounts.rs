//! `DynamoUserStore` keeps the `AccountStore` contract against a real DynamoDB-compatible
//! server (moto, from `scripts/test`): conditional writes, and the `email` index the operator's
//! `create-table` makes; and `DynamoSessionStore` the `AccountRecords` contract. What only
//! DynamoDB can do wrong: a token in plain text in an item, the index's shape, an address the
//! operator gives.

use std::sync::Arc;

use auth_admin::{AdminError, UserAdmin};
use auth_core::{
    accounts::{
        AccountRecords, AccountStore, MailTokenRecord, NewAccount, Purpose, mail_token::MailToken,
    },
    users::{DEMO_PASSWORD_HASH, UserStore},
};
use auth_dynamodb::users::{EMAIL, EMAIL_INDEX};
use auth_testkit::{
    contract::{account_records, accounts, users::user_named},
    fresh_dynamodb_sessions, fresh_dynamodb_store,
};
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, ProjectionType};

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn sign_up_and_addresses() {
    let store = fresh_dynamodb_store().await;
    UserAdmin::of(&store)
        .add(&accounts::operator_with_address(), false)
        .await
        .unwrap();
    accounts::create_makes_an_unconfirmed_account_and_refuses_a_taken_name(&store).await;
    accounts::an_address_nobody_has_finds_nobody(&store).await;
    accounts::an_operators_user_is_found_by_the_address_it_was_given(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn mailed_tokens_and_confirmation() {
    let store = fresh_dynamodb_store().await;
    accounts::set_mail_token_replaces_the_previous_hash_of_its_purpose(&store).await;
    accounts::a_token_with_a_password_only_for_an_unconfirmed_account(&store).await;
    accounts::confirm_takes_only_the_current_signup_hash_and_only_once(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_confirms_confirm_once() {
    accounts::concurrent_confirms_confirm_exactly_once(Arc::new(fresh_dynamodb_store().await))
        .await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn password_changes() {
    let store = fresh_dynamodb_store().await;
    accounts::set_password_with_the_current_password_only_while_it_is_current(&store).await;
    accounts::set_password_with_a_recovery_token_spends_it(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn mailed_token_records() {
    let store = fresh_dynamodb_sessions().await;
    account_records::a_mail_token_is_taken_once_and_only_for_its_purpose(&store).await;
    account_records::a_mail_token_past_its_end_is_no_token(&store).await;
    account_records::a_mail_token_put_again_is_replaced(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn mail_slots_and_request_counts() {
    let store = fresh_dynamodb_sessions().await;
    account_records::a_mail_slot_is_one_until_its_end_or_its_release(&store).await;
    account_records::requests_count_one_by_one_per_key_and_a_past_window_counts_nothing(&store)
        .await;
    account_records::a_key_whose_window_ended_counts_from_one_again(&store).await;
    account_records::keys_of_every_shape_key_records_of_their_own(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_takes_claims_and_counts() {
    let store = Arc::new(fresh_dynamodb_sessions().await);
    account_records::concurrent_takes_of_one_token_give_it_to_exactly_one(store.clone()).await;
    account_records::concurrent_claims_of_one_slot_give_it_to_exactly_one(store.clone()).await;
    account_records::concurrent_requests_each_count_once(store).await;
}

/// Every attribute value of every item of `table`, as text (string sets and maps flattened).
async fn every_value_in(table: &str) -> Vec<String> {
    fn flatten(value: &AttributeValue, into: &mut Vec<String>) {
        match value {
            AttributeValue::S(text) | AttributeValue::N(text) => into.push(text.clone()),
            AttributeValue::Ss(set) | AttributeValue::Ns(set) => into.extend(set.iter().cloned()),
            AttributeValue::L(list) => list.iter().for_each(|value| flatten(value, into)),
            AttributeValue::M(map) => map.values().for_each(|value| flatten(value, into)),
            AttributeValue::B(bytes) => {
                into.push(String::from_utf8_lossy(bytes.as_ref()).into_owned());
            }
            _ => {}
        }
    }
    let items = auth_dynamodb::client()
        .await
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut values = Vec::new();
    for item in &items {
        for (name, value) in item {
            values.push(name.clone());
            flatten(value, &mut values);
        }
    }
    values
}

/// A copy of both tables opens no account: a mailed token is in them only as its hash.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn no_item_of_either_table_holds_a_mailed_token_only_its_hash() {
    let (users, sessions) = (
        fresh_dynamodb_store().await,
        fresh_dynamodb_sessions().await,
    );
    let address = accounts::new_address();
    let (signup, recovery) = (
        MailToken::generate().unwrap(),
        MailToken::generate().unwrap(),
    );
    let account = NewAccount {
        email: &address,
        password_hash: DEMO_PASSWORD_HASH,
        signup_token: &signup.hash,
        created_at: accounts::CREATED_AT,
    };
    assert!(users.create(&account).await.unwrap());
    assert!(
        users
            .set_mail_token(&address, Purpose::Recovery, &recovery.hash, None)
            .await
            .unwrap()
    );
    for (token, purpose) in [(&signup, Purpose::Signup), (&recovery, Purpose::Recovery)] {
        let record = MailTokenRecord {
            purpose,
            username: address.clone(),
            expires_at: accounts::CREATED_AT + 3600,
            password_hash: None,
        };
        sessions.put_mail_token(&token.hash, &record).await.unwrap();
    }
    let stored = [
        every_value_in(users.table()).await,
        every_value_in(sessions.table()).await,
    ]
    .concat();
    for token in [&signup, &recovery] {
        assert!(
            stored.iter().all(|value| !value.contains(&token.text)),
            "a token in plain text: {stored:?}"
        );
        assert!(
            stored.iter().any(|value| value.contains(&token.hash)),
            "its hash is stored: {stored:?}"
        );
    }
}

/// The table `users create-table` makes has the index `find_by_email` queries, as the template
/// declares it: partition key `email` (S), keys only.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_users_table_has_its_keys_only_email_index() {
    let store = fresh_dynamodb_store().await;
    let table = auth_dynamodb::client()
        .await
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let email = table
        .attribute_definitions()
        .iter()
        .find(|attribute| attribute.attribute_name() == EMAIL)
        .expect("email is defined");
    assert_eq!(email.attribute_type().as_str(), "S");
    let [index] = table.global_secondary_indexes() else {
        panic!("one index: {:?}", table.global_secondary_indexes());
    };
    assert_eq!(index.index_name(), Some(EMAIL_INDEX));
    let [key] = index.key_schema() else {
        panic!("one key: {:?}", index.key_schema());
    };
    assert_eq!(key.attribute_name(), EMAIL);
    assert_eq!(key.key_type(), &KeyType::Hash);
    assert_eq!(
        index
            .projection()
            .and_then(|projection| projection.projection_type()),
        Some(&ProjectionType::KeysOnly)
    );
}

/// `UserAdmin::set_email`: normalised, found by it, the tokens mailed to the old address dead;
/// refused for an address another user has, or is named by, or one no mail can reach.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn an_operator_gives_a_user_an_address_no_other_user_has() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin.add(&user_named("cosmo"), false).await.unwrap();
    admin.add(&user_named("wanda"), false).await.unwrap();
    let named = accounts::new_address();
    let signup = MailToken::generate().unwrap();
    let account = NewAccount {
        email: &named,
        password_hash: DEMO_PASSWORD_HASH,
        signup_token: &signup.hash,
        created_at: accounts::CREATED_AT,
    };
    assert!(store.create(&account).await.unwrap());

    let set = admin
        .set_email("cosmo", "  Cosmo@Example.COM ")
        .await
        .unwrap();
    assert_eq!(set, "cosmo@example.com");
    let found = store.find_by_email("cosmo@example.com").await.unwrap();
    assert_eq!(found.map(|user| user.username).as_deref(), Some("cosmo"));
    let recovery = MailToken::generate().unwrap();
    assert!(
        store
            .set_mail_token("cosmo", Purpose::Recovery, &recovery.hash, None)
            .await
            .unwrap()
    );
    admin.set_email("cosmo", "cosmo@example.net").await.unwrap();
    let cosmo = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(cosmo.account.email.as_deref(), Some("cosmo@example.net"));
    assert_eq!(
        cosmo.account.recovery_token, None,
        "mailed to the old address"
    );
    assert!(
        store
            .find_by_email("cosmo@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // Setting one's own address again is no conflict.
    admin.set_email("cosmo", "cosmo@example.net").await.unwrap();

    let taken = admin.set_email("wanda", "COSMO@example.net").await;
    assert!(
        matches!(&taken, Err(AdminError::EmailTaken { email, holder })
            if email == "cosmo@example.net" && holder == "cosmo"),
        "{taken:?}"
    );
    // A sign-up's account has its name as its address.
    let signed_up = admin.set_email("wanda", &named).await;
    assert!(
        matches!(&signed_up, Err(AdminError::EmailTaken { holder, .. }) if *holder == named),
        "{signed_up:?}"
    );
    // An operator's user named by an address it was not given.
    admin
        .add(&user_named("lee@example.com"), false)
        .await
        .unwrap();
    let named_by = admin.set_email("wanda", "Lee@example.com").await;
    assert!(
        matches!(&named_by, Err(AdminError::EmailIsUsername { email }) if email == "lee@example.com"),
        "{named_by:?}"
    );
    let malformed = admin.set_email("wanda", "wanda").await;
    assert!(
        matches!(malformed, Err(AdminError::InvalidEmail(_))),
        "{malformed:?}"
    );
    let missing = admin.set_email("ghost", "ghost@example.com").await;
    assert!(
        matches!(&missing, Err(AdminError::NotFound(name)) if name == "ghost"),
        "{missing:?}"
    );
    assert!(
        store.find("ghost").await.unwrap().is_none(),
        "created nothing"
    );
    let wanda = store.find("wanda").await.unwrap().unwrap();
    assert_eq!(wanda.account.email, None, "nothing set");
    // The account a sign-up made may be given its own name as its address again.
    admin.set_email(&named, &named).await.unwrap();
    let unconfirmed = store.find(&named).await.unwrap().unwrap();
    assert_eq!(
        unconfirmed.account.signup_token, None,
        "mailed to the address before"
    );
    assert!(unconfirmed.account.unconfirmed);
}

/// `UserAdmin::add` with an address: stored normalised, and refused, writing nothing, for an
/// address another user has.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn an_added_users_address_is_normalised_and_no_other_users() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let mut cosmo = user_named("cosmo");
    cosmo.account.email = Some("Cosmo@Example.com".to_owned());
    admin.add(&cosmo, false).await.unwrap();
    let found = store.find_by_email("cosmo@example.com").await.unwrap();
    assert_eq!(found.map(|user| user.username).as_deref(), Some("cosmo"));
    // Replacing cosmo keeps the address cosmo's.
    admin.add(&cosmo, true).await.unwrap();
    let mut wanda = user_named("wanda");
    wanda.account.email = Some("cosmo@example.com".to_owned());
    let added = admin.add(&wanda, false).await;
    assert!(
        matches!(&added, Err(AdminError::EmailTaken { holder, .. }) if holder == "cosmo"),
        "{added:?}"
    );
    assert!(store.find("wanda").await.unwrap().is_none());
}

/// Two users with one address (two operators racing, or an item written by hand): the answer
/// is the same every time, the account the address names before any other; once that one is
/// gone, the other.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn an_address_two_users_have_finds_the_one_it_names() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let address = accounts::new_address();
    for name in ["aaa-first-by-name", address.as_str()] {
        admin.add(&user_named(name), false).await.unwrap();
        auth_dynamodb::client()
            .await
            .update_item()
            .table_name(store.table())
            .key("username", AttributeValue::S(name.to_owned()))
            .update_expression("SET #email = :email")
            .expression_attribute_names("#email", EMAIL)
            .expression_attribute_values(":email", AttributeValue::S(address.clone()))
            .send()
            .await
            .unwrap();
    }
    for _ in 0..3 {
        let found = store.find_by_email(&address).await.unwrap().unwrap();
        assert_eq!(found.username, address);
    }
    admin.remove(&address).await.unwrap();
    let found = store.find_by_email(&address).await.unwrap().unwrap();
    assert_eq!(found.username, "aaa-first-by-name");
}

/// The per-address counters, the mail slots and the mailed tokens all end by themselves:
/// each item carries the table's TTL attribute (`expires_at`), the end it was given, so
/// DynamoDB deletes it after its window, its minute or its token's life. The sessions table
/// holds no address either: a slot is keyed by the address's hash.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_account_record_carries_its_end_for_dynamodbs_ttl() {
    let sessions = fresh_dynamodb_sessions().await;
    let now = 1_800_000_000;
    assert_eq!(
        sessions
            .count_request("signup#192.0.2.1#1800000000", now + 3600, now)
            .await
            .unwrap(),
        1
    );
    assert!(
        sessions
            .claim_mail_slot("slot-key", now + 60, now)
            .await
            .unwrap()
    );
    let token = MailToken::generate().unwrap();
    let record = MailTokenRecord {
        purpose: Purpose::Recovery,
        username: "ann@example.com".to_owned(),
        expires_at: now + 1800,
        password_hash: None,
    };
    sessions.put_mail_token(&token.hash, &record).await.unwrap();
    let items = auth_dynamodb::client()
        .await
        .scan()
        .table_name(sessions.table())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut ends: Vec<(String, String)> = items
        .iter()
        .map(|item| {
            let key = item["pk"]
                .as_s()
                .unwrap()
                .split('#')
                .next()
                .unwrap()
                .to_owned();
            let end = match item.get(auth_dynamodb::sessions::EXPIRES_AT) {
                Some(AttributeValue::N(end)) => end.clone(),
                other => panic!("{key} has no TTL attribute: {other:?}"),
            };
            (key, end)
        })
        .collect();
    ends.sort();
    assert_eq!(
        ends,
        [
            ("count".to_owned(), (now + 3600).to_string()),
            ("mailslot".to_owned(), (now + 60).to_string()),
            ("mailtoken".to_owned(), (now + 1800).to_string()),
        ]
    );
}

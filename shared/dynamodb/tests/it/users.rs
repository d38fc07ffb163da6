//! `DynamoUserStore` against a real DynamoDB-compatible server (moto, from `scripts/test`).

use std::time::Duration;

use auth_admin::{AdminError, UserAdmin};
use auth_core::{
    mfa::{Confirmation, MfaFields, MfaStore},
    passwords::{self, PasswordChecker},
    store::StoreError,
    users::{DEMO_PASSWORD_HASH, User, UserStore, authenticate},
};
use auth_dynamodb::{DynamoUserStore, users::SCOPES};
use auth_testkit::{
    CapturedLog, contract::users as contract, dynamodb_store_at, fresh_dynamodb_store,
    user_with_password,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

fn user(name: &str, password: &str) -> User {
    user_with_password(name, password, json!({"display_name": "Cosmo", "id": 1}))
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn added_user_is_found_with_profile_and_created_at() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&user("cosmo", "space-corgi"), false)
        .await
        .unwrap();
    let found = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(found.username, "cosmo");
    assert!(!found.disabled);
    assert_eq!(found.profile["display_name"], json!("Cosmo"));
    assert_eq!(found.profile["id"], json!(1));
    assert!(found.profile["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.find("Cosmo").await.unwrap().is_none(),
        "usernames are case-sensitive"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn add_refuses_to_overwrite_unless_forced() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin.add(&user("cosmo", "first"), false).await.unwrap();
    let refused = admin.add(&user("cosmo", "second"), false).await;
    assert!(matches!(refused, Err(AdminError::AlreadyExists(name)) if name == "cosmo"));
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "first")
            .await
            .unwrap()
            .is_some(),
        "the first user is intact"
    );
    admin.add(&user("cosmo", "second"), true).await.unwrap();
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "second")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_adds_of_one_name_let_exactly_one_through() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let hash = passwords::hash("pw").unwrap();
    let attempts = (0..20).map(|i| {
        let admin = admin.clone();
        let user = User {
            username: "race".into(),
            password_hash: hash.clone(),
            disabled: false,
            tokens_valid_after: None,
            scopes: Vec::new(),
            profile: json!({"attempt": i}).as_object().cloned().unwrap(),
            account: Default::default(),
        };
        tokio::spawn(async move { admin.add(&user, false).await })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => created += 1,
            Err(AdminError::AlreadyExists(_)) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn disable_enable_passwd_and_remove_change_the_stored_user() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&user("cosmo", "space-corgi"), false)
        .await
        .unwrap();

    admin.set_disabled("cosmo", true).await.unwrap();
    assert!(store.find("cosmo").await.unwrap().unwrap().disabled);
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_none()
    );
    admin.set_disabled("cosmo", false).await.unwrap();
    assert!(!store.find("cosmo").await.unwrap().unwrap().disabled);

    admin
        .set_password_hash("cosmo", &passwords::hash("new").unwrap())
        .await
        .unwrap();
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "new")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.find("cosmo").await.unwrap().unwrap().profile["display_name"],
        json!("Cosmo")
    );

    admin.remove("cosmo").await.unwrap();
    assert!(store.find("cosmo").await.unwrap().is_none());
}

/// A user who lost their authenticator and their recovery codes: the operator's reset leaves
/// no trace of the factor (a confirmed one or one being enrolled) and ends every session, the
/// one the confirmation kept too; the password and profile stay.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn mfa_reset_removes_every_trace_of_the_factor_and_ends_every_session() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&user("cosmo", "space-corgi"), false)
        .await
        .unwrap();
    assert!(store.begin_enrolment("cosmo", "v1.k.sealed").await.unwrap());
    let recovery_codes = ["h".to_owned()];
    let confirmation = Confirmation {
        username: "cosmo",
        sealed_secret: "v1.k.sealed",
        step: 7,
        recovery_codes: &recovery_codes,
        valid_after: 1_700_000_000,
        kept_session: Some("s"),
    };
    assert!(store.confirm_enrolment(&confirmation).await.unwrap());
    let enrolled = store.find("cosmo").await.unwrap().unwrap();
    assert!(enrolled.account.mfa.is_on());
    assert_eq!(enrolled.account.kept_session.as_deref(), Some("s"));

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    admin.mfa_reset("cosmo").await.unwrap();
    let reset = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(reset.account.mfa, MfaFields::default());
    assert!(
        reset
            .tokens_valid_after
            .is_some_and(|after| after >= before),
        "{:?}, before {before}",
        reset.tokens_valid_after
    );
    assert_eq!(reset.account.kept_session, None);
    assert_eq!(reset.profile["display_name"], json!("Cosmo"));
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_some(),
        "the password alone opens the account"
    );

    // A factor begun and never confirmed goes too.
    assert!(store.begin_enrolment("cosmo", "v1.k.again").await.unwrap());
    admin.mfa_reset("cosmo").await.unwrap();
    let reset = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(reset.account.mfa, MfaFields::default());

    let missing = admin.mfa_reset("nobody").await;
    assert!(
        matches!(&missing, Err(AdminError::NotFound(name)) if name == "nobody"),
        "{missing:?}"
    );
    assert!(store.find("nobody").await.unwrap().is_none());
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn changes_to_a_missing_user_are_not_found_and_create_nothing() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    for result in [
        admin.set_disabled("ghost", true).await,
        admin.set_disabled("ghost", false).await,
        admin.set_password_hash("ghost", "h").await,
        admin.mfa_reset("ghost").await,
        admin.grant_scopes("ghost", &["read"]).await.map(drop),
        admin.revoke_scopes("ghost", &["read"]).await.map(drop),
        admin.remove("ghost").await,
    ] {
        assert!(matches!(result, Err(AdminError::NotFound(name)) if name == "ghost"));
    }
    assert!(admin.list().await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn list_returns_every_user_sorted() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    for name in ["zed", "amy", "Bob"] {
        admin.add(&user(name, "pw"), false).await.unwrap();
    }
    let names: Vec<String> = admin
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["Bob", "amy", "zed"]);
}

#[tokio::test]
async fn stopped_server_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let store = dynamodb_store_at(&format!("http://127.0.0.1:{port}")).await;
    let found = store.find("cosmo").await;
    let Err(StoreError::Unavailable(detail)) = found else {
        panic!("expected Unavailable (503), got {found:?}");
    };
    // One line that says what to do (the SDK's chain goes to the debug log); the users
    // command's tests read it whole.
    assert!(detail.starts_with("cannot connect to "), "{detail}");
}

#[tokio::test]
async fn server_that_never_answers_is_unavailable_once_the_operation_timeout_passes() {
    use auth_dynamodb::client::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept connections and hold them open without ever answering.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let store: DynamoUserStore = dynamodb_store_at(&url).await;
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(OPERATION_TIMEOUT * 4, store.find("cosmo")).await;
    let waited = started.elapsed();
    silent.abort();
    let Ok(Err(StoreError::Unavailable(detail))) = outcome else {
        panic!("expected the store's own timeout to answer Unavailable, got {outcome:?}");
    };
    // The whole call's timeout, not one attempt's ("operation attempt timeout"): without it,
    // three attempts would end the call only after 6 s and more.
    assert!(
        detail.starts_with(&format!(
            "no answer within {}s from ",
            OPERATION_TIMEOUT.as_secs()
        )),
        "not the operation's timeout: {detail}"
    );
    // Each attempt gives up after ATTEMPT_TIMEOUT and the SDK retries; the whole call gives up
    // at OPERATION_TIMEOUT (timers never fire early). The margin is for a loaded machine; a
    // timeout that grew to several times its value would not fit in it.
    assert!(OPERATION_TIMEOUT > ATTEMPT_TIMEOUT);
    assert!(
        waited >= OPERATION_TIMEOUT && waited < OPERATION_TIMEOUT + Duration::from_secs(4),
        "gave up after {waited:?}; the operation timeout is {OPERATION_TIMEOUT:?}"
    );
}

/// The user store contract: usernames of every shape get the in-memory store's answers, and an
/// empty `sub` or an overlong name is "not found", never a refused call (a 503 once).
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn usernames_of_every_shape_get_the_in_memory_stores_answers() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    for username in contract::storable_edge_usernames() {
        admin
            .add(&contract::user_named(&username), false)
            .await
            .unwrap();
    }
    contract::every_edge_username_finds_its_user_and_only_it(&store).await;
    contract::unstorable_usernames_are_not_found(&store).await;
}

/// The user store contract: scopes are read sorted, each once, and no attribute is no scopes.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn scopes_are_read_as_the_in_memory_store_reads_them() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    for user in contract::scoped_users() {
        admin.add(&user, false).await.unwrap();
    }
    contract::scopes_are_read_sorted_once_each_and_none_is_empty(&store).await;
}

/// The item's `scopes` attribute as DynamoDB holds it, read past the store.
async fn stored_scopes(store: &DynamoUserStore, username: &str) -> Option<AttributeValue> {
    auth_dynamodb::client()
        .await
        .get_item()
        .table_name(store.table())
        .key("username", AttributeValue::S(username.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
        .remove(SCOPES)
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn granting_a_scope_twice_is_one_grant() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&contract::user_named("cosmo"), false)
        .await
        .unwrap();
    let granted = admin
        .grant_scopes("cosmo", &["write", "read"])
        .await
        .unwrap();
    assert_eq!(granted, ["read", "write"]);
    let again = admin
        .grant_scopes("cosmo", &["read", "read"])
        .await
        .unwrap();
    assert_eq!(again, ["read", "write"]);
    assert_eq!(
        store.find("cosmo").await.unwrap().unwrap().scopes,
        ["read", "write"]
    );
    let Some(AttributeValue::Ss(mut set)) = stored_scopes(&store, "cosmo").await else {
        panic!("scopes are not stored as a string set");
    };
    set.sort();
    assert_eq!(set, ["read", "write"]);
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn revoking_the_last_scope_leaves_no_attribute_and_no_scopes() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&contract::user_named("cosmo"), false)
        .await
        .unwrap();
    admin
        .grant_scopes("cosmo", &["read", "write"])
        .await
        .unwrap();
    let left = admin
        .revoke_scopes("cosmo", &["write", "never-granted"])
        .await
        .unwrap();
    assert_eq!(left, ["read"]);
    assert_eq!(store.find("cosmo").await.unwrap().unwrap().scopes, ["read"]);
    let none = admin.revoke_scopes("cosmo", &["read"]).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(stored_scopes(&store, "cosmo").await, None);
    assert!(
        store
            .find("cosmo")
            .await
            .unwrap()
            .unwrap()
            .scopes
            .is_empty()
    );
    let again = admin.revoke_scopes("cosmo", &["read"]).await.unwrap();
    assert!(
        again.is_empty(),
        "revoking from no scopes is no change: {again:?}"
    );
}

/// A scope takes effect at the user's next access token, not by ending their sessions.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn granting_and_revoking_scopes_keep_the_users_sessions_and_profile() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin.add(&user("cosmo", "pw"), false).await.unwrap();
    let before = store.find("cosmo").await.unwrap().unwrap();
    admin.grant_scopes("cosmo", &["read"]).await.unwrap();
    admin.revoke_scopes("cosmo", &["read"]).await.unwrap();
    let after = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(after.tokens_valid_after, before.tokens_valid_after);
    assert_eq!(after.profile, before.profile);
    assert!(
        !after.profile.contains_key(SCOPES),
        "scopes are no profile field"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn invalid_or_no_scopes_are_refused_and_change_nothing() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&contract::user_named("cosmo"), false)
        .await
        .unwrap();
    admin.grant_scopes("cosmo", &["read"]).await.unwrap();
    for bad in ["read write", "", "a\\b", "\"q\"", "caf\u{e9}"] {
        for changed in [
            admin.grant_scopes("cosmo", &["ok", bad]).await,
            admin.revoke_scopes("cosmo", &["read", bad]).await,
        ] {
            assert!(
                matches!(&changed, Err(AdminError::InvalidScope(scope)) if scope == bad),
                "{bad:?}: {changed:?}"
            );
        }
    }
    for changed in [
        admin.grant_scopes("cosmo", &[]).await,
        admin.revoke_scopes("cosmo", &[]).await,
    ] {
        assert!(matches!(changed, Err(AdminError::NoScopes)), "{changed:?}");
    }
    assert_eq!(store.find("cosmo").await.unwrap().unwrap().scopes, ["read"]);
}

/// A `scopes` written past the `users` command as something other than a string set of
/// scope-tokens: the user cannot be read (as with any item we cannot read), and a grant is
/// refused with DynamoDB's reason rather than reported as an outage.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_malformed_scopes_attribute_is_a_store_error_and_refuses_grants() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    admin
        .add(&contract::user_named("cosmo"), false)
        .await
        .unwrap();
    auth_dynamodb::client()
        .await
        .update_item()
        .table_name(store.table())
        .key("username", AttributeValue::S("cosmo".to_owned()))
        .update_expression("SET #scopes = :scopes")
        .expression_attribute_names("#scopes", SCOPES)
        .expression_attribute_values(":scopes", AttributeValue::S("read write".to_owned()))
        .send()
        .await
        .unwrap();
    let found = store.find("cosmo").await;
    let Err(StoreError::Unavailable(detail)) = &found else {
        panic!("expected Unavailable, got {found:?}");
    };
    assert!(detail.contains(SCOPES), "{detail}");
    let granted = admin.grant_scopes("cosmo", &["read"]).await;
    assert!(
        matches!(granted, Err(AdminError::Refused(_))),
        "{granted:?}"
    );
}

/// What the `users` command does to a user no one can have is what it does to a missing one.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn admin_changes_to_unstorable_usernames_are_refused_not_store_errors() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    for username in contract::unstorable_usernames() {
        let what = format!("{} bytes", username.len());
        let added = admin.add(&contract::user_named(&username), true).await;
        assert!(
            matches!(added, Err(AdminError::InvalidUsername)),
            "{what}: {added:?}"
        );
        for changed in [
            admin.end_sessions(&username).await,
            admin.mfa_reset(&username).await,
            admin.set_disabled(&username, true).await,
            admin.set_password_hash(&username, DEMO_PASSWORD_HASH).await,
            admin.grant_scopes(&username, &["read"]).await.map(drop),
            admin.revoke_scopes(&username, &["read"]).await.map(drop),
            admin.remove(&username).await,
        ] {
            assert!(
                matches!(changed, Err(AdminError::NotFound(_))),
                "{what}: {changed:?}"
            );
        }
    }
}

/// A request DynamoDB refuses as invalid, if one ever got past the key checks, is our bug: a
/// `Rejected` store error naming the operation (500), not an outage (503, retry).
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_request_dynamodb_refuses_is_a_rejected_call_naming_its_operation() {
    let (captured, _logging) = CapturedLog::install();

    let store = fresh_dynamodb_store().await;
    let client = auth_dynamodb::client().await;
    let refused = client
        .get_item()
        .table_name(store.table())
        .key("username", AttributeValue::S(String::new()))
        .send()
        .await
        .unwrap_err();
    match auth_dynamodb::client::store_error(refused) {
        StoreError::Rejected { operation, .. } => assert_eq!(operation, "GetItem"),
        other => panic!("not a rejected call: {other:?}"),
    }
    // Logged where it is classified, at error level with the operation: a request that makes
    // several calls may answer with another call's error.
    let log = captured.contents();
    let line = log
        .lines()
        .find(|line| line.contains("refused a call as invalid"))
        .unwrap_or_else(|| panic!("no log line for the refusal in {log:?}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("operation=\"GetItem\""), "{line}");
}

/// A profile DynamoDB cannot hold is the operator's mistake, told as such by `users add`: not
/// "the store is unavailable", not "a bug".
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_profile_dynamodb_refuses_is_refused_with_its_reason() {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let mut huge = contract::user_named("huge");
    huge.profile.insert("score".to_owned(), json!(1e300));
    let added = admin.add(&huge, false).await;
    assert!(
        matches!(&added, Err(AdminError::Refused(reason)) if reason.contains("Number overflow")),
        "{added:?}"
    );
    let mut unnamed = contract::user_named("unnamed");
    unnamed.profile.insert(String::new(), json!(1));
    let added = admin.add(&unnamed, false).await;
    assert!(matches!(added, Err(AdminError::UnnamedField)), "{added:?}");
    assert!(store.find("huge").await.unwrap().is_none());
    assert!(store.find("unnamed").await.unwrap().is_none());
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn username_longer_than_dynamodb_keys_is_simply_not_found() {
    let store = fresh_dynamodb_store().await;
    let long = "x".repeat(auth_core::store::MAX_KEY_BYTES + 1);
    assert!(store.find(&long).await.unwrap().is_none());
    assert!(
        authenticate(&store, &PasswordChecker::new(1), &long, "pw")
            .await
            .unwrap()
            .is_none()
    );
}

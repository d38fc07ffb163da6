//! What every `AccountStore` must do, as checks that take the store: the in-memory store runs
//! them in `auth-core`'s tests, the DynamoDB store against a real server in `auth-dynamodb`'s.
//! Every write of the self-service routes is conditional: these say on what, and that a write
//! refused by its condition changes nothing.

use std::sync::Arc;

use auth_core::{
    accounts::{
        AccountFields, AccountStore, ChangeCondition, NewAccount, PasswordChange, Purpose,
        mail_token::MailToken,
    },
    clock::Clock,
    tokens::new_token_id,
    users::{DEMO_PASSWORD_HASH, User, UserStore},
};
use serde_json::json;

/// The password hash a confirmation sets (the stores take it as given).
const CONFIRMED_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$confirmed$hash";

/// Both traits of a users store: the self-service writes, and `find` to see what they did.
pub trait Accounts: AccountStore + UserStore {}

impl<T: AccountStore + UserStore + ?Sized> Accounts for T {}

/// The creation time of every account these checks make: 2023-11-14T22:13:20Z.
pub const CREATED_AT: i64 = 1_700_000_000;

/// An address no other check uses, normalised.
pub fn new_address() -> String {
    format!("ann.{}@example.com", new_token_id().to_ascii_lowercase())
}

/// A new token's hash.
fn token_hash() -> String {
    MailToken::generate().unwrap().hash
}

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// Creates an unconfirmed account named `address` with `password_hash` and the sign-up token
/// `signup_token`; it must not exist yet.
async fn created(store: &dyn Accounts, address: &str, password_hash: &str, signup_token: &str) {
    let account = NewAccount {
        email: address,
        password_hash,
        signup_token,
        created_at: CREATED_AT,
    };
    assert!(store.create(&account).await.unwrap(), "{address} was free");
}

async fn user(store: &dyn Accounts, username: &str) -> User {
    store
        .find(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
}

/// A created account is named by its address, unconfirmed, with its first sign-up token and
/// no other, and found by name and by address alike; a second creation of the name is
/// refused and changes nothing.
pub async fn create_makes_an_unconfirmed_account_and_refuses_a_taken_name(store: &dyn Accounts) {
    let address = new_address();
    let first = token_hash();
    created(store, &address, DEMO_PASSWORD_HASH, &first).await;
    let found = user(store, &address).await;
    assert_eq!(found.username, address);
    assert_eq!(found.password_hash, DEMO_PASSWORD_HASH);
    assert!(!found.disabled);
    assert!(found.scopes.is_empty());
    assert_eq!(
        found.account,
        AccountFields {
            email: Some(address.clone()),
            unconfirmed: true,
            signup_token: Some(first.clone()),
            recovery_token: None,
            kept_session: None,
            mfa: Default::default(),
        }
    );
    // As `users add` writes it, and `GET /profile` shows it.
    assert_eq!(
        found.profile.get("created_at"),
        Some(&json!("2023-11-14T22:13:20Z"))
    );
    let by_address = store.find_by_email(&address).await.unwrap();
    assert_eq!(by_address.as_ref(), Some(&found));

    let again = NewAccount {
        email: &address,
        password_hash: "$argon2id$another",
        signup_token: &token_hash(),
        created_at: CREATED_AT + 5,
    };
    assert!(!store.create(&again).await.unwrap());
    assert_eq!(user(store, &address).await, found, "nothing changed");
}

/// An address nobody has, and one no user can have (empty, longer than a key), finds nobody,
/// with no error.
pub async fn an_address_nobody_has_finds_nobody(store: &dyn Accounts) {
    for address in [new_address(), String::new(), "x".repeat(3000)] {
        let found = store.find_by_email(&address).await;
        assert!(
            matches!(found, Ok(None)),
            "{} bytes: {found:?}",
            address.len()
        );
    }
    // A name no user can have is no account to create either.
    for address in [String::new(), "x".repeat(3000)] {
        let account = NewAccount {
            email: &address,
            password_hash: DEMO_PASSWORD_HASH,
            signup_token: &token_hash(),
            created_at: CREATED_AT,
        };
        assert!(
            !store.create(&account).await.unwrap(),
            "{} bytes",
            address.len()
        );
    }
}

/// The user `operator_with_address()` names: an account an operator made and gave an address
/// (`users add --email`), whose name is not the address.
pub const OPERATOR_USERNAME: &str = "cosmo-the-operator";
/// The address of `OPERATOR_USERNAME`.
pub const OPERATOR_ADDRESS: &str = "cosmo@example.org";

/// An operator's user with an address, confirmed (no `unconfirmed`): seed the store with it.
pub fn operator_with_address() -> User {
    User {
        account: AccountFields {
            email: Some(OPERATOR_ADDRESS.to_owned()),
            ..AccountFields::default()
        },
        ..super::users::user_named(OPERATOR_USERNAME)
    }
}

/// `store` holds `operator_with_address()`: its address finds it, not a user of that name.
pub async fn an_operators_user_is_found_by_the_address_it_was_given(store: &dyn Accounts) {
    let found = store
        .find_by_email(OPERATOR_ADDRESS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.username, OPERATOR_USERNAME);
    assert!(!found.account.unconfirmed);
    assert!(store.find(OPERATOR_ADDRESS).await.unwrap().is_none());
    assert!(
        store
            .find_by_email(OPERATOR_USERNAME)
            .await
            .unwrap()
            .is_none()
    );
}

/// Each purpose has one good token: a new one replaces the one before, of its purpose only.
/// There is no token of a user that does not exist, and asking creates none.
pub async fn set_mail_token_replaces_the_previous_hash_of_its_purpose(store: &dyn Accounts) {
    let address = new_address();
    created(store, &address, DEMO_PASSWORD_HASH, &token_hash()).await;
    let (signup, recovery, newer) = (token_hash(), token_hash(), token_hash());
    assert!(
        store
            .set_mail_token(&address, Purpose::Signup, &signup, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &recovery, None)
            .await
            .unwrap()
    );
    let account = user(store, &address).await.account;
    assert_eq!(account.signup_token.as_deref(), Some(signup.as_str()));
    assert_eq!(account.recovery_token.as_deref(), Some(recovery.as_str()));
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &newer, None)
            .await
            .unwrap()
    );
    let after = user(store, &address).await;
    assert_eq!(
        after.account.recovery_token.as_deref(),
        Some(newer.as_str())
    );
    assert_eq!(after.account.signup_token.as_deref(), Some(signup.as_str()));
    assert!(after.account.unconfirmed, "a token confirms nothing");
    assert_eq!(after.password_hash, DEMO_PASSWORD_HASH);

    let nobody = new_address();
    for purpose in Purpose::ALL {
        assert!(
            !store
                .set_mail_token(&nobody, purpose, &token_hash(), None)
                .await
                .unwrap()
        );
        let with_password = store
            .set_mail_token(&nobody, purpose, &token_hash(), Some("$argon2id$x"))
            .await
            .unwrap();
        assert!(!with_password);
    }
    assert!(
        store.find(&nobody).await.unwrap().is_none(),
        "created nothing"
    );
    assert!(store.find_by_email(&nobody).await.unwrap().is_none());
}

/// A sign-up again of an unconfirmed account replaces its password with its token; of a
/// confirmed one, nothing at all (its password is its owner's).
pub async fn a_token_with_a_password_only_for_an_unconfirmed_account(store: &dyn Accounts) {
    let address = new_address();
    created(store, &address, DEMO_PASSWORD_HASH, &token_hash()).await;
    let again = token_hash();
    let replaced = store
        .set_mail_token(&address, Purpose::Signup, &again, Some("$argon2id$second"))
        .await
        .unwrap();
    assert!(replaced);
    let account = user(store, &address).await;
    assert_eq!(account.password_hash, "$argon2id$second");
    assert_eq!(
        account.account.signup_token.as_deref(),
        Some(again.as_str())
    );

    assert!(
        store
            .confirm(&address, &again, CONFIRMED_HASH)
            .await
            .unwrap()
    );
    let confirmed = user(store, &address).await;
    let refused = store
        .set_mail_token(
            &address,
            Purpose::Signup,
            &token_hash(),
            Some("$argon2id$third"),
        )
        .await
        .unwrap();
    assert!(!refused);
    assert_eq!(user(store, &address).await, confirmed, "nothing changed");
    // Without a password, a confirmed account gets its token (a recovery).
    let recovery = token_hash();
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &recovery, None)
            .await
            .unwrap()
    );
    let after = user(store, &address).await;
    assert_eq!(
        after.account.recovery_token.as_deref(),
        Some(recovery.as_str())
    );
    assert_eq!(after.password_hash, CONFIRMED_HASH);
}

/// Only the account's good sign-up token confirms it, once: an older one, a recovery token,
/// and the same one again are refused and change nothing.
pub async fn confirm_takes_only_the_current_signup_hash_and_only_once(store: &dyn Accounts) {
    let address = new_address();
    let (first, second, recovery) = (token_hash(), token_hash(), token_hash());
    created(store, &address, DEMO_PASSWORD_HASH, &first).await;
    assert!(
        store
            .set_mail_token(&address, Purpose::Signup, &second, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &recovery, None)
            .await
            .unwrap()
    );
    let before = user(store, &address).await;
    for wrong in [&first, &recovery, &token_hash()] {
        assert!(
            !store
                .confirm(&address, wrong, CONFIRMED_HASH)
                .await
                .unwrap()
        );
    }
    assert_eq!(user(store, &address).await, before, "nothing changed");

    assert!(
        store
            .confirm(&address, &second, CONFIRMED_HASH)
            .await
            .unwrap()
    );
    let confirmed = user(store, &address).await;
    assert!(!confirmed.account.unconfirmed);
    assert_eq!(confirmed.account.signup_token, None);
    assert_eq!(
        confirmed.password_hash, CONFIRMED_HASH,
        "the confirmation's password"
    );
    assert_eq!(
        confirmed.account.recovery_token.as_deref(),
        Some(recovery.as_str())
    );
    assert!(
        !store
            .confirm(&address, &second, CONFIRMED_HASH)
            .await
            .unwrap(),
        "spent"
    );
    assert_eq!(user(store, &address).await, confirmed);

    let nobody = new_address();
    assert!(
        !store
            .confirm(&nobody, &second, CONFIRMED_HASH)
            .await
            .unwrap()
    );
    assert!(store.find(&nobody).await.unwrap().is_none());
}

/// Ten confirmations with one token at once: exactly one is answered true.
pub async fn concurrent_confirms_confirm_exactly_once(store: Arc<dyn Accounts>) {
    let address = new_address();
    let token = token_hash();
    created(store.as_ref(), &address, DEMO_PASSWORD_HASH, &token).await;
    let confirms: Vec<_> = (0..10)
        .map(|_| {
            let (store, address, token) = (store.clone(), address.clone(), token.clone());
            tokio::spawn(async move {
                store
                    .confirm(&address, &token, CONFIRMED_HASH)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut confirmed = 0;
    for confirm in confirms {
        confirmed += usize::from(confirm.await.unwrap());
    }
    assert_eq!(confirmed, 1);
    assert!(!user(store.as_ref(), &address).await.account.unconfirmed);
}

/// A confirmed account named by a new address, with a recovery token outstanding: its name and
/// the token's hash.
async fn confirmed_with_recovery(store: &dyn Accounts) -> (String, String) {
    let address = new_address();
    let signup = token_hash();
    created(store, &address, DEMO_PASSWORD_HASH, &signup).await;
    assert!(
        store
            .confirm(&address, &signup, DEMO_PASSWORD_HASH)
            .await
            .unwrap()
    );
    let recovery = token_hash();
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &recovery, None)
            .await
            .unwrap()
    );
    (address, recovery)
}

/// A change of `username`'s password to `password_hash` on `condition`, ending its sessions
/// from `valid_after` but `kept_session`.
fn change<'a>(
    username: &'a str,
    password_hash: &'a str,
    valid_after: i64,
    kept_session: Option<&'a str>,
    condition: ChangeCondition<'a>,
) -> PasswordChange<'a> {
    PasswordChange {
        username,
        password_hash,
        valid_after,
        kept_session,
        condition,
    }
}

/// A change with the current password: refused, changing nothing, unless the password is
/// still the one the caller proved; made, it sets the new hash, the time before which tokens
/// are refused and the session kept, and the outstanding recovery token dies.
pub async fn set_password_with_the_current_password_only_while_it_is_current(store: &dyn Accounts) {
    let (address, _recovery) = confirmed_with_recovery(store).await;
    let valid_after = now();
    let kept = Some("session-kept");
    let proving = |current| ChangeCondition::PasswordIs(current);
    let before = user(store, &address).await;
    let wrong = change(
        &address,
        "$argon2id$new",
        valid_after,
        kept,
        proving("$argon2id$wrong"),
    );
    assert!(!store.set_password(&wrong).await.unwrap());
    assert_eq!(user(store, &address).await, before, "nothing changed");

    let right = change(
        &address,
        "$argon2id$new",
        valid_after,
        kept,
        proving(DEMO_PASSWORD_HASH),
    );
    assert!(store.set_password(&right).await.unwrap());
    let changed = user(store, &address).await;
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(changed.tokens_valid_after, Some(valid_after));
    assert_eq!(
        changed.account.kept_session.as_deref(),
        Some("session-kept")
    );
    assert_eq!(
        changed.account.recovery_token, None,
        "any password change ends it"
    );
    assert_eq!(changed.account.email.as_deref(), Some(address.as_str()));
    assert!(!changed.account.unconfirmed);
    // The password proved before the change is not the current one any more.
    let stale = change(
        &address,
        "$argon2id$newer",
        now(),
        None,
        proving(DEMO_PASSWORD_HASH),
    );
    assert!(!store.set_password(&stale).await.unwrap());
    assert_eq!(user(store, &address).await, changed);

    let nobody = new_address();
    let missing = change(
        &nobody,
        "$argon2id$x",
        now(),
        None,
        proving(DEMO_PASSWORD_HASH),
    );
    assert!(!store.set_password(&missing).await.unwrap());
    assert!(store.find(&nobody).await.unwrap().is_none());
}

/// A reset with a recovery token: refused, changing nothing, with any other token (one a
/// password change ended among them); made, it spends the token, and with no session kept
/// clears the one an earlier change kept.
pub async fn set_password_with_a_recovery_token_spends_it(store: &dyn Accounts) {
    let (address, ended) = confirmed_with_recovery(store).await;
    // A change with the current password keeps a session, and ends the token mailed before.
    let proved = ChangeCondition::PasswordIs(DEMO_PASSWORD_HASH);
    let kept = change(
        &address,
        "$argon2id$changed",
        now(),
        Some("session-kept"),
        proved,
    );
    assert!(store.set_password(&kept).await.unwrap());
    let recovery = token_hash();
    assert!(
        store
            .set_mail_token(&address, Purpose::Recovery, &recovery, None)
            .await
            .unwrap()
    );

    let valid_after = now() + 1;
    let reset = |token| {
        change(
            &address,
            "$argon2id$reset",
            valid_after,
            None,
            ChangeCondition::RecoveryToken(token),
        )
    };
    let before = user(store, &address).await;
    let wrong = token_hash();
    for token in [wrong.as_str(), ended.as_str(), address.as_str()] {
        assert!(!store.set_password(&reset(token)).await.unwrap());
    }
    assert_eq!(user(store, &address).await, before, "nothing changed");

    assert!(store.set_password(&reset(&recovery)).await.unwrap());
    let after = user(store, &address).await;
    assert_eq!(after.password_hash, "$argon2id$reset");
    assert_eq!(after.tokens_valid_after, Some(valid_after));
    assert_eq!(after.account.recovery_token, None, "spent");
    assert_eq!(after.account.kept_session, None, "a reset keeps no session");
    assert!(
        !store.set_password(&reset(&recovery)).await.unwrap(),
        "single use"
    );
    assert_eq!(user(store, &address).await, after);
}

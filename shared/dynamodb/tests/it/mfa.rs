//! `DynamoUserStore` keeps the `MfaStore` contract, and `DynamoSessionStore` the
//! `MfaChallenges` one, against a real DynamoDB-compatible server (moto, from `scripts/test`):
//! the conditions that make a code single use are DynamoDB's, checked by DynamoDB. And what
//! only DynamoDB can do wrong: the factor's attributes shown as profile fields, an item of
//! the wrong shape read as no factor.

use std::sync::Arc;

use auth_core::{
    mfa::{Confirmation, MfaStore},
    users::UserStore,
};
use auth_dynamodb::users::{MFA_LAST_STEP, MFA_RECOVERY_CODES, MFA_SECRET, USERNAME};
use auth_testkit::{
    contract::{accounts::new_address, mfa as contract},
    fresh_dynamodb_sessions, fresh_dynamodb_store,
};
use aws_sdk_dynamodb::types::AttributeValue;

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn factors() {
    let store = fresh_dynamodb_store().await;
    contract::an_enrolment_is_confirmed_only_for_the_pending_secret(&store).await;
    contract::each_step_is_spent_once_and_only_after_the_last(&store).await;
    contract::each_recovery_code_is_spent_once(&store).await;
    contract::new_recovery_codes_replace_the_old_on_a_proof(&store).await;
    contract::a_factor_is_removed_only_on_a_proof(&store).await;
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn challenges() {
    let store = fresh_dynamodb_sessions().await;
    contract::a_challenge_is_found_until_it_is_taken_once(&store).await;
    contract::wrong_codes_count_up_to_the_limit_and_the_last_kills_it(&store).await;
    contract::a_challenge_past_its_end_is_none(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn concurrent_codes_and_answers() {
    contract::concurrent_uses_of_one_code_succeed_once(Arc::new(fresh_dynamodb_store().await))
        .await;
    contract::concurrent_answers_take_once_and_count_to_the_limit(Arc::new(
        fresh_dynamodb_sessions().await,
    ))
    .await;
}

/// The factor's attributes are the account's, never profile fields `/profile` would show; a
/// `mfa_last_step` or a `mfa_recovery_codes` of another type makes the item unreadable, not a
/// factor without a spent step or codes (which would let a code be used again).
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_factor_is_never_a_profile_field_and_a_mistyped_one_is_no_factor() {
    let store = fresh_dynamodb_store().await;
    let username = new_address();
    let account = auth_core::accounts::NewAccount {
        email: &username,
        password_hash: auth_core::users::DEMO_PASSWORD_HASH,
        signup_token: "signup-hash",
        created_at: 1_700_000_000,
    };
    assert!(
        auth_core::accounts::AccountStore::create(&store, &account)
            .await
            .unwrap()
    );
    assert!(
        store
            .begin_enrolment(&username, "v1.k.sealed")
            .await
            .unwrap()
    );
    let codes = vec!["code-hash".to_owned()];
    let confirmation = Confirmation {
        username: &username,
        sealed_secret: "v1.k.sealed",
        step: 7,
        recovery_codes: &codes,
        valid_after: 1_700_000_000,
        kept_session: None,
    };
    assert!(store.confirm_enrolment(&confirmation).await.unwrap());
    let user = store.find(&username).await.unwrap().unwrap();
    assert!(user.account.mfa.is_on());
    for field in [MFA_SECRET, MFA_LAST_STEP, MFA_RECOVERY_CODES, "mfa_pending"] {
        assert!(!user.profile.contains_key(field), "{field} in the profile");
    }
    assert!(!user.public_record().contains_key(MFA_SECRET));

    for (field, wrong) in [
        (MFA_LAST_STEP, AttributeValue::S("7".into())),
        (MFA_RECOVERY_CODES, AttributeValue::S("code-hash".into())),
        (MFA_SECRET, AttributeValue::N("1".into())),
    ] {
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key(USERNAME, AttributeValue::S(username.clone()))
            .update_expression("SET #field = :wrong")
            .expression_attribute_names("#field", field)
            .expression_attribute_values(":wrong", wrong)
            .send()
            .await
            .unwrap();
        assert!(store.find(&username).await.is_err(), "a mistyped {field}");
        // Put it back as it was for the next field.
        let right = match field {
            MFA_LAST_STEP => AttributeValue::N("7".into()),
            MFA_RECOVERY_CODES => AttributeValue::Ss(codes.clone()),
            _ => AttributeValue::S("v1.k.sealed".into()),
        };
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key(USERNAME, AttributeValue::S(username.clone()))
            .update_expression("SET #field = :right")
            .expression_attribute_names("#field", field)
            .expression_attribute_values(":right", right)
            .send()
            .await
            .unwrap();
        assert!(store.find(&username).await.unwrap().is_some());
    }
}

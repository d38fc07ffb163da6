//! The self-service routes' reads and writes of the users table (`AccountStore`): a user by
//! address through the `email` index, and the conditional writes of sign-up, confirmation,
//! mailed tokens and password changes, each the in-memory store's in one `UpdateItem` or
//! `PutItem` whose condition is checked by DynamoDB, so two requests racing cannot both win.

use aws_sdk_dynamodb::{
    error::{ProvideErrorMetadata, SdkError},
    primitives::{DateTime, DateTimeFormat},
    types::AttributeValue,
};

use auth_core::{
    accounts::{AccountStore, ChangeCondition, NewAccount, PasswordChange, Purpose, email},
    store::{StoreError, is_valid_key},
    users::{User, UserStore},
};

use super::{
    CREATED_AT, DynamoUserStore, EMAIL, EMAIL_INDEX, KEPT_SESSION, PASSWORD_HASH, RECOVERY_TOKEN,
    SIGNUP_TOKEN, TOKENS_VALID_AFTER, UNCONFIRMED, USERNAME,
};
use crate::client::{is_condition_failure, store_error};

/// Users the `email` index is asked for at once: one is the answer, a second means two users
/// share the address (an operator's `set-email` racing a sign-up), which the log reports.
const EMAIL_MATCHES: i32 = 2;

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// The attribute holding the hash of `purpose`'s one good token.
fn token_field(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Signup => SIGNUP_TOKEN,
        Purpose::Recovery => RECOVERY_TOKEN,
    }
}

/// `created_at` as the `users` command writes it: RFC 3339 in whole seconds, UTC
/// (`2023-11-14T22:13:20Z`). A time before the epoch is the epoch, as in memory.
fn rfc3339_seconds(seconds: i64) -> Result<String, StoreError> {
    DateTime::from_secs(seconds.max(0))
        .fmt(DateTimeFormat::DateTime)
        .map_err(|error| StoreError::Rejected {
            operation: "PutItem",
            detail: format!("a creation time DynamoDB's item cannot say: {error}"),
        })
}

/// A conditional write's answer: written, or refused by its condition (no error).
pub(super) fn written<T, E, R>(sent: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match sent {
        Ok(_) => Ok(true),
        Err(error) if is_condition_failure(&error) => Ok(false),
        Err(error) => Err(store_error(error)),
    }
}

#[async_trait::async_trait]
impl AccountStore for DynamoUserStore {
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        // No user can have such an address (the index key's rule), and asking would be
        // refused: a caller's input must not look like our outage.
        if !is_valid_key(email) {
            return Ok(None);
        }
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(EMAIL_INDEX)
            .key_condition_expression("#email = :email")
            .expression_attribute_names("#email", EMAIL)
            .expression_attribute_values(":email", text(email))
            .limit(EMAIL_MATCHES)
            .send()
            .await
            .map_err(store_error)?;
        let mut usernames: Vec<&str> = output
            .items()
            .iter()
            .filter_map(|item| item.get(USERNAME)?.as_s().ok())
            .map(String::as_str)
            .collect();
        if usernames.len() > 1 {
            tracing::warn!(
                email = %email::mask(email),
                "two users have one address: `users set-email` one of them to another"
            );
            // The same answer every time: the account the address names, else the first name.
            usernames.sort_by_key(|username| (*username != email, *username));
        }
        for username in usernames {
            // The index is read eventually consistent, the user strongly: an address changed
            // or a user removed since the index was written is not an answer.
            if let Some(user) = self.find(username).await?
                && user.account.email.as_deref() == Some(email)
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    async fn create(&self, account: &NewAccount<'_>) -> Result<bool, StoreError> {
        if !is_valid_key(account.email) {
            return Ok(false);
        }
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(USERNAME, text(account.email))
            .item(EMAIL, text(account.email))
            .item(PASSWORD_HASH, text(account.password_hash))
            .item(CREATED_AT, text(&rfc3339_seconds(account.created_at)?))
            // As `users add` does: a new account refuses every token issued before it existed,
            // above all those of an earlier account of the same name (one removed, its address
            // signed up with again).
            .item(
                TOKENS_VALID_AFTER,
                AttributeValue::N(account.created_at.to_string()),
            )
            .item(UNCONFIRMED, AttributeValue::Bool(true))
            .item(SIGNUP_TOKEN, text(account.signup_token))
            .condition_expression("attribute_not_exists(#username)")
            .expression_attribute_names("#username", USERNAME)
            .send()
            .await;
        written(sent)
    }

    async fn set_mail_token(
        &self,
        username: &str,
        purpose: Purpose,
        token_hash: &str,
        unconfirmed_password: Option<&str>,
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, text(username))
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#token", token_field(purpose))
            .expression_attribute_values(":token", text(token_hash));
        let update = match unconfirmed_password {
            None => update
                .update_expression("SET #token = :token")
                .condition_expression("attribute_exists(#username)"),
            // A sign-up again of an account nobody has confirmed: its password is the new
            // one, and only while it is unconfirmed (a confirmed account's is its owner's).
            Some(password_hash) => update
                .update_expression("SET #token = :token, #password = :password")
                .condition_expression("attribute_exists(#username) AND #unconfirmed = :true")
                .expression_attribute_names("#password", PASSWORD_HASH)
                .expression_attribute_names("#unconfirmed", UNCONFIRMED)
                .expression_attribute_values(":password", text(password_hash))
                .expression_attribute_values(":true", AttributeValue::Bool(true)),
        };
        written(update.send().await)
    }

    async fn confirm(
        &self,
        username: &str,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, text(username))
            // A missing user, or one without this token, has no attribute equal to it.
            .condition_expression("#signup = :token")
            .update_expression("SET #password = :password REMOVE #signup, #unconfirmed")
            .expression_attribute_names("#signup", SIGNUP_TOKEN)
            .expression_attribute_names("#unconfirmed", UNCONFIRMED)
            .expression_attribute_names("#password", PASSWORD_HASH)
            .expression_attribute_values(":token", text(token_hash))
            .expression_attribute_values(":password", text(password_hash))
            .send()
            .await;
        written(sent)
    }

    async fn set_password(&self, change: &PasswordChange<'_>) -> Result<bool, StoreError> {
        if !is_valid_key(change.username) {
            return Ok(false);
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, text(change.username))
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#password", PASSWORD_HASH)
            .expression_attribute_names("#after", TOKENS_VALID_AFTER)
            .expression_attribute_names("#recovery", RECOVERY_TOKEN)
            .expression_attribute_names("#kept", KEPT_SESSION)
            .expression_attribute_values(":password", text(change.password_hash))
            .expression_attribute_values(
                ":after",
                AttributeValue::N(change.valid_after.to_string()),
            );
        let update = match change.kept_session {
            Some(session) => update
                .update_expression(
                    "SET #password = :password, #after = :after, #kept = :kept REMOVE #recovery",
                )
                .expression_attribute_values(":kept", text(session)),
            None => update.update_expression(
                "SET #password = :password, #after = :after REMOVE #recovery, #kept",
            ),
        };
        let update = match change.condition {
            ChangeCondition::PasswordIs(current) => update
                .condition_expression("attribute_exists(#username) AND #password = :current")
                .expression_attribute_values(":current", text(current)),
            // Spent by this very write: the attribute goes.
            ChangeCondition::RecoveryToken(token_hash) => update
                .condition_expression("attribute_exists(#username) AND #recovery = :token")
                .expression_attribute_values(":token", text(token_hash)),
        };
        written(update.send().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_rfc3339_in_whole_seconds_as_the_users_command_writes_it() {
        assert_eq!(
            rfc3339_seconds(1_700_000_000).unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(rfc3339_seconds(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_seconds(-5).unwrap(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn each_purpose_has_a_token_attribute_of_its_own() {
        assert_eq!(token_field(Purpose::Signup), SIGNUP_TOKEN);
        assert_eq!(token_field(Purpose::Recovery), RECOVERY_TOKEN);
    }
}

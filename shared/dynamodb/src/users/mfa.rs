//! The second factor's writes to the users table (`MfaStore`), each the in-memory store's in one
//! `UpdateItem` whose condition DynamoDB checks: on the factor the caller read (its sealed
//! secret), and for a TOTP code on its step (`mfa_last_step < :step`), so that of two uses of
//! one code one is written and the other refused, however close together they come.

use aws_sdk_dynamodb::{
    operation::update_item::builders::UpdateItemFluentBuilder, types::AttributeValue,
};

use auth_core::{
    mfa::{Confirmation, MfaStore, Proof},
    store::{StoreError, is_valid_key},
};

use super::{
    DynamoUserStore, KEPT_SESSION, MFA_LAST_STEP, MFA_PENDING, MFA_RECOVERY_CODES, MFA_SECRET,
    TOKENS_VALID_AFTER, USERNAME, accounts::written,
};

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The recovery codes as a string set; none (a set cannot be empty) as no attribute.
fn code_set(codes: &[String]) -> Option<AttributeValue> {
    (!codes.is_empty()).then(|| AttributeValue::Ss(codes.to_vec()))
}

type Update = UpdateItemFluentBuilder;

impl DynamoUserStore {
    /// An update of `username`'s item with the names every write below uses.
    fn mfa_update(&self, username: &str) -> Update {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, text(username))
            .expression_attribute_names("#secret", MFA_SECRET)
    }
}

/// `update`, on the condition that the confirmed factor is `sealed_secret` and `proof` holds,
/// with the values the condition names. A recovery code's is `contains`: the caller's write
/// takes it out of the set.
fn on_factor(update: Update, sealed_secret: &str, proof: Proof<'_>) -> Update {
    let update = update.expression_attribute_values(":sealed", text(sealed_secret));
    match proof {
        Proof::Step(step) => update
            .condition_expression(
                "#secret = :sealed AND (attribute_not_exists(#last) OR #last < :step)",
            )
            .expression_attribute_names("#last", MFA_LAST_STEP)
            .expression_attribute_values(":step", number(step)),
        Proof::RecoveryCode(hash) => update
            .condition_expression("#secret = :sealed AND contains(#codes, :code)")
            .expression_attribute_names("#codes", MFA_RECOVERY_CODES)
            .expression_attribute_values(":code", text(hash)),
    }
}

#[async_trait::async_trait]
impl MfaStore for DynamoUserStore {
    async fn begin_enrolment(
        &self,
        username: &str,
        sealed_secret: &str,
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let sent = self
            .mfa_update(username)
            .update_expression("SET #pending = :sealed")
            .condition_expression("attribute_exists(#username) AND attribute_not_exists(#secret)")
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#pending", MFA_PENDING)
            .expression_attribute_values(":sealed", text(sealed_secret))
            .send()
            .await;
        written(sent)
    }

    async fn confirm_enrolment(&self, confirmation: &Confirmation<'_>) -> Result<bool, StoreError> {
        if !is_valid_key(confirmation.username) {
            return Ok(false);
        }
        let mut set = vec!["#secret = :sealed", "#last = :step", "#after = :after"];
        let mut remove = vec!["#pending"];
        let mut update = self
            .mfa_update(confirmation.username)
            // A missing user, or one without this pending factor, has no attribute equal to it.
            .condition_expression("#pending = :sealed AND attribute_not_exists(#secret)")
            .expression_attribute_names("#pending", MFA_PENDING)
            .expression_attribute_names("#last", MFA_LAST_STEP)
            .expression_attribute_names("#after", TOKENS_VALID_AFTER)
            .expression_attribute_names("#kept", KEPT_SESSION)
            .expression_attribute_names("#codes", MFA_RECOVERY_CODES)
            .expression_attribute_values(":sealed", text(confirmation.sealed_secret))
            .expression_attribute_values(":step", number(confirmation.step))
            .expression_attribute_values(
                ":after",
                AttributeValue::N(confirmation.valid_after.to_string()),
            );
        match confirmation.kept_session {
            Some(session) => {
                set.push("#kept = :kept");
                update = update.expression_attribute_values(":kept", text(session));
            }
            None => remove.push("#kept"),
        }
        match code_set(confirmation.recovery_codes) {
            Some(codes) => {
                set.push("#codes = :codes");
                update = update.expression_attribute_values(":codes", codes);
            }
            None => remove.push("#codes"),
        }
        let sent = update
            .update_expression(format!(
                "SET {} REMOVE {}",
                set.join(", "),
                remove.join(", ")
            ))
            .send()
            .await;
        written(sent)
    }

    async fn spend(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let update = on_factor(self.mfa_update(username), sealed_secret, proof);
        let update = match proof {
            Proof::Step(_) => update.update_expression("SET #last = :step"),
            // The set loses the code; DynamoDB removes a set left empty.
            Proof::RecoveryCode(hash) => update
                .update_expression("DELETE #codes :used")
                .expression_attribute_values(":used", AttributeValue::Ss(vec![hash.to_owned()])),
        };
        written(update.send().await)
    }

    async fn replace_recovery_codes(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
        recovery_codes: &[String],
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let mut update = on_factor(self.mfa_update(username), sealed_secret, proof)
            .expression_attribute_names("#codes", MFA_RECOVERY_CODES);
        // A code's step is spent; a recovery code goes with the set it is replaced by.
        let mut set = match proof {
            Proof::Step(_) => vec!["#last = :step"],
            Proof::RecoveryCode(_) => Vec::new(),
        };
        let mut expression = String::new();
        match code_set(recovery_codes) {
            Some(codes) => {
                set.push("#codes = :codes");
                update = update.expression_attribute_values(":codes", codes);
            }
            None => expression.push_str("REMOVE #codes "),
        }
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        written(update.update_expression(expression.trim_end()).send().await)
    }

    async fn remove_factor(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        if !is_valid_key(username) {
            return Ok(false);
        }
        let sent = on_factor(self.mfa_update(username), sealed_secret, proof)
            .update_expression("REMOVE #secret, #pending, #last, #codes")
            .expression_attribute_names("#pending", MFA_PENDING)
            .expression_attribute_names("#last", MFA_LAST_STEP)
            .expression_attribute_names("#codes", MFA_RECOVERY_CODES)
            .send()
            .await;
        written(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_recovery_codes_are_no_attribute_for_a_set_cannot_be_empty() {
        assert_eq!(code_set(&[]), None);
        assert_eq!(
            code_set(&["a".to_owned(), "b".to_owned()]),
            Some(AttributeValue::Ss(vec!["a".to_owned(), "b".to_owned()]))
        );
    }
}

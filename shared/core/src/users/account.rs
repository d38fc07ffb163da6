//! The self-service part of a user's record (`crate::accounts` reads and writes it).

use super::MfaFields;

/// What the user's record says of its self-service state. Absent fields (an account an
/// operator made) mean: no address, confirmed, no token outstanding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFields {
    /// The normalised address mail goes to: the username of an account made by sign-up, set
    /// by an operator (`users set-email`) for any other.
    pub email: Option<String>,
    /// A sign-up whose address is not confirmed yet: it cannot log in.
    pub unconfirmed: bool,
    /// The hash of the one sign-up token that is still good: a newer one replaces it.
    pub signup_token: Option<String>,
    /// The hash of the one recovery token that is still good: a newer one, or any password
    /// change, ends it.
    pub recovery_token: Option<String>,
    /// The session a password change kept: its tokens stay good though issued before
    /// `tokens_valid_after`.
    pub kept_session: Option<String>,
    /// The second factor.
    pub mfa: MfaFields,
}

impl AccountFields {
    /// The hash of `purpose`'s token that is still good, if any.
    pub fn token_of(&self, purpose: Purpose) -> Option<&str> {
        match purpose {
            Purpose::Signup => self.signup_token.as_deref(),
            Purpose::Recovery => self.recovery_token.as_deref(),
        }
    }
}

/// What a mailed token is for: a token of one purpose is never accepted for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Confirms the address a sign-up gave.
    Signup,
    /// Sets a new password without the old one.
    Recovery,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Signup, Purpose::Recovery];

    /// Its name in requests (`{"type": ...}`) and in stored records.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Signup => "signup",
            Purpose::Recovery => "recovery",
        }
    }

    pub fn named(name: &str) -> Option<Purpose> {
        Purpose::ALL
            .into_iter()
            .find(|purpose| purpose.name() == name)
    }
}

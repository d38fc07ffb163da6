//! The second-factor part of a user's record (`crate::mfa` reads and writes it).

/// What the user's record says of its second factor (a TOTP authenticator). Absent fields: no
/// factor. The secrets are stored sealed (`auth-mfa`'s `SecretBox`: AES-256-GCM under a key
/// the table does not hold), the recovery codes as keyed hashes: a copy of the table alone
/// passes no second factor.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MfaFields {
    /// The confirmed factor's sealed secret: while it is set, a login needs a code.
    pub secret: Option<String>,
    /// A factor being enrolled, sealed, until a code of it confirms it.
    pub pending: Option<String>,
    /// The last TOTP time step a code was accepted for: a code of it or of an earlier step is
    /// refused, so each code works once.
    pub last_step: Option<u64>,
    /// The keyed hashes of the recovery codes not used yet.
    pub recovery_codes: Vec<String>,
}

impl MfaFields {
    /// Whether a login of the user needs a second factor.
    pub fn is_on(&self) -> bool {
        self.secret.is_some()
    }
}

impl std::fmt::Debug for MfaFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaFields")
            .field("on", &self.secret.is_some())
            .field("pending", &self.pending.is_some())
            .field("last_step", &self.last_step)
            .field("recovery_codes", &self.recovery_codes.len())
            .finish()
    }
}

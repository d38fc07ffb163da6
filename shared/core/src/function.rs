//! The functions `template.yaml` deploys, each a Cargo binary of its own: what a security event
//! is counted under (`metrics`), and what `local-api` and the emulator route to.

use crate::settings::KeyUse;

/// A deployed function, named by its Cargo binary, never by its generated physical name (which
/// changes with the stack, and would split the dashboard's lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Login,
    Refresh,
    Profile,
    Logout,
    Discovery,
    /// The Lambda authorizer of other APIs: invoked by API Gateway before their routes, never
    /// at a route of its own.
    Authorizer,
    /// `POST /signup`: makes an unconfirmed account and mails its confirmation.
    Signup,
    /// `POST /verify`: confirms an address with its mailed token, and logs in.
    Verify,
    /// `POST /recover`: mails a reset link to a known address.
    Recover,
    /// `POST /resend`: mails a confirmation or a reset link again.
    Resend,
    /// `POST /password`: a new password, with the current one and a fresh token.
    ChangePassword,
    /// `POST /password/reset`: a new password, with a mailed reset token.
    ResetPassword,
    /// `POST /login/mfa`: a login's second step, a TOTP or recovery code for its `mfa_token`.
    LoginMfa,
    /// The second factor's own routes, with a fresh access token: `POST /mfa/totp` (begin),
    /// `POST /mfa/totp/confirm`, `DELETE /mfa/totp` and `POST /mfa/recovery-codes`. One
    /// function for the four: one screen's steps, the same state and the same permissions.
    Mfa,
    /// What a user sees of their account, with an access token: `GET /sessions`,
    /// `DELETE /sessions/{id}` and `GET /account/activity`. One function for the three: one
    /// screen, the same reads and permissions.
    Sessions,
}

impl Function {
    pub const ALL: [Function; 15] = [
        Function::Login,
        Function::Refresh,
        Function::Profile,
        Function::Logout,
        Function::Discovery,
        Function::Authorizer,
        Function::Signup,
        Function::Verify,
        Function::Recover,
        Function::Resend,
        Function::ChangePassword,
        Function::ResetPassword,
        Function::LoginMfa,
        Function::Mfa,
        Function::Sessions,
    ];

    /// The functions that write the activity log (`auth_core::activity`).
    pub const RECORDING_ACTIVITY: [Function; 9] = [
        Function::Login,
        Function::LoginMfa,
        Function::Refresh,
        Function::Logout,
        Function::Verify,
        Function::ChangePassword,
        Function::ResetPassword,
        Function::Mfa,
        Function::Sessions,
    ];

    /// The functions that send mail: only these link the SES client and may call
    /// `ses:SendEmail`.
    pub const MAILING: [Function; 3] = [Function::Signup, Function::Recover, Function::Resend];

    /// The Cargo binary (`BuildProperties.Binary` in `template.yaml`), and the value of the
    /// metrics' `Function` dimension.
    pub fn name(self) -> &'static str {
        match self {
            Function::Login => "login",
            Function::Refresh => "refresh",
            Function::Profile => "profile",
            Function::Logout => "logout",
            Function::Discovery => "discovery",
            Function::Authorizer => "authorizer",
            Function::Signup => "signup",
            Function::Verify => "verify",
            Function::Recover => "recover",
            Function::Resend => "resend",
            Function::ChangePassword => "password",
            Function::ResetPassword => "password-reset",
            Function::LoginMfa => "login-mfa",
            Function::Mfa => "mfa",
            Function::Sessions => "sessions",
        }
    }

    /// Which keys the function may hold: only the functions that issue tokens sign; the
    /// others get the public keys alone (`template.yaml` passes each what this says).
    pub fn key_use(self) -> KeyUse {
        match self {
            // Verify answers a confirmation with a login's tokens, LoginMfa a login's second
            // step.
            Function::Login | Function::Refresh | Function::Verify | Function::LoginMfa => {
                KeyUse::Sign
            }
            Function::Profile
            | Function::Logout
            | Function::Discovery
            | Function::Authorizer
            | Function::Signup
            | Function::Recover
            | Function::Resend
            | Function::ChangePassword
            | Function::ResetPassword
            | Function::Mfa
            | Function::Sessions => KeyUse::Verify,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_has_its_own_name() {
        let mut names: Vec<&str> = Function::ALL
            .iter()
            .map(|function| function.name())
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Function::ALL.len());
    }
}

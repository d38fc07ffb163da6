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
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::Login,
        Function::Refresh,
        Function::Profile,
        Function::Logout,
        Function::Discovery,
        Function::Authorizer,
    ];

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
        }
    }

    /// Which keys the function may hold: only the functions that issue tokens sign; the
    /// others get the public keys alone (`template.yaml` passes each what this says).
    pub fn key_use(self) -> KeyUse {
        match self {
            Function::Login | Function::Refresh => KeyUse::Sign,
            Function::Profile | Function::Logout | Function::Discovery | Function::Authorizer => {
                KeyUse::Verify
            }
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

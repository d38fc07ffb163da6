//! What `template.yaml` gives the second factor, held to what the functions read: its two
//! functions (and their log groups) exist only with `MfaEncryptionKey` (condition
//! `SecondFactor`), so that a deployment of before does not change; the key reaches those two
//! alone, `MFA_SCOPE` every function that issues tokens, `AUTHORIZER_REQUIRE_MFA` the
//! authorizer alone; and the parameters take what the functions take. (Their DynamoDB calls
//! are accounts_template.rs's to check, their KMS rights kms.rs's, their alarms and dashboard
//! operations.rs's.)

use std::collections::BTreeSet;

use auth_core::{
    Function,
    settings::{KeyUse, Settings, mfa::VARIABLES},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use serde_json::json;
use serde_norway::Value;

use crate::accounts_template::{document, functions_take, id_of, pattern_of, tagged, template};

/// A key as `openssl rand -base64 32` makes one (any 32 bytes).
const KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// The variables of the second factor and of the authorizer's requirement of one.
fn second_factor_variables() -> BTreeSet<&'static str> {
    VARIABLES
        .into_iter()
        .chain(["AUTHORIZER_REQUIRE_MFA"])
        .collect()
}

#[test]
fn the_second_factors_functions_exist_only_with_its_key() {
    let document = document();
    let template = template();
    let condition = tagged(&document["Conditions"]["SecondFactor"], "!Not")
        .as_sequence()
        .unwrap();
    let equals = tagged(&condition[0], "!Equals").as_sequence().unwrap();
    assert_eq!(
        tagged(&equals[0], "!Ref").as_str(),
        Some("MfaEncryptionKey")
    );
    assert_eq!(equals[1].as_str(), Some(""));
    let key = &document["Parameters"]["MfaEncryptionKey"];
    assert_eq!(key["Default"].as_str(), Some(""));
    // A secret: never shown by CloudFormation.
    assert_eq!(key["NoEcho"].as_bool(), Some(true));

    let mut routes: Vec<(String, String)> = template
        .routes()
        .unwrap()
        .into_iter()
        .filter(|route| route.path.contains("mfa"))
        .map(|route| (route.key(), route.function))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            ("DELETE /mfa/totp", "MfaFunction"),
            ("POST /login/mfa", "LoginMfaFunction"),
            ("POST /mfa/recovery-codes", "MfaFunction"),
            ("POST /mfa/totp", "MfaFunction"),
            ("POST /mfa/totp/confirm", "MfaFunction"),
        ]
        .map(|(key, function)| (key.to_owned(), function.to_owned()))
    );
    for function in [Function::LoginMfa, Function::Mfa] {
        let id = id_of(&template, function);
        let resource = &document["Resources"][id.as_str()];
        assert_eq!(resource["Condition"].as_str(), Some("SecondFactor"), "{id}");
        let group = tagged(&resource["Properties"]["LoggingConfig"]["LogGroup"], "!Ref")
            .as_str()
            .unwrap();
        assert_eq!(
            document["Resources"][group]["Condition"].as_str(),
            Some("SecondFactor"),
            "{group}"
        );
    }
}

/// What a deployment with the second factor gives each function, its defaults otherwise.
fn overrides() -> serde_json::Value {
    json!({"Parameters": {
        "JWT_SECRET_KEY": "a-secret-of-at-least-thirty-two-bytes!!",
        "USERS_TABLE": "users",
        "SESSIONS_TABLE": "sessions",
        "ACTIVITY_TABLE": "activity",
        "MFA_ENCRYPTION_KEY": KEY,
        "MFA_SCOPE": "mfa",
    }})
}

#[test]
fn each_function_gets_the_second_factors_settings_it_reads() {
    let template = template();
    let all = second_factor_variables();
    for function in Function::ALL {
        let id = id_of(&template, function);
        let config = template.function(&id, &overrides()).unwrap();
        let given: BTreeSet<&str> = config
            .variables
            .keys()
            .map(String::as_str)
            .filter(|name| all.contains(name))
            .collect();
        let mut expected = BTreeSet::new();
        // Every function that issues tokens, so that a refreshed session keeps its scope.
        if function.key_use() == KeyUse::Sign {
            expected.insert("MFA_SCOPE");
        }
        match function {
            // The key seals and opens the secrets, and hashes the recovery codes: only where
            // a code is checked or a factor enrolled.
            Function::LoginMfa => {
                expected.insert("MFA_ENCRYPTION_KEY");
            }
            // The issuer names the service in an enrolment's otpauth URI.
            Function::Mfa => expected.extend(["MFA_ENCRYPTION_KEY", "MFA_ISSUER"]),
            Function::Authorizer => {
                expected.insert("AUTHORIZER_REQUIRE_MFA");
            }
            _ => {}
        }
        assert_eq!(given, expected, "{id}");

        // The template's defaults, and a deployment's key, are settings the function takes.
        let variables = config.variables;
        let settings =
            Settings::from_lookup_for(|name| variables.get(name).cloned(), function.key_use())
                .unwrap_or_else(|error| panic!("{id}: {error}"));
        assert_eq!(
            settings.mfa.key.is_some(),
            matches!(function, Function::LoginMfa | Function::Mfa),
            "{id}"
        );
    }
}

/// Whether CloudFormation takes `value` for `parameter`: its pattern, and its `MaxLength` in
/// characters.
fn template_takes(document: &Value, parameter: &str, value: &str) -> bool {
    let fits = document["Parameters"][parameter]["MaxLength"]
        .as_u64()
        .is_none_or(|max| value.chars().count() as u64 <= max);
    fits && pattern_of(document, parameter).is_match(value)
}

/// What the template lets through, the functions take; what they refuse, it refuses, and a
/// little more (spaces the functions would trim). An empty value is unset for the functions;
/// each parameter's default is let through.
#[test]
fn the_second_factors_parameters_take_what_the_functions_take() {
    let document = document();
    // Keys of 32 bytes, every last character they can end with, in every alphabet and padding
    // the functions read.
    let mut keys = Vec::new();
    for last in 0..=255u8 {
        let mut bytes = [last.wrapping_mul(37); 32];
        bytes[0] = 0xfb;
        bytes[1] = 0xff;
        bytes[31] = last;
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            keys.push(engine.encode(bytes));
        }
    }
    let short = STANDARD.encode([7u8; 16]);
    let long = STANDARD.encode([7u8; 33]);
    let mut wrong_last_bits = KEY.to_owned();
    wrong_last_bits.replace_range(42..43, "B");
    let mut both_alphabets = keys[0].clone();
    both_alphabets.replace_range(0..1, "_");
    assert!(both_alphabets.contains('+') || both_alphabets.contains('/'));
    let refused_keys = [
        short.as_str(),
        long.as_str(),
        wrong_last_bits.as_str(),
        both_alphabets.as_str(),
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE==",
        "not a key",
    ];
    let key_cases = (
        "MfaEncryptionKey",
        "MFA_ENCRYPTION_KEY",
        keys.iter().map(String::as_str).collect::<Vec<_>>(),
        refused_keys.to_vec(),
        // Trimmed by the functions; a parameter is pasted without spaces.
        vec![" AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="],
    );
    let longest_issuer = "i".repeat(64);
    let too_long_issuer = "i".repeat(65);
    let longest_scope = "s".repeat(24);
    let too_long_scope = "s".repeat(25);
    let cases = [
        key_cases,
        (
            "MfaIssuer",
            "MFA_ISSUER",
            vec![
                "JWT Auth",
                "Acme",
                "Acme: Accounts",
                "Ünïcödé Corp",
                "a",
                longest_issuer.as_str(),
            ],
            vec![
                "",
                "a\nb",
                "\t",
                "tab\there",
                "\u{a0}",
                too_long_issuer.as_str(),
            ],
            vec![" Acme", "Acme "],
        ),
        (
            "MfaScope",
            "MFA_SCOPE",
            vec![
                "mfa",
                "mfa:totp",
                "urn:example:mfa",
                "a!#$[]~",
                longest_scope.as_str(),
            ],
            vec!["two words", "quo\"te", "back\\slash", "é"],
            // Shorter than a user's scopes may be: the 4 KB of LoginMfaFunction's
            // environment (environment_size.rs).
            vec![too_long_scope.as_str()],
        ),
    ];
    for (parameter, variable, taken, refused, stricter) in cases {
        let default = document["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap();
        assert!(
            template_takes(&document, parameter, default),
            "{parameter}'s default {default:?}"
        );
        if !default.is_empty() {
            assert!(functions_take(variable, default), "{variable}: {default:?}");
        }
        for value in taken {
            assert!(
                template_takes(&document, parameter, value),
                "{parameter} refuses {value:?}"
            );
            assert!(
                functions_take(variable, value),
                "{variable} refuses {value:?}"
            );
        }
        for value in refused {
            assert!(
                !template_takes(&document, parameter, value),
                "{parameter} takes {value:?}"
            );
            if !value.is_empty() {
                assert!(
                    !functions_take(variable, value),
                    "{variable} takes {value:?}"
                );
            }
        }
        for value in stricter {
            assert!(
                !template_takes(&document, parameter, value),
                "{parameter} takes {value:?}"
            );
        }
    }
}

/// The authorizer's switch is a parameter of the two values it reads, off by default; on, it
/// needs the second factor deployed, or no token could pass.
#[test]
fn the_authorizer_requires_a_second_factor_only_when_asked_and_deployed() {
    let document = document();
    let parameter = &document["Parameters"]["AuthorizerRequireMfa"];
    assert_eq!(parameter["Default"].as_str(), Some("false"));
    let allowed: Vec<&str> = parameter["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["true", "false"]);
    let variable = &document["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
        ["AUTHORIZER_REQUIRE_MFA"];
    assert_eq!(
        tagged(variable, "!Ref").as_str(),
        Some("AuthorizerRequireMfa")
    );
    let rule = serde_norway::to_string(&document["Rules"]["MfaForAuthorizerRequireMfa"]).unwrap();
    assert!(
        rule.contains("AuthorizerRequireMfa") && rule.contains("MfaEncryptionKey"),
        "{rule}"
    );
}

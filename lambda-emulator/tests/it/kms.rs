//! A deployment that signs in KMS, through the bootstraps and the Runtime API: login and
//! refresh sign with `kms:Sign` on a key of the test server (moto) and hold no private key;
//! profile verifies with the public keys alone; discovery publishes the key, and a verifier of
//! that JWKS accepts the tokens. The template gives KMS's rights to the signers only.

use std::collections::BTreeSet;

use auth_testkit::kms::kms_signing_key;
use aws_sdk_kms::types::KeySpec;
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use lambda_emulator::events;
use serde_json::{Value, json};

use crate::bootstraps::{
    env_file_with_fresh_tables, request_like, root, start, status_and_body, template,
};

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB- and KMS-compatible server: ./scripts/test runs it"]
async fn login_refresh_and_profile_through_the_bootstraps_with_the_key_in_kms() {
    let (arn, public_pem) = kms_signing_key(KeySpec::Rsa2048).await;
    let mut env_vars = env_file_with_fresh_tables("local-env-rs256.json").await;
    let parameters = env_vars["Parameters"].as_object_mut().unwrap();
    parameters.remove("JWT_PRIVATE_KEY");
    parameters.insert("JWT_KMS_KEY_ARN".to_owned(), json!(arn));
    parameters.insert("JWT_PUBLIC_KEYS".to_owned(), json!(public_pem));

    let all = events::load(&root().join("events/rs256")).unwrap();
    let named = |name: &str| all.iter().find(|event| event.name == name).unwrap();
    let good = r#"{"username": "cosmo", "password": "space-corgi"}"#;

    let mut login = start("LoginFunction", &env_vars).await;
    let (status, tokens) = status_and_body(
        &mut login,
        &request_like(named("login-ok.json"), Some(good), None),
    )
    .await;
    assert_eq!(status, 200, "{tokens}\n{}", login.logs());
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let login_logs = login.stop_and_read_logs().await;

    let mut refresh = start("RefreshFunction", &env_vars).await;
    let (status, refreshed) = status_and_body(
        &mut refresh,
        &request_like(named("refresh-ok.json"), None, Some(&refresh_token)),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let refreshed_access = refreshed["access_token"].as_str().unwrap().to_owned();
    refresh.stop_and_read_logs().await;

    let mut profile = start("ProfileFunction", &env_vars).await;
    for token in [&access, &refreshed_access] {
        let (status, body) = status_and_body(
            &mut profile,
            &request_like(named("profile-ok.json"), None, Some(token)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["logged_in_as"], "cosmo");
    }
    // A token the KMS key did not sign: the fixture key's, which profile does not trust.
    let (status, body) = status_and_body(
        &mut profile,
        &request_like(
            named("profile-ok.json"),
            None,
            Some(&signed_by_another_key(&access)),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (422, json!({"msg": "Signature verification failed"}))
    );
    profile.stop_and_read_logs().await;

    let mut discovery = start("DiscoveryFunction", &env_vars).await;
    let (status, jwks) =
        status_and_body(&mut discovery, &named("discovery-jwks.json").event.clone()).await;
    assert_eq!(status, 200, "{jwks}");
    discovery.stop_and_read_logs().await;
    let jwks: JwkSet = serde_json::from_value(jwks).unwrap();
    auth_core::keys::install_crypto_provider();
    for token in [&access, &refresh_token] {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = jwks.find(&kid).expect("the token's key is published");
        let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims =
            jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
                .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(claims.claims["sub"], "cosmo");
    }
    // The private key was never there; its PEM is in no log.
    assert!(!login_logs.contains("PRIVATE KEY"));
}

/// `token` with its header and claims, signed by the RS256 fixture key instead.
fn signed_by_another_key(token: &str) -> String {
    let (message, _) = token.rsplit_once('.').unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
        "../../../interop/keys/rs256-private.pem"
    ))
    .unwrap();
    auth_core::keys::install_crypto_provider();
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::RS256)
            .unwrap();
    format!("{message}.{signature}")
}

/// `template.yaml`: JWT_KMS_KEY_ARN and the rights to sign with it (kms:Sign, and
/// kms:GetPublicKey for the cold start) reach the functions that issue tokens and no other.
#[test]
fn only_the_functions_that_issue_tokens_may_sign_in_kms() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let document: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let template = template();
    let env_vars = json!({"Parameters": {
        "JWT_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/test",
        "JWT_PUBLIC_KEYS": "-----BEGIN PUBLIC KEY-----",
        "USERS_TABLE": "users",
        "SESSIONS_TABLE": "sessions",
        "ACTIVITY_TABLE": "activity",
    }});
    let (mut with_variable, mut with_sign) = (BTreeSet::new(), BTreeSet::new());
    for function in template.function_ids() {
        let variables = template.function(&function, &env_vars).unwrap().variables;
        if variables.contains_key("JWT_KMS_KEY_ARN") {
            with_variable.insert(function.clone());
        }
        let policies = serde_norway::to_string(
            &document["Resources"][function.as_str()]["Properties"]["Policies"],
        )
        .unwrap();
        if policies.contains("kms:Sign") {
            assert!(
                policies.contains("JwtSigningKey"),
                "{function}: kms:Sign on another key"
            );
            with_sign.insert(function.clone());
        }
        assert!(!policies.contains("kms:*"), "{function}");
    }
    // Verify too: a confirmed sign-up answers a login's tokens; and LoginMfa, a login's
    // second step.
    let signers = BTreeSet::from([
        "LoginFunction".to_owned(),
        "RefreshFunction".to_owned(),
        "VerifyFunction".to_owned(),
        "LoginMfaFunction".to_owned(),
    ]);
    assert_eq!(with_variable, signers);
    assert_eq!(with_sign, signers);
}

use auth_core::{
    claims::TokenKind,
    device_proof,
    keys::{Asymmetric, KeySet, remote::RemoteSigner, remote::RemoteSigningError},
    settings::{KMS_KEY_VAR, KeyUse, PUBLIC_KEYS_VAR, Settings, SettingsError, Signing},
    tokens::{SigningError, TokenError, TokenService, TokenSpec},
};
use auth_kms::KmsSigner;
use auth_testkit::kms::{
    KMS_TEST_ISSUER as ISSUER, kms_client, kms_key, kms_signing_key, verifier,
};
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

const NOW: i64 = 1_800_000_000;

fn settings(pairs: &[(&str, &str)], key_use: KeyUse) -> Result<Settings, SettingsError> {
    Settings::from_lookup_for(
        |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        },
        key_use,
    )
}

/// A login function's settings over the KMS key `arn`, its public keys `public_pems`, read.
async fn signer_settings(
    algorithm: &str,
    arn: &str,
    public_pems: &str,
) -> Result<Settings, SettingsError> {
    let settings = settings(
        &[
            ("JWT_ALGORITHM", algorithm),
            (KMS_KEY_VAR, arn),
            (PUBLIC_KEYS_VAR, public_pems),
            ("JWT_ISSUER", ISSUER),
        ],
        KeyUse::Sign,
    )?;
    assert!(matches!(settings.signing, Signing::Kms(_)));
    auth_kms::read_key(settings, &auth_dynamodb::aws_config().await).await
}

fn access_spec(jti: &str) -> TokenSpec<'_> {
    TokenSpec {
        kind: TokenKind::Access,
        subject: "cosmo",
        fresh: true,
        issued_at: NOW,
        jti,
        session: None,
        scope: Some("read"),
        csrf: None,
    }
}

fn header_of(token: &str) -> Value {
    let segment = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn tokens_and_proofs_signed_in_kms_verify_with_the_public_keys_alone_under_the_keys_thumbprint()
 {
    for (algorithm, spec, signature_bytes) in [
        ("RS256", KeySpec::Rsa2048, 256),
        ("ES256", KeySpec::EccNistP256, 64),
    ] {
        let (arn, public_pem) = kms_signing_key(spec).await;
        let settings = signer_settings(algorithm, &arn, &public_pem).await.unwrap();
        let Signing::Asymmetric(keys) = &settings.signing else {
            panic!("{algorithm}: the KMS key was not read");
        };
        assert!(
            keys.signing_key().is_none(),
            "no private key in the process"
        );
        assert_eq!(keys.remote_signer().unwrap().key_name(), arn);
        let tokens = TokenService::new(&settings).unwrap();
        let token = tokens.issue_spec(&access_spec("j-1")).await.unwrap();

        let header = header_of(&token);
        assert_eq!(header["alg"], algorithm);
        let published = KeySet::verifying_only(
            if algorithm == "RS256" {
                Asymmetric::Rs256
            } else {
                Asymmetric::Es256
            },
            (PUBLIC_KEYS_VAR, &public_pem),
        )
        .unwrap();
        assert_eq!(
            header["kid"],
            published.signing_kid(),
            "{algorithm}: the thumbprint"
        );
        let signature = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().unwrap())
            .unwrap();
        assert_eq!(
            signature.len(),
            signature_bytes,
            "{algorithm}: a JWS signature"
        );

        let verifying = verifier(algorithm, &public_pem);
        let claims = verifying
            .verify_at(&token, TokenKind::Access, NOW as f64)
            .unwrap_or_else(|error| panic!("{algorithm}: {error}"));
        assert_eq!(claims.subject, "cosmo");
        assert_eq!(claims.scope.as_deref(), Some("read"));

        let proof = device_proof::issue(&tokens, "cosmo", None, NOW)
            .await
            .unwrap();
        assert!(
            device_proof::check(&verifying, &proof, "cosmo", NOW).is_some(),
            "{algorithm}: a device proof signed in KMS"
        );
        // The synchronous path, for keys held here, refuses a key in KMS rather than guess.
        assert!(matches!(
            tokens.issue_spec_in_process(&access_spec("j-2")),
            Err(SigningError::RemoteKey)
        ));
    }
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn a_token_signed_by_a_key_outside_kms_is_refused() {
    let (arn, public_pem) = kms_signing_key(KeySpec::Rsa2048).await;
    let verifying = verifier("RS256", &public_pem);
    let kms_kid = header_of(
        &TokenService::new(&signer_settings("RS256", &arn, &public_pem).await.unwrap())
            .unwrap()
            .issue_spec(&access_spec("j"))
            .await
            .unwrap(),
    )["kid"]
        .clone();

    // Another KMS key's tokens, and a private key's with the KMS key's kid in their header.
    let (other_arn, other_pem) = kms_signing_key(KeySpec::Rsa2048).await;
    let other = TokenService::new(
        &signer_settings("RS256", &other_arn, &other_pem)
            .await
            .unwrap(),
    )
    .unwrap()
    .issue_spec(&access_spec("j"))
    .await
    .unwrap();
    let local = settings(
        &[
            ("JWT_ALGORITHM", "RS256"),
            (
                "JWT_PRIVATE_KEY",
                include_str!("../../../../interop/keys/rs256-private.pem"),
            ),
            ("JWT_ISSUER", ISSUER),
        ],
        KeyUse::SignAndVerify,
    )
    .unwrap();
    let forged = TokenService::new(&local)
        .unwrap()
        .issue_spec_in_process(&access_spec("j"))
        .unwrap();
    let (_, rest) = forged.split_once('.').unwrap();
    let under_kms_kid = format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&serde_json::json!({"alg": "RS256", "kid": kms_kid, "typ": "JWT"}))
                .unwrap()
        )
    );
    for token in [&other, &forged, &under_kms_kid] {
        assert_eq!(
            verifying.verify_at(token, TokenKind::Access, NOW as f64),
            Err(TokenError::BadSignature)
        );
    }
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn a_kms_key_that_cannot_sign_the_algorithm_stops_the_start_naming_the_variable() {
    let (rsa, rsa_pem) = kms_signing_key(KeySpec::Rsa2048).await;
    let (encrypting, encrypting_pem) =
        kms_key(KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let (p256, p256_pem) = kms_signing_key(KeySpec::EccNistP256).await;
    // secp256k1 signs ECDSA_SHA_256 too, and its point reads as a P-256 one: only the spec tells.
    let (k1, k1_pem) = kms_signing_key(KeySpec::EccSecgP256K1).await;
    let unknown =
        rsa.rsplit_once('/').unwrap().0.to_owned() + "/00000000-0000-0000-0000-000000000000";
    let cases = [
        (
            "RS256",
            &encrypting,
            &encrypting_pem,
            KMS_KEY_VAR,
            "not SIGN_VERIFY",
        ),
        ("ES256", &rsa, &p256_pem, KMS_KEY_VAR, "ECC_NIST_P256"),
        (
            "ES256",
            &k1,
            &k1_pem,
            KMS_KEY_VAR,
            "of spec ECC_SECG_P256K1",
        ),
        ("RS256", &p256, &rsa_pem, KMS_KEY_VAR, "RSA_2048"),
        ("RS256", &unknown, &rsa_pem, KMS_KEY_VAR, "kms:GetPublicKey"),
        // Its public keys must begin with the KMS key's, as the verifying functions read them.
        (
            "RS256",
            &rsa,
            &encrypting_pem,
            PUBLIC_KEYS_VAR,
            "does not begin with the public key of the KMS key",
        ),
    ];
    for (algorithm, arn, public_pems, variable, said) in cases {
        let error = signer_settings(algorithm, arn, public_pems)
            .await
            .unwrap_err();
        assert_eq!(error.variable, variable, "{algorithm} {arn}: {error}");
        assert!(error.problem.contains(said), "{algorithm} {arn}: {error}");
    }
}

/// Environment variables, by name.
type Variables<'a> = &'a [(&'a str, &'a str)];

#[test]
fn the_settings_keep_kms_to_rs256_and_es256_signers_without_a_private_key() {
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let public = include_str!("../../../../interop/keys/rs256-public.pem");
    let private = include_str!("../../../../interop/keys/rs256-private.pem");
    // (variables, what the function does, the variable named, what the message says)
    let cases: [(Variables, KeyUse, &str, &str); 5] = [
        (&[(KMS_KEY_VAR, arn)], KeyUse::Sign, KMS_KEY_VAR, "HS256"),
        (
            &[
                ("JWT_ALGORITHM", "EdDSA"),
                (KMS_KEY_VAR, arn),
                (PUBLIC_KEYS_VAR, public),
            ],
            KeyUse::Sign,
            "JWT_ALGORITHM",
            "EdDSA is not signed in KMS",
        ),
        (
            &[
                ("JWT_ALGORITHM", "RS256"),
                (KMS_KEY_VAR, arn),
                (PUBLIC_KEYS_VAR, public),
                ("JWT_PRIVATE_KEY", private),
            ],
            KeyUse::Sign,
            "JWT_PRIVATE_KEY",
            "beside JWT_KMS_KEY_ARN",
        ),
        (
            &[("JWT_ALGORITHM", "RS256"), (KMS_KEY_VAR, arn)],
            KeyUse::Sign,
            PUBLIC_KEYS_VAR,
            "is required",
        ),
        (
            &[
                ("JWT_ALGORITHM", "RS256"),
                (KMS_KEY_VAR, arn),
                (PUBLIC_KEYS_VAR, public),
            ],
            KeyUse::Verify,
            KMS_KEY_VAR,
            "only verifies tokens",
        ),
    ];
    for (pairs, key_use, variable, said) in cases {
        let error = settings(pairs, key_use).unwrap_err();
        assert_eq!(error.variable, variable, "{error}");
        assert!(error.problem.contains(said), "{error}");
        assert!(!error.to_string().contains("PRIVATE KEY-----"), "{error}");
    }
    // Unread, it builds no tokens: only a cold start that asked KMS does.
    let unread = settings(
        &[
            ("JWT_ALGORITHM", "ES256"),
            (KMS_KEY_VAR, arn),
            (PUBLIC_KEYS_VAR, public),
        ],
        KeyUse::SignAndVerify,
    )
    .unwrap();
    assert!(matches!(
        TokenService::new(&unread),
        Err(SigningError::UnreadRemoteKey)
    ));
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn kms_out_of_reach_is_unavailable_and_a_gone_key_is_refused() {
    // Nothing listens on a port just freed: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = auth_dynamodb::aws_config().await;
    let unreachable = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&config)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build(),
    );
    let (arn, _) = kms_signing_key(KeySpec::Rsa2048).await;
    let signer = KmsSigner::new(unreachable, &arn, Asymmetric::Rs256);
    let error = signer.sign(b"message").await.unwrap_err();
    assert!(
        matches!(error, RemoteSigningError::Unavailable(_)),
        "{error}"
    );
    assert!(SigningError::from(error).is_unavailable());

    // A key deleted, or never made: KMS refuses, and no retry will help (moto signs with a
    // disabled key, so the gone key stands for every refusal).
    let gone = format!(
        "{}/00000000-0000-0000-0000-000000000000",
        arn.rsplit_once('/').unwrap().0
    );
    let refusing = KmsSigner::new(kms_client().await, &gone, Asymmetric::Rs256);
    let error = refusing.sign(b"message").await.unwrap_err();
    assert!(matches!(error, RemoteSigningError::Refused(_)), "{error}");
    assert!(
        error.to_string().contains(&gone),
        "the log names the key: {error}"
    );
}

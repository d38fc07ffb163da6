//! Tokens of an asymmetric deployment: PyJWT's header with the signing key's `kid`, the key
//! chosen by `kid`, only the configured algorithm, an issuer always, scopes, and the key
//! rotation the runbook of docs/keys-and-jwks.md walks through.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use serde_json::json;

use auth_core::{
    claims::{TokenKind, VerifiedClaims},
    settings::{ALGORITHM_VAR, AUDIENCE_VAR, ISSUER_VAR, KeyUse, PRIVATE_KEY_VAR, PUBLIC_KEYS_VAR},
    tokens::{IssuerUnknown, SigningError, TokenError, TokenService, TokenSpec},
};
use auth_testkit::settings_with;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

const NOW: i64 = 1_800_000_000;
const ORIGIN: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";

macro_rules! key_file {
    ($name:literal) => {
        include_str!(concat!("../../../../interop/keys/", $name))
    };
}

/// Each algorithm with its fixture key pair.
fn fixtures() -> [(&'static str, &'static str, &'static str); 3] {
    [
        (
            "RS256",
            key_file!("rs256-private.pem"),
            key_file!("rs256-public.pem"),
        ),
        (
            "ES256",
            key_file!("es256-private.pem"),
            key_file!("es256-public.pem"),
        ),
        (
            "EdDSA",
            key_file!("eddsa-private.pem"),
            key_file!("eddsa-public.pem"),
        ),
    ]
}

fn vectors() -> Value {
    serde_json::from_str(key_file!("vectors.json")).unwrap()
}

/// The service of `algorithm` signing with `private`, publishing `public` besides, as a
/// request that reached `ORIGIN` sees it.
fn service(algorithm: &str, private: &str, public: Option<&str>) -> TokenService {
    let mut overrides = vec![(ALGORITHM_VAR, algorithm), (PRIVATE_KEY_VAR, private)];
    if let Some(public) = public {
        overrides.push((PUBLIC_KEYS_VAR, public));
    }
    TokenService::new(&settings_with(&overrides))
        .unwrap()
        .for_origin(Some(ORIGIN))
        .unwrap()
}

/// A new P-256 key pair, as PEM: (private PKCS#8, public SPKI).
fn new_es256_key() -> (String, String) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &SystemRandom::new(),
    )
    .unwrap();
    // SubjectPublicKeyInfo of a P-256 key: its fixed DER prefix, then the uncompressed point.
    let mut spki = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    spki.extend_from_slice(pair.public_key().as_ref());
    (
        pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec())),
        pem::encode(&pem::Pem::new("PUBLIC KEY", spki)),
    )
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn access(service: &TokenService) -> String {
    service
        .issue_at(TokenKind::Access, "cosmo", true, NOW, "jti-1", None)
        .unwrap()
}

fn verify(service: &TokenService, token: &str) -> Result<VerifiedClaims, TokenError> {
    service.verify_at(token, TokenKind::Access, NOW as f64 + 1.0)
}

/// The `kid`s a service publishes, the signing key's first.
fn kids(service: &TokenService) -> Vec<String> {
    service
        .key_set()
        .unwrap()
        .kids()
        .map(str::to_owned)
        .collect()
}

fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A token with `claims`, signed by `private` (PEM) with `algorithm`, its header naming `kid`.
fn signed_by(algorithm: Algorithm, private: &str, kid: Option<&str>, claims: &Value) -> String {
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(private.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(private.as_bytes()),
        _ => EncodingKey::from_ed_pem(private.as_bytes()),
    }
    .unwrap();
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn claims() -> Value {
    json!({"sub": "cosmo", "type": "access", "iat": NOW, "nbf": NOW, "exp": NOW + 900,
           "jti": "j", "iss": ORIGIN})
}

#[test]
fn tokens_carry_pyjwts_header_with_the_signing_keys_thumbprint_and_the_origin_as_issuer() {
    for (algorithm, private, _) in fixtures() {
        let token = access(&service(algorithm, private, None));
        let header = token.split('.').next().unwrap();
        let kid = vectors()[algorithm]["thumbprint"]
            .as_str()
            .unwrap()
            .to_owned();
        // Byte for byte what `jwt.encode(..., headers={"kid": kid})` writes.
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            format!(r#"{{"alg":"{algorithm}","kid":"{kid}","typ":"JWT"}}"#).as_bytes(),
            "{algorithm}"
        );
        assert_eq!(segment(&token, 1)["iss"], ORIGIN, "{algorithm}");
        assert_eq!(
            verify(&service(algorithm, private, None), &token)
                .unwrap()
                .subject,
            "cosmo"
        );
    }
}

#[test]
fn a_token_signed_by_another_key_or_naming_an_unknown_kid_is_a_bad_signature() {
    let (_, private, _) = fixtures()[1];
    let ours = service("ES256", private, None);
    let kid = ours.key_set().unwrap().signing_kid().to_owned();
    let (stranger, _) = new_es256_key();
    // A forger who knows our kid but not our key.
    let forged = signed_by(Algorithm::ES256, &stranger, Some(&kid), &claims());
    assert_eq!(verify(&ours, &forged), Err(TokenError::BadSignature));
    // Our key, but a kid we do not publish: the answer a bad signature gets.
    let unknown_kid = signed_by(Algorithm::ES256, private, Some("not-ours"), &claims());
    assert_eq!(verify(&ours, &unknown_kid), Err(TokenError::BadSignature));
    // A kid that is not a string, on a token our key signed: not tried against every key.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":7}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    let signing_input = format!("{header}.{payload}");
    let key = EncodingKey::from_ec_pem(private.as_bytes()).unwrap();
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::ES256).unwrap();
    let kid_not_a_string = format!("{signing_input}.{signature}");
    assert_eq!(
        verify(&ours, &kid_not_a_string),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn a_token_without_a_kid_verifies_against_the_published_keys_like_flask_jwt_extended_writes_it() {
    let (_, private, _) = fixtures()[1];
    let (next_private, next_public) = new_es256_key();
    let ours = service("ES256", private, Some(&next_public));
    for signer in [private, next_private.as_str()] {
        let token = signed_by(Algorithm::ES256, signer, None, &claims());
        assert_eq!(verify(&ours, &token).unwrap().subject, "cosmo");
    }
    let (stranger, _) = new_es256_key();
    let token = signed_by(Algorithm::ES256, &stranger, None, &claims());
    assert_eq!(verify(&ours, &token), Err(TokenError::BadSignature));
}

#[test]
fn only_the_configured_algorithm_is_accepted_whatever_the_key_would_check() {
    let (_, private, public) = fixtures()[0];
    let ours = service("RS256", private, None);
    // The classic confusion: HS256 "signed" with our public key, which anyone has.
    let confused = auth_testkit::sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims().to_string(),
        public,
    );
    assert_eq!(
        verify(&ours, &confused),
        Err(TokenError::AlgorithmNotAllowed)
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    assert_eq!(verify(&ours, &none), Err(TokenError::AlgorithmNotAllowed));
    let (es_private, _) = new_es256_key();
    let other = signed_by(Algorithm::ES256, &es_private, None, &claims());
    assert_eq!(verify(&ours, &other), Err(TokenError::AlgorithmNotAllowed));
}

#[test]
fn the_issuer_is_the_requests_origin_and_required() {
    let (_, private, _) = fixtures()[2];
    let base = TokenService::new(&settings_with(&[
        (ALGORITHM_VAR, "EdDSA"),
        (PRIVATE_KEY_VAR, private),
    ]))
    .unwrap();
    let here = base.for_origin(Some(ORIGIN)).unwrap();
    let elsewhere = base.for_origin(Some("https://auth.example.com")).unwrap();
    let token = access(&here);
    assert_eq!(verify(&elsewhere, &token), Err(TokenError::WrongIssuer));
    let mut without_iss = claims();
    without_iss.as_object_mut().unwrap().remove("iss");
    let token = signed_by(Algorithm::EdDSA, private, None, &without_iss);
    assert_eq!(verify(&here, &token), Err(TokenError::MissingClaim("iss")));

    // A request that does not say where it arrived gets no service, and the unresolved one
    // neither signs nor accepts anything.
    assert_eq!(base.for_origin(None).err(), Some(IssuerUnknown));
    assert!(matches!(
        base.issue_at(TokenKind::Access, "cosmo", true, NOW, "j", None),
        Err(SigningError::NoIssuer(IssuerUnknown))
    ));
    assert_eq!(verify(&base, &access(&here)), Err(TokenError::WrongIssuer));
}

#[test]
fn a_configured_issuer_wins_over_the_origin_and_hs256_has_none_unless_configured() {
    let (_, private, _) = fixtures()[2];
    let fixed = TokenService::new(&settings_with(&[
        (ALGORITHM_VAR, "EdDSA"),
        (PRIVATE_KEY_VAR, private),
        (ISSUER_VAR, "https://auth.example.com"),
    ]))
    .unwrap();
    for origin in [None, Some(ORIGIN)] {
        let service = fixed.for_origin(origin).unwrap();
        assert_eq!(service.issuer(), Some("https://auth.example.com"));
    }
    let hs256 = TokenService::new(&settings_with(&[])).unwrap();
    let service = hs256.for_origin(Some(ORIGIN)).unwrap();
    assert_eq!(service.issuer(), None);
    assert!(segment(&access(&service), 1).get("iss").is_none());
}

#[test]
fn access_tokens_carry_the_users_scopes_and_refresh_tokens_never() {
    let (_, private, _) = fixtures()[2];
    let service = service("EdDSA", private, None);
    let issue = |kind, scope| {
        service
            .issue_spec_in_process(&TokenSpec {
                kind,
                subject: "cosmo",
                fresh: true,
                issued_at: NOW,
                jti: "j",
                session: None,
                scope,
                csrf: None,
            })
            .unwrap()
    };
    let access = issue(TokenKind::Access, Some("admin read:reports"));
    assert_eq!(segment(&access, 1)["scope"], "admin read:reports");
    assert_eq!(
        verify(&service, &access).unwrap().scope.as_deref(),
        Some("admin read:reports")
    );
    let refresh = issue(TokenKind::Refresh, Some("admin"));
    assert!(segment(&refresh, 1).get("scope").is_none());
    // A user without scopes gets exactly the claims of before.
    let plain = issue(TokenKind::Access, Some(""));
    assert_eq!(
        segment(&plain, 1),
        segment(&issue(TokenKind::Access, None), 1)
    );
    assert!(segment(&plain, 1).get("scope").is_none());
}

/// The runbook of docs/keys-and-jwks.md, step by step: publish the next key, sign with it while the old one
/// stays published, then retire the old one.
#[test]
fn key_rotation_keeps_every_token_valid_through_the_overlap_and_ends_the_old_keys_after() {
    let (_, old_private, old_public) = fixtures()[1];
    let (new_private, new_public) = new_es256_key();

    // Before: the old key signs and is the only one published.
    let before = service("ES256", old_private, None);
    let old_token = access(&before);
    let old_kid = kids(&before)[0].clone();

    // 1. The next key is published; the old one still signs.
    let announced = service("ES256", old_private, Some(&new_public));
    let new_kid = kids(&announced)[1].clone();
    assert_eq!(kids(&announced), [old_kid.clone(), new_kid.clone()]);
    assert!(verify(&announced, &old_token).is_ok());

    // 2. After the verifiers' cache time, the new key signs; the old one stays published.
    let switched = service("ES256", &new_private, Some(old_public));
    assert_eq!(kids(&switched), [new_kid.clone(), old_kid.clone()]);
    let new_token = access(&switched);
    assert_eq!(segment(&new_token, 0)["kid"], new_kid.as_str());
    assert!(verify(&switched, &old_token).is_ok());
    assert!(verify(&switched, &new_token).is_ok());

    // 3. Once every token the old key signed has expired, it is removed.
    let after = service("ES256", &new_private, None);
    assert_eq!(kids(&after), [new_kid]);
    assert_eq!(verify(&after, &old_token), Err(TokenError::BadSignature));
    assert!(verify(&after, &new_token).is_ok());
}

/// A verifier configured as API Gateway's JWT authorizer is (issuer, audience, the published
/// key; jsonwebtoken's own checks, not ours) takes our access tokens and refuses our refresh
/// tokens, which name the issuer's refresh URL as their audience; we take each where it
/// belongs, and a refresh token of before the refresh audience still refreshes.
#[test]
fn refresh_tokens_name_an_audience_no_api_accepts_and_only_our_refresh_takes_them() {
    for (algorithm, private, public) in fixtures() {
        let service = TokenService::new(&settings_with(&[
            (ALGORITHM_VAR, algorithm),
            (PRIVATE_KEY_VAR, private),
            (AUDIENCE_VAR, "orders-api"),
        ]))
        .unwrap()
        .for_origin(Some(ORIGIN))
        .unwrap();
        let refresh = service
            .issue_at(TokenKind::Refresh, "cosmo", false, NOW, "r-1", None)
            .unwrap();
        let access = access(&service);
        let refresh_url = format!("{ORIGIN}/refresh");
        assert_eq!(
            segment(&refresh, 1)["aud"],
            refresh_url.as_str(),
            "{algorithm}"
        );
        assert_eq!(segment(&access, 1)["aud"], "orders-api", "{algorithm}");
        assert_eq!(service.refresh_audience(), Some(refresh_url), "{algorithm}");

        let jwt_algorithm: Algorithm = algorithm.parse().unwrap();
        let key = match jwt_algorithm {
            Algorithm::RS256 => jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()),
            Algorithm::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()),
            _ => jsonwebtoken::DecodingKey::from_ed_pem(public.as_bytes()),
        }
        .unwrap();
        let mut like_api_gateway = jsonwebtoken::Validation::new(jwt_algorithm);
        like_api_gateway.set_issuer(&[ORIGIN]);
        like_api_gateway.set_audience(&["orders-api"]);
        let decoded = jsonwebtoken::decode::<Value>(&access, &key, &like_api_gateway);
        assert_eq!(decoded.unwrap().claims["sub"], "cosmo", "{algorithm}");
        let refused = jsonwebtoken::decode::<Value>(&refresh, &key, &like_api_gateway);
        assert_eq!(
            refused.map_err(|error| error.into_kind()).unwrap_err(),
            jsonwebtoken::errors::ErrorKind::InvalidAudience,
            "{algorithm}"
        );

        let at = NOW as f64 + 1.0;
        assert!(service.verify_at(&refresh, TokenKind::Refresh, at).is_ok());
        assert_eq!(
            service.verify_at(&refresh, TokenKind::Access, at),
            Err(TokenError::RefreshTokenNotAllowed)
        );
        assert_eq!(
            service.verify_at(&access, TokenKind::Refresh, at),
            Err(TokenError::RefreshTokenRequired)
        );
        // Signed before this version: the access tokens' audience, still good at /refresh.
        let legacy = json!({"sub": "cosmo", "type": "refresh", "iat": NOW, "nbf": NOW,
                            "exp": NOW + 3600, "jti": "r-0", "iss": ORIGIN, "aud": "orders-api"});
        let kid = segment(&access, 0)["kid"].as_str().unwrap().to_owned();
        let legacy = signed_by(jwt_algorithm, private, Some(&kid), &legacy);
        assert!(
            service.verify_at(&legacy, TokenKind::Refresh, at).is_ok(),
            "{algorithm}"
        );
        // The refresh audience makes no access token: an access token naming it is refused.
        let misdirected = json!({"sub": "cosmo", "type": "access", "iat": NOW, "nbf": NOW,
                                 "exp": NOW + 900, "jti": "a-0", "iss": ORIGIN,
                                 "aud": format!("{ORIGIN}/refresh")});
        let misdirected = signed_by(jwt_algorithm, private, Some(&kid), &misdirected);
        assert_eq!(
            service.verify_at(&misdirected, TokenKind::Access, at),
            Err(TokenError::WrongAudience),
            "{algorithm}"
        );
    }
}

/// HS256 stays flask-jwt-extended's byte for byte: no refresh audience.
#[test]
fn hs256_refresh_tokens_carry_the_configured_audience_as_before() {
    let service = TokenService::new(&settings_with(&[(AUDIENCE_VAR, "orders-api")])).unwrap();
    assert_eq!(service.refresh_audience(), None);
    let refresh = service
        .issue_at(TokenKind::Refresh, "cosmo", false, NOW, "r-1", None)
        .unwrap();
    assert_eq!(segment(&refresh, 1)["aud"], "orders-api");
}

/// Settings read for `key_use` from exactly `variables`.
fn settings_for(
    key_use: KeyUse,
    variables: &[(&str, &str)],
) -> Result<auth_core::settings::Settings, auth_core::settings::SettingsError> {
    auth_core::settings::Settings::from_lookup_for(
        |name| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        },
        key_use,
    )
}

/// A function that only verifies holds the public keys alone: it takes what the signer
/// issues, publishes the same keys in the same order, refuses a private key at start, and
/// cannot sign if asked.
#[test]
fn a_verifying_function_holds_the_public_keys_alone_and_takes_what_the_signer_issues() {
    for (algorithm, private, public) in fixtures() {
        let published = public.to_owned();
        let signer_settings = settings_for(
            KeyUse::Sign,
            &[
                (ALGORITHM_VAR, algorithm),
                (PRIVATE_KEY_VAR, private),
                (PUBLIC_KEYS_VAR, &published),
            ],
        )
        .unwrap();
        let verifier_settings = settings_for(
            KeyUse::Verify,
            &[(ALGORITHM_VAR, algorithm), (PUBLIC_KEYS_VAR, &published)],
        )
        .unwrap();
        let signer = TokenService::new(&signer_settings)
            .unwrap()
            .for_origin(Some(ORIGIN))
            .unwrap();
        let verifier = TokenService::new(&verifier_settings)
            .unwrap()
            .for_origin(Some(ORIGIN))
            .unwrap();
        let token = access(&signer);
        assert_eq!(verify(&verifier, &token).unwrap().subject, "cosmo");
        assert_eq!(kids(&signer), kids(&verifier), "{algorithm}");
        assert!(matches!(
            verifier.issue_at(TokenKind::Access, "cosmo", true, NOW, "j", None),
            Err(SigningError::VerifyOnly)
        ));

        let refused = settings_for(
            KeyUse::Verify,
            &[
                (ALGORITHM_VAR, algorithm),
                (PRIVATE_KEY_VAR, private),
                (PUBLIC_KEYS_VAR, public),
            ],
        )
        .unwrap_err();
        assert_eq!(refused.variable, PRIVATE_KEY_VAR);
        assert!(
            refused.problem.contains("only verifies tokens"),
            "{refused}"
        );
        assert!(!refused.to_string().contains(&private[40..80]));
        let missing = settings_for(KeyUse::Verify, &[(ALGORITHM_VAR, algorithm)]).unwrap_err();
        assert_eq!(missing.variable, PUBLIC_KEYS_VAR, "{missing}");
    }
}

/// A function that issues tokens must list its own public key first in JWT_PUBLIC_KEYS: what
/// every function that only verifies reads. The local server (`SignAndVerify`) needs none.
#[test]
fn a_signing_function_needs_its_own_public_key_first_in_the_published_keys() {
    let (_, private, public) = fixtures()[0];
    let stranger = include_str!("../../../../interop/keys/stranger-rs256-public.pem");
    let with_keys = |key_use: KeyUse, published: Option<&str>| {
        let mut variables = vec![(ALGORITHM_VAR, "RS256"), (PRIVATE_KEY_VAR, private)];
        if let Some(published) = published {
            variables.push((PUBLIC_KEYS_VAR, published));
        }
        settings_for(key_use, &variables)
    };
    for published in [
        None,
        Some(stranger.to_owned()),
        Some(format!("{stranger}{public}")),
    ] {
        let refused = with_keys(KeyUse::Sign, published.as_deref()).unwrap_err();
        assert_eq!(refused.variable, PUBLIC_KEYS_VAR, "{refused}");
    }
    assert!(with_keys(KeyUse::Sign, Some(&format!("{public}{stranger}"))).is_ok());
    // On its own, a server signs and verifies with any further keys, or none.
    assert!(with_keys(KeyUse::SignAndVerify, None).is_ok());
    assert!(with_keys(KeyUse::SignAndVerify, Some(stranger)).is_ok());
}

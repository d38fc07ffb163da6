//! The provider against known answers: RFC 4231's HMAC vector, RFC 7638's and RFC 8037's JWK
//! thumbprints, and tokens PyJWT signed with the keys of `interop/keys/` (written by
//! `interop/make_key_vectors.py`): what a verifier we did not write makes of these algorithms.

use jsonwebtoken::{
    crypto,
    jwk::{Jwk, ThumbprintHash},
};
use serde_json::Value;

use super::*;

const SECRET: &[u8] = b"a-secret-that-is-long-enough-for-hs256!";

macro_rules! key_file {
    ($name:literal) => {
        include_bytes!(concat!("../../../../../interop/keys/", $name))
    };
}

fn vectors() -> Value {
    serde_json::from_slice(key_file!("vectors.json")).unwrap()
}

/// A PyJWT token's signing input and signature.
fn split(token: &str) -> (&str, &str) {
    token.rsplit_once('.').unwrap()
}

fn verifies(token: &str, key: &DecodingKey, algorithm: Algorithm) -> bool {
    let (message, signature) = split(token);
    crypto::verify(signature, message.as_bytes(), key, algorithm).unwrap()
}

/// RFC 4231, test case 2: HMAC-SHA256 with the key "Jefe".
#[test]
fn signs_the_rfc_4231_test_vector() {
    install();
    let key = EncodingKey::from_secret(b"Jefe").unwrap();
    let signature = crypto::sign(b"what do ya want for nothing?", &key, Algorithm::HS256).unwrap();
    // base64url of 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
    assert_eq!(signature, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
}

#[test]
fn hs256_verifies_its_own_signature_and_refuses_others() {
    install();
    let signature = crypto::sign(
        b"message",
        &EncodingKey::from_secret(SECRET).unwrap(),
        Algorithm::HS256,
    )
    .unwrap();
    let key = DecodingKey::from_secret(SECRET).unwrap();
    let verify = |message: &[u8], signature: &str| {
        crypto::verify(signature, message, &key, Algorithm::HS256).unwrap()
    };
    assert!(verify(b"message", &signature));
    assert!(!verify(b"messagE", &signature));
    let other = DecodingKey::from_secret(b"another-secret-that-is-long-enough!!").unwrap();
    assert!(!crypto::verify(&signature, b"message", &other, Algorithm::HS256).unwrap());
}

#[test]
fn rs256_signs_as_pyjwt_does_from_pkcs8_and_pkcs1_and_verifies_pyjwts_tokens() {
    install();
    let token = vectors()["RS256"]["token"].as_str().unwrap().to_owned();
    let (message, signature) = split(&token);
    // RSASSA-PKCS1-v1_5 is deterministic: the same key signs the same bytes.
    for pem in [
        &key_file!("rs256-private.pem")[..],
        key_file!("rs256-private-pkcs1.pem"),
    ] {
        let key = EncodingKey::from_rsa_pem(pem).unwrap();
        assert_eq!(
            crypto::sign(message.as_bytes(), &key, Algorithm::RS256).unwrap(),
            signature
        );
    }
    let public = DecodingKey::from_rsa_pem(key_file!("rs256-public.pem")).unwrap();
    assert!(verifies(&token, &public, Algorithm::RS256));
    // And as a JWK's components, the way a published key is read back.
    let jwk = &vectors()["RS256"]["public_jwk"];
    let from_jwk =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    assert!(verifies(&token, &from_jwk, Algorithm::RS256));
    let tampered = token.replace(".eyJ", ".eyK");
    assert!(!verifies(&tampered, &public, Algorithm::RS256));
}

#[test]
fn a_token_signed_by_a_key_we_do_not_publish_is_refused() {
    install();
    let public = DecodingKey::from_rsa_pem(key_file!("rs256-public.pem")).unwrap();
    let stranger = vectors()["stranger_RS256"].as_str().unwrap().to_owned();
    assert!(!verifies(&stranger, &public, Algorithm::RS256));
}

#[test]
fn eddsa_signs_as_pyjwt_does_and_verifies_pyjwts_tokens() {
    install();
    let token = vectors()["EdDSA"]["token"].as_str().unwrap().to_owned();
    let (message, signature) = split(&token);
    // Ed25519 is deterministic too.
    let key = EncodingKey::from_ed_pem(key_file!("eddsa-private.pem")).unwrap();
    assert_eq!(
        crypto::sign(message.as_bytes(), &key, Algorithm::EdDSA).unwrap(),
        signature
    );
    let public = DecodingKey::from_ed_pem(key_file!("eddsa-public.pem")).unwrap();
    assert!(verifies(&token, &public, Algorithm::EdDSA));
    let jwk = &vectors()["EdDSA"]["public_jwk"];
    let from_jwk = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    assert!(verifies(&token, &from_jwk, Algorithm::EdDSA));
}

#[test]
fn es256_verifies_pyjwts_tokens_and_its_own() {
    install();
    let token = vectors()["ES256"]["token"].as_str().unwrap().to_owned();
    let public = DecodingKey::from_ec_pem(key_file!("es256-public.pem")).unwrap();
    assert!(verifies(&token, &public, Algorithm::ES256));
    let jwk = &vectors()["ES256"]["public_jwk"];
    let from_jwk =
        DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
            .unwrap();
    assert!(verifies(&token, &from_jwk, Algorithm::ES256));
    // ECDSA is randomised: ours differs from PyJWT's, and verifies. JWS's form is r || s.
    let (message, _) = split(&token);
    let key = EncodingKey::from_ec_pem(key_file!("es256-private.pem")).unwrap();
    let ours = crypto::sign(message.as_bytes(), &key, Algorithm::ES256).unwrap();
    assert_eq!(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &ours)
            .unwrap()
            .len(),
        64
    );
    assert!(crypto::verify(&ours, message.as_bytes(), &public, Algorithm::ES256).unwrap());
}

#[test]
fn the_public_jwk_of_each_private_key_is_pyjwts() {
    install();
    let vectors = vectors();
    let keys = [
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(key_file!("rs256-private.pem")).unwrap(),
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(key_file!("es256-private.pem")).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(key_file!("eddsa-private.pem")).unwrap(),
        ),
    ];
    for (algorithm, key) in keys {
        let name = format!("{algorithm:?}");
        let ours = serde_json::to_value(Jwk::from_encoding_key(&key, algorithm).unwrap()).unwrap();
        let pyjwts = &vectors[&name]["public_jwk"];
        for member in ["kty", "n", "e", "crv", "x", "y"] {
            assert_eq!(ours.get(member), pyjwts.get(member), "{name}: {member}");
        }
        assert!(ours.get("d").is_none(), "{name}: a private part");
    }
}

/// RFC 7638 §3.1's RSA key and thumbprint, and RFC 8037 §A.3's Ed25519 key and thumbprint.
#[test]
fn thumbprints_are_the_rfcs() {
    install();
    let rsa: Jwk = serde_json::from_value(serde_json::json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }))
    .unwrap();
    assert_eq!(
        rsa.thumbprint(ThumbprintHash::SHA256).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    let ed25519: Jwk = serde_json::from_value(serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    }))
    .unwrap();
    assert_eq!(
        ed25519.thumbprint(ThumbprintHash::SHA256).unwrap(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn other_algorithms_and_mismatched_keys_are_refused_not_computed() {
    install();
    let secret = EncodingKey::from_secret(SECRET).unwrap();
    for algorithm in [
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::ES384,
    ] {
        let error = crypto::sign(b"m", &secret, algorithm).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidAlgorithm, "{algorithm:?}");
    }
    // A secret is no RSA key, and an RSA key no secret or curve.
    let rsa = EncodingKey::from_rsa_pem(key_file!("rs256-private.pem")).unwrap();
    for (algorithm, key) in [
        (Algorithm::RS256, &secret),
        (Algorithm::HS256, &rsa),
        (Algorithm::ES256, &rsa),
        (Algorithm::EdDSA, &rsa),
    ] {
        let error = crypto::sign(b"m", key, algorithm).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidKeyFormat, "{algorithm:?}");
    }
    let public = DecodingKey::from_rsa_pem(key_file!("rs256-public.pem")).unwrap();
    let error = crypto::verify("AAAA", b"m", &public, Algorithm::HS256).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidKeyFormat);
}

#[test]
fn an_rsa_key_shorter_than_2048_bits_cannot_sign() {
    install();
    let short = EncodingKey::from_rsa_pem(key_file!("rsa1024-private.pem")).unwrap();
    let error = crypto::sign(b"m", &short, Algorithm::RS256).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidRsaKey(_)),
        "{error:?}"
    );
}

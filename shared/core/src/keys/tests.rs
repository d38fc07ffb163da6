//! Key sets from the PEM fixtures of `interop/keys/`: `kid`s are the RFC 7638 thumbprints
//! `interop/make_key_vectors.py` computed from PyJWT's JWKs, and every refusal names its
//! variable and never shows a key.

use jsonwebtoken::crypto;
use serde_json::Value;

use super::*;

const PRIVATE: &str = "JWT_PRIVATE_KEY";
const PUBLIC: &str = "JWT_PUBLIC_KEYS";

macro_rules! key_file {
    ($name:literal) => {
        include_str!(concat!("../../../../interop/keys/", $name))
    };
}

fn vectors() -> Value {
    serde_json::from_str(key_file!("vectors.json")).unwrap()
}

fn fixtures() -> [(Asymmetric, &'static str, &'static str); 3] {
    [
        (
            Asymmetric::Rs256,
            key_file!("rs256-private.pem"),
            key_file!("rs256-public.pem"),
        ),
        (
            Asymmetric::Es256,
            key_file!("es256-private.pem"),
            key_file!("es256-public.pem"),
        ),
        (
            Asymmetric::EdDsa,
            key_file!("eddsa-private.pem"),
            key_file!("eddsa-public.pem"),
        ),
    ]
}

fn key_set(
    asymmetric: Asymmetric,
    private: &str,
    public: Option<&str>,
) -> Result<KeySet, KeyError> {
    KeySet::new(asymmetric, (PRIVATE, private), (PUBLIC, public))
}

#[test]
fn the_kid_is_the_rfc_7638_thumbprint_and_the_jwks_has_public_parts_only() {
    for (asymmetric, private, _) in fixtures() {
        let keys = key_set(asymmetric, private, None).unwrap();
        let expected = &vectors()[asymmetric.name()];
        assert_eq!(keys.signing_kid(), expected["thumbprint"], "{asymmetric:?}");
        let jwks = serde_json::to_value(keys.jwks()).unwrap();
        let [jwk] = jwks["keys"].as_array().unwrap().as_slice() else {
            panic!("{asymmetric:?}: one key expected: {jwks}");
        };
        assert_eq!(jwk["kid"], expected["thumbprint"]);
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], asymmetric.name());
        for member in ["kty", "n", "e", "crv", "x", "y"] {
            assert_eq!(
                jwk.get(member),
                expected["public_jwk"].get(member),
                "{asymmetric:?}: {member}"
            );
        }
        for private_member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                jwk.get(private_member).is_none(),
                "{asymmetric:?}: {private_member}"
            );
        }
    }
}

#[test]
fn the_signing_key_signs_what_its_kid_verifies_and_an_unknown_kid_finds_nothing() {
    for (asymmetric, private, _) in fixtures() {
        let keys = key_set(asymmetric, private, None).unwrap();
        let signature =
            jsonwebtoken::signature::Signer::try_sign(keys.signing_key().unwrap(), b"message")
                .unwrap();
        let signature =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature);
        let verifying = keys.verifying_key(keys.signing_kid()).unwrap();
        assert!(
            crypto::verify(&signature, b"message", verifying, asymmetric.algorithm()).unwrap(),
            "{asymmetric:?}"
        );
        assert!(keys.verifying_key("not-a-kid-of-ours").is_none());
        assert_eq!(keys.algorithm(), asymmetric.algorithm());
    }
}

#[test]
fn further_public_keys_are_published_after_the_signing_keys_once_each() {
    let own_public = key_file!("rs256-public.pem");
    let next = key_file!("stranger-rs256-public.pem");
    let both = format!("{next}\n{own_public}\n{next}");
    let keys = key_set(
        Asymmetric::Rs256,
        key_file!("rs256-private.pem"),
        Some(&both),
    )
    .unwrap();
    let kids: Vec<String> = keys
        .jwks()
        .keys
        .iter()
        .map(|jwk| jwk.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(kids[0], keys.signing_kid());
    // The other key verifies its own tokens: PyJWT's, signed by the key it publishes.
    let stranger = vectors()["stranger_RS256"].as_str().unwrap().to_owned();
    let (message, signature) = stranger.rsplit_once('.').unwrap();
    let verifying = keys.verifying_key(&kids[1]).unwrap();
    assert!(crypto::verify(signature, message.as_bytes(), verifying, Algorithm::RS256).unwrap());
    let own = keys.verifying_key(&kids[0]).unwrap();
    assert!(!crypto::verify(signature, message.as_bytes(), own, Algorithm::RS256).unwrap());
    // Blank means none.
    let alone = key_set(
        Asymmetric::Rs256,
        key_file!("rs256-private.pem"),
        Some(" \n"),
    )
    .unwrap();
    assert_eq!(alone.jwks().keys.len(), 1);
}

#[test]
fn public_keys_that_could_never_verify_are_refused_not_published() {
    let rsa = key_file!("rs256-private.pem");
    let short = key_set(
        Asymmetric::Rs256,
        rsa,
        Some(key_file!("rsa1024-public.pem")),
    );
    assert_eq!(
        short.err(),
        Some(KeyError::CannotVerify {
            variable: PUBLIC,
            position: 1,
            algorithm: "RS256",
            reason: "an RSA key of under 2048 bits",
        })
    );
    let p256 = key_file!("es256-private.pem");
    let next = format!(
        "{}{}",
        key_file!("es256-public.pem"),
        key_file!("p384-public.pem")
    );
    let p384 = key_set(Asymmetric::Es256, p256, Some(&next));
    assert_eq!(
        p384.err(),
        Some(KeyError::CannotVerify {
            variable: PUBLIC,
            position: 2,
            algorithm: "ES256",
            reason: "not a P-256 key",
        })
    );
}

#[test]
fn bad_short_and_mismatched_keys_are_refused_by_variable_without_showing_them() {
    let rsa = key_file!("rs256-private.pem");
    let cases = [
        (
            key_set(Asymmetric::Es256, rsa, None),
            KeyError::NotAPrivateKey {
                variable: PRIVATE,
                expected: "P-256",
                advice: String::new(),
            },
        ),
        (
            key_set(Asymmetric::Rs256, "not a key", None),
            KeyError::NotAPrivateKey {
                variable: PRIVATE,
                expected: "RSA",
                advice: String::new(),
            },
        ),
        (
            key_set(Asymmetric::EdDsa, key_file!("eddsa-public.pem"), None),
            KeyError::NotAPrivateKey {
                variable: PRIVATE,
                expected: "Ed25519",
                advice: String::new(),
            },
        ),
        (
            key_set(Asymmetric::Rs256, rsa, Some("no pem here")),
            KeyError::NoPem { variable: PUBLIC },
        ),
        (
            key_set(
                Asymmetric::Rs256,
                rsa,
                Some(&format!("{}{}", key_file!("rs256-public.pem"), rsa)),
            ),
            KeyError::NotAPublicKey {
                variable: PUBLIC,
                position: 2,
                expected: "RSA",
                advice: String::new(),
            },
        ),
        (
            key_set(Asymmetric::Rs256, rsa, Some(key_file!("es256-public.pem"))),
            KeyError::NotAPublicKey {
                variable: PUBLIC,
                position: 1,
                expected: "RSA",
                advice: String::new(),
            },
        ),
    ];
    for (outcome, expected) in cases {
        let error = outcome.err().unwrap();
        assert_eq!(error.variable(), expected.variable());
        // What is wrong, then what the value is instead (the next test's).
        assert!(
            error.to_string().starts_with(&expected.to_string()),
            "{error}"
        );
        assert!(!error.to_string().contains("MII"), "{error}");
    }
    let short = key_set(Asymmetric::Rs256, key_file!("rsa1024-private.pem"), None)
        .err()
        .unwrap();
    assert!(
        matches!(
            &short,
            KeyError::CannotSign {
                variable: PRIVATE,
                algorithm: "RS256",
                ..
            }
        ),
        "{short:?}"
    );
    assert!(!short.to_string().contains("MII"), "{short}");
}

/// Each key an operator may paste by mistake says what it is and what to do instead, and
/// none echoes the key.
#[test]
fn a_key_that_cannot_be_used_says_what_it_is_and_what_to_do() {
    let rsa = key_file!("rs256-private.pem");
    let private_cases = [
        (
            Asymmetric::Es256,
            rsa,
            "this is an RSA key: set JWT_ALGORITHM=RS256, or give a key of ES256 (`openssl \
             genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)",
        ),
        (
            Asymmetric::Rs256,
            key_file!("es256-private.pem"),
            "this is a P-256 key: set JWT_ALGORITHM=ES256",
        ),
        (
            Asymmetric::EdDsa,
            key_file!("eddsa-public.pem"),
            "this is a public key: JWT_PRIVATE_KEY takes the private key, and its public key \
             goes in JWT_PUBLIC_KEYS",
        ),
        (
            Asymmetric::Es256,
            key_file!("es256-private-sec1.pem"),
            "this is a SEC1 key (EC PRIVATE KEY): convert it to PKCS#8 with `openssl pkcs8 \
             -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`",
        ),
        (
            Asymmetric::Es256,
            key_file!("es256-private-encrypted.pem"),
            "the key is encrypted: decrypt it with `openssl pkcs8 -in key.pem -out \
             key-plain.pem`",
        ),
        (
            Asymmetric::Rs256,
            "/run/secrets/jwt-private.pem",
            "it looks like a file's path: pass the PEM itself, \
             JWT_PRIVATE_KEY=\"$(cat /run/secrets/jwt-private.pem)\"",
        ),
        (
            Asymmetric::Rs256,
            "not a key",
            "there is no PEM block in it (-----BEGIN PRIVATE KEY-----): make a key with \
             `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`",
        ),
        (
            Asymmetric::Rs256,
            key_file!("rsa1024-private.pem"),
            "this RSA key is 1024 bits: RS256 takes 2048 bits or more (`openssl genpkey \
             -algorithm RSA -pkeyopt rsa_keygen_bits:2048`)",
        ),
    ];
    for (asymmetric, pem, advice) in private_cases {
        let error = key_set(asymmetric, pem, None).err().unwrap();
        let message = error.to_string();
        assert_eq!(error.variable(), PRIVATE);
        assert!(message.contains(&format!(": {advice}")), "{message}");
        assert!(!message.contains("MII"), "{message}");
    }
    // A private key pasted among the public keys would reach every function: said so.
    let error = key_set(
        Asymmetric::Rs256,
        rsa,
        Some(&format!("{}{}", key_file!("rs256-public.pem"), rsa)),
    )
    .err()
    .unwrap();
    let message = error.to_string();
    assert!(
        message.ends_with(
            "key 2: not a PEM RSA public key (SubjectPublicKeyInfo): it is a private key: \
             JWT_PUBLIC_KEYS takes public keys alone (`openssl pkey -in key.pem -pubout`); a \
             private key there would reach every function"
        ),
        "{message}"
    );
    assert!(!message.contains("MII"), "{message}");
    let error = key_set(Asymmetric::Rs256, rsa, Some(key_file!("es256-public.pem")))
        .err()
        .unwrap();
    assert!(
        error.to_string().ends_with(
            "this is a P-256 key: set JWT_ALGORITHM=ES256, or give a key of RS256 \
                        (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`)"
        ),
        "{error}"
    );
}

//! What a key that cannot be used is instead, and what to do about it: a public key where the
//! private one belongs, a SEC1 or encrypted key, another algorithm's key, an RSA key too short,
//! a file's path instead of its contents. Read from the PEM's label and its DER (PKCS#8,
//! SubjectPublicKeyInfo, PKCS#1); never quotes the key.

use simple_asn1::{ASN1Block, OID, oid};

use super::Asymmetric;

/// The key a PEM holds, as far as it tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa {
        bits: u64,
    },
    P256,
    /// An elliptic curve other than P-256 (P-384, secp256k1, ...).
    OtherCurve,
    Ed25519,
    Unknown,
}

impl KeyType {
    /// The algorithm that signs with such a key, if one of ours does.
    fn algorithm(self) -> Option<Asymmetric> {
        match self {
            KeyType::Rsa { .. } => Some(Asymmetric::Rs256),
            KeyType::P256 => Some(Asymmetric::Es256),
            KeyType::Ed25519 => Some(Asymmetric::EdDsa),
            KeyType::OtherCurve | KeyType::Unknown => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyType::Rsa { .. } => "an RSA",
            KeyType::P256 => "a P-256",
            KeyType::OtherCurve => "an elliptic-curve (not P-256)",
            KeyType::Ed25519 => "an Ed25519",
            KeyType::Unknown => "an unknown",
        }
    }
}

/// What a variable's value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No PEM at all, and it reads like a file's path.
    Path,
    NoPem,
    Public(KeyType),
    Private(KeyType),
    /// `-----BEGIN EC PRIVATE KEY-----`: SEC1, which the PKCS#8 reader does not take.
    Sec1Ec,
    Encrypted,
    Other,
}

/// What the first PEM block of `text` holds.
pub fn found(text: &str) -> Found {
    let Ok(block) = pem::parse(text.trim()) else {
        return if looks_like_a_path(text) {
            Found::Path
        } else {
            Found::NoPem
        };
    };
    let der = block.contents();
    match block.tag() {
        "PUBLIC KEY" => Found::Public(spki_key_type(der)),
        "RSA PUBLIC KEY" => Found::Public(KeyType::Rsa {
            bits: rsa_modulus_bits(der).unwrap_or(0),
        }),
        "PRIVATE KEY" => Found::Private(pkcs8_key_type(der)),
        "RSA PRIVATE KEY" => Found::Private(KeyType::Rsa {
            bits: pkcs1_private_bits(der).unwrap_or(0),
        }),
        "EC PRIVATE KEY" => Found::Sec1Ec,
        "ENCRYPTED PRIVATE KEY" => Found::Encrypted,
        _ => Found::Other,
    }
}

/// One line, a path and nothing else: `/keys/private.pem`, `./key.pem`, `key.pem`.
fn looks_like_a_path(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && (text.starts_with('/')
            || text.starts_with("./")
            || text.starts_with("~/")
            || text.ends_with(".pem")
            || text.ends_with(".key"))
}

/// How to make a private key for `asymmetric`.
pub fn generate_command(asymmetric: Asymmetric) -> &'static str {
    match asymmetric {
        Asymmetric::Rs256 => "`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`",
        Asymmetric::Es256 => "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`",
        Asymmetric::EdDsa => "`openssl genpkey -algorithm ed25519`",
    }
}

/// What to tell a person whose private-key variable `variable` holds `text` that `asymmetric`
/// cannot sign with: empty when nothing more is known than that it is no key of it.
pub fn private_key_advice(asymmetric: Asymmetric, variable: &str, text: &str) -> String {
    match found(text) {
        Found::Path => format!(
            "it looks like a file's path: pass the PEM itself, {variable}=\"$(cat {})\"",
            text.trim()
        ),
        Found::NoPem => format!(
            "there is no PEM block in it (-----BEGIN PRIVATE KEY-----): make a key with {}",
            generate_command(asymmetric)
        ),
        Found::Public(_) => format!(
            "this is a public key: {variable} takes the private key, and its public key goes in \
             JWT_PUBLIC_KEYS"
        ),
        Found::Sec1Ec => "this is a SEC1 key (EC PRIVATE KEY): convert it to PKCS#8 with \
             `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`"
            .to_owned(),
        Found::Encrypted => "the key is encrypted: decrypt it with `openssl pkcs8 -in key.pem \
             -out key-plain.pem` (the functions take no passphrase)"
            .to_owned(),
        Found::Private(key) => other_algorithm(asymmetric, key),
        Found::Other => String::new(),
    }
}

/// What to tell a person whose public key `position` of `variable` `asymmetric` cannot verify
/// with.
pub fn public_key_advice(asymmetric: Asymmetric, variable: &str, block: &pem::Pem) -> String {
    match block.tag() {
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => format!(
            "it is a private key: {variable} takes public keys alone (`openssl pkey -in key.pem \
             -pubout`); a private key there would reach every function"
        ),
        "PUBLIC KEY" => other_algorithm(asymmetric, spki_key_type(block.contents())),
        _ => String::new(),
    }
}

/// `key` for a deployment of `asymmetric`: which algorithm it is for, or why none is.
fn other_algorithm(asymmetric: Asymmetric, key: KeyType) -> String {
    match (key, key.algorithm()) {
        (KeyType::Rsa { bits }, Some(Asymmetric::Rs256))
            if asymmetric == Asymmetric::Rs256 && bits > 0 && bits < 2048 =>
        {
            format!(
                "this RSA key is {bits} bits: RS256 takes 2048 bits or more ({})",
                generate_command(Asymmetric::Rs256)
            )
        }
        (_, Some(algorithm)) if algorithm != asymmetric => format!(
            "this is {} key: set JWT_ALGORITHM={}, or give a key of {} ({})",
            key.name(),
            algorithm.name(),
            asymmetric.name(),
            generate_command(asymmetric)
        ),
        (KeyType::OtherCurve, _) => format!(
            "this is {} key, which none of RS256, ES256, EdDSA signs with: ES256 takes P-256 ({})",
            key.name(),
            generate_command(Asymmetric::Es256)
        ),
        _ => String::new(),
    }
}

fn rsa_encryption() -> OID {
    oid!(1, 2, 840, 113_549, 1, 1, 1)
}

fn ec_public_key() -> OID {
    oid!(1, 2, 840, 10_045, 2, 1)
}

fn p256() -> OID {
    oid!(1, 2, 840, 10_045, 3, 1, 7)
}

fn ed25519() -> OID {
    oid!(1, 3, 101, 112)
}

/// The key type an AlgorithmIdentifier names (`SEQUENCE { OID, parameters }`).
fn algorithm_key_type(identifier: &ASN1Block) -> Option<KeyType> {
    let ASN1Block::Sequence(_, parts) = identifier else {
        return None;
    };
    let ASN1Block::ObjectIdentifier(_, algorithm) = parts.first()? else {
        return None;
    };
    if *algorithm == rsa_encryption() {
        return Some(KeyType::Rsa { bits: 0 });
    }
    if *algorithm == ed25519() {
        return Some(KeyType::Ed25519);
    }
    if *algorithm == ec_public_key() {
        return Some(match parts.get(1) {
            Some(ASN1Block::ObjectIdentifier(_, curve)) if *curve == p256() => KeyType::P256,
            _ => KeyType::OtherCurve,
        });
    }
    None
}

/// PKCS#8: `SEQUENCE { version, AlgorithmIdentifier, OCTET STRING key, ... }`.
fn pkcs8_key_type(der: &[u8]) -> KeyType {
    let blocks = simple_asn1::from_der(der).unwrap_or_default();
    let Some(ASN1Block::Sequence(_, parts)) = blocks.first() else {
        return KeyType::Unknown;
    };
    match (parts.get(1).and_then(algorithm_key_type), parts.get(2)) {
        (Some(KeyType::Rsa { .. }), Some(ASN1Block::OctetString(_, key))) => KeyType::Rsa {
            bits: pkcs1_private_bits(key).unwrap_or(0),
        },
        (Some(key), _) => key,
        (None, _) => KeyType::Unknown,
    }
}

/// SubjectPublicKeyInfo: `SEQUENCE { AlgorithmIdentifier, BIT STRING key }`.
fn spki_key_type(der: &[u8]) -> KeyType {
    let blocks = simple_asn1::from_der(der).unwrap_or_default();
    let Some(ASN1Block::Sequence(_, parts)) = blocks.first() else {
        return KeyType::Unknown;
    };
    match (parts.first().and_then(algorithm_key_type), parts.get(1)) {
        (Some(KeyType::Rsa { .. }), Some(ASN1Block::BitString(_, _, key))) => KeyType::Rsa {
            bits: rsa_modulus_bits(key).unwrap_or(0),
        },
        (Some(key), _) => key,
        (None, _) => KeyType::Unknown,
    }
}

/// PKCS#1 RSAPrivateKey: `SEQUENCE { version, modulus, ... }`.
fn pkcs1_private_bits(der: &[u8]) -> Option<u64> {
    match simple_asn1::from_der(der).ok()?.first()? {
        ASN1Block::Sequence(_, parts) => match parts.get(1)? {
            ASN1Block::Integer(_, modulus) => Some(modulus.bits()),
            _ => None,
        },
        _ => None,
    }
}

/// PKCS#1 RSAPublicKey: `SEQUENCE { modulus, exponent }`.
fn rsa_modulus_bits(der: &[u8]) -> Option<u64> {
    match simple_asn1::from_der(der).ok()?.first()? {
        ASN1Block::Sequence(_, parts) => match parts.first()? {
            ASN1Block::Integer(_, modulus) => Some(modulus.bits()),
            _ => None,
        },
        _ => None,
    }
}

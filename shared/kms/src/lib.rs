//! Signing in AWS KMS: a deployment whose `JWT_KMS_KEY_ARN` names a KMS key signs every token
//! and device proof with `kms:Sign`, and the private key exists nowhere but in KMS. The key's
//! public key is read once per cold start (`kms:GetPublicKey`): it gives the tokens' `kid`
//! (its RFC 7638 thumbprint, as for any key) and must be the first of `JWT_PUBLIC_KEYS`, which
//! the functions that only verify read, without KMS.
//!
//! RS256 takes an RSA key (RSASSA_PKCS1_V1_5_SHA_256), ES256 a P-256 key (ECDSA_SHA_256, whose
//! DER signature becomes JWS's 64 bytes of `r` and `s`).

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    primitives::Blob,
    types::{KeyUsageType, MessageType, SigningAlgorithmSpec},
};
use sha2::{Digest, Sha256};
use simple_asn1::ASN1Block;

use auth_core::{
    keys::{
        Asymmetric,
        remote::{RemoteSigner, RemoteSigningError},
    },
    settings::{KMS_KEY_VAR, KMS_PUBLIC_KEY_COMMAND, KmsKey, Settings, SettingsError, Signing},
};

/// The SDK's variable for a KMS endpoint of one's own (a local server such as moto).
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_KMS";

/// The longest message KMS signs as it is (`MessageType` RAW); a longer one is sent as its
/// SHA-256 digest (DIGEST), which RS256 and ES256 sign as they sign the message itself: the
/// signature verifies alike (ES256's differ at each signing anyway, being randomised).
pub const MAX_RAW_MESSAGE_BYTES: usize = 4096;

/// The bytes of a P-256 scalar: each half of an ES256 signature.
const P256_SCALAR_BYTES: usize = 32;

/// `settings` with their KMS key read, when they name one: `Signing::Kms` becomes the keys it
/// signs with (`KmsKey::key_set`), over a KMS client of `config`. Any other settings are
/// returned as they are, and KMS is not called.
pub async fn read_key(
    mut settings: Settings,
    config: &SdkConfig,
) -> Result<Settings, SettingsError> {
    if let Signing::Kms(key) = &settings.signing {
        let keys = key_set(key, client(config)).await?;
        settings.signing = Signing::Asymmetric(Arc::new(keys));
    }
    Ok(settings)
}

/// A KMS client of `config`, at the endpoint of one's own `AWS_ENDPOINT_URL_KMS` names (a
/// local server), if any: read here too, as a Lambda function's configuration has no loader to
/// read it; an empty value means unset, as for DynamoDB's.
pub fn client(config: &SdkConfig) -> Client {
    let mut builder = aws_sdk_kms::config::Builder::from(config);
    if let Some(endpoint) = auth_dynamodb::client::endpoint_override(ENDPOINT_VARIABLE) {
        builder.set_endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// The keys of `key`: its public key as KMS gives it, checked to be one the configured
/// algorithm signs with, and a signer that asks KMS for each signature.
pub async fn key_set(
    key: &KmsKey,
    client: Client,
) -> Result<auth_core::keys::KeySet, SettingsError> {
    let refused = |problem: String| SettingsError {
        variable: KMS_KEY_VAR,
        problem,
    };
    let answer = client
        .get_public_key()
        .key_id(&key.key_id)
        .send()
        .await
        .map_err(|error| {
            refused(format!(
                "KMS did not give the key's public key ({}): check the ARN, that the function's \
                 role may call kms:GetPublicKey on it, and that KMS is reachable",
                reason(&error)
            ))
        })?;
    if answer.key_usage() != Some(&KeyUsageType::SignVerify) {
        return Err(refused(format!(
            "the KMS key's usage is {}, not SIGN_VERIFY: create a signing key (`aws kms \
             create-key --key-usage SIGN_VERIFY --key-spec {}`)",
            answer.key_usage().map_or("unknown", |usage| usage.as_str()),
            key_spec_for(key.asymmetric)
        )));
    }
    // The key spec, not only the algorithm: a secp256k1 key (ECC_SECG_P256K1) also signs
    // ECDSA_SHA_256, and its tokens would verify nowhere. (moto answers the older field alone.)
    #[expect(
        deprecated,
        reason = "moto answers CustomerMasterKeySpec alone, KMS both"
    )]
    let spec = answer
        .key_spec()
        .map(|spec| spec.as_str())
        .or_else(|| answer.customer_master_key_spec().map(|spec| spec.as_str()));
    let algorithm = signing_algorithm(key.asymmetric);
    let spec_fits = match key.asymmetric {
        Asymmetric::Es256 => spec == Some("ECC_NIST_P256"),
        _ => matches!(spec, Some("RSA_2048" | "RSA_3072" | "RSA_4096")),
    };
    if !spec_fits || !answer.signing_algorithms().contains(&algorithm) {
        return Err(refused(format!(
            "the KMS key is of spec {}, which does not sign {}: it takes a key of spec {}",
            spec.unwrap_or("unknown"),
            key.asymmetric.name(),
            key_spec_for(key.asymmetric)
        )));
    }
    let public_key = answer
        .public_key()
        .ok_or_else(|| refused("KMS answered without the key's public key".to_owned()))?;
    let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", public_key.as_ref()));
    let signer = KmsSigner::new(client, &key.key_id, key.asymmetric);
    let keys = key.key_set(Arc::new(signer), &public_pem)?;
    tracing::info!(
        key = %key.key_id,
        kid = keys.signing_kid(),
        "signing in KMS (its public key as PEM, for JWT_PUBLIC_KEYS: {})",
        KMS_PUBLIC_KEY_COMMAND
    );
    Ok(keys)
}

/// The KMS key spec an algorithm's key has (RS256 also signs with RSA_3072 and RSA_4096).
fn key_spec_for(asymmetric: Asymmetric) -> &'static str {
    match asymmetric {
        Asymmetric::Es256 => "ECC_NIST_P256",
        _ => "RSA_2048",
    }
}

/// The KMS signing algorithm of a JWS algorithm (EdDSA never reaches here: the settings refuse
/// it with a KMS key).
fn signing_algorithm(asymmetric: Asymmetric) -> SigningAlgorithmSpec {
    match asymmetric {
        Asymmetric::Es256 => SigningAlgorithmSpec::EcdsaSha256,
        _ => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
    }
}

/// Signs with a KMS key: each signature one `kms:Sign` request.
pub struct KmsSigner {
    client: Client,
    key_id: String,
    asymmetric: Asymmetric,
}

impl KmsSigner {
    /// Signs `asymmetric` tokens with the KMS key `key_id`, over `client`. `key_set` makes one
    /// after checking the key; a test may make one over a KMS that is down.
    pub fn new(client: Client, key_id: &str, asymmetric: Asymmetric) -> Self {
        Self {
            client,
            key_id: key_id.to_owned(),
            asymmetric,
        }
    }
}

#[async_trait]
impl RemoteSigner for KmsSigner {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, RemoteSigningError> {
        let (sent, message_type) = what_kms_signs(message);
        let answer = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(sent))
            .message_type(message_type)
            .signing_algorithm(signing_algorithm(self.asymmetric))
            .send()
            .await
            .map_err(|error| signing_error(&self.key_id, error))?;
        let signature = answer.signature().ok_or_else(|| {
            RemoteSigningError::Refused("KMS answered without a signature".into())
        })?;
        match self.asymmetric {
            Asymmetric::Es256 => jws_ecdsa_signature(signature.as_ref()).ok_or_else(|| {
                RemoteSigningError::Refused("KMS answered with no DER ECDSA signature".into())
            }),
            _ => Ok(signature.as_ref().to_vec()),
        }
    }

    fn key_name(&self) -> &str {
        &self.key_id
    }
}

/// What KMS is sent to sign `message`: the message itself up to `MAX_RAW_MESSAGE_BYTES`, else
/// its SHA-256 digest.
pub fn what_kms_signs(message: &[u8]) -> (Vec<u8>, MessageType) {
    if message.len() <= MAX_RAW_MESSAGE_BYTES {
        (message.to_vec(), MessageType::Raw)
    } else {
        (Sha256::digest(message).to_vec(), MessageType::Digest)
    }
}

/// A KMS failure to sign, for the log and the answer: throttling, a timeout or an unreachable
/// KMS may pass (503, and the SDK has retried already); anything else is a deployment to fix.
fn signing_error<E, R>(key_id: &str, error: SdkError<E, R>) -> RemoteSigningError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = format!("{key_id}: {}", reason(&error));
    let passing = match &error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // A connection that failed or timed out; not a request that could not be made (no
        // credentials, no region), which no retry mends.
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        _ => matches!(
            error
                .as_service_error()
                .and_then(ProvideErrorMetadata::code),
            Some(
                "ThrottlingException"
                    | "KMSInternalException"
                    | "DependencyTimeoutException"
                    | "KeyUnavailableException"
            )
        ),
    };
    if passing {
        RemoteSigningError::Unavailable(detail)
    } else {
        RemoteSigningError::Refused(detail)
    }
}

/// An SDK error in one line: KMS's code and message when it answered, else the chain of causes.
fn reason<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(refused) => format!(
            "{}: {}",
            refused.code().unwrap_or("an error"),
            refused.message().unwrap_or("no reason given")
        ),
        None => DisplayErrorContext(error).to_string(),
    }
}

/// An ECDSA signature as KMS gives it (DER: a SEQUENCE of the INTEGERs `r` and `s`) as JWS
/// wants it (RFC 7518 section 3.4: `r` then `s`, each 32 big-endian bytes).
pub fn jws_ecdsa_signature(der: &[u8]) -> Option<Vec<u8>> {
    let blocks = simple_asn1::from_der(der).ok()?;
    let [ASN1Block::Sequence(_, parts)] = blocks.as_slice() else {
        return None;
    };
    let [ASN1Block::Integer(_, r), ASN1Block::Integer(_, s)] = parts.as_slice() else {
        return None;
    };
    let mut jws = Vec::with_capacity(2 * P256_SCALAR_BYTES);
    for scalar in [r, s] {
        let bytes = scalar.to_signed_bytes_be();
        // A negative INTEGER is no ECDSA scalar.
        if bytes.first().is_some_and(|first| first & 0x80 != 0) {
            return None;
        }
        let start = bytes.iter().take_while(|byte| **byte == 0).count();
        let magnitude = &bytes[start..];
        if magnitude.len() > P256_SCALAR_BYTES {
            return None;
        }
        jws.resize(jws.len() + P256_SCALAR_BYTES - magnitude.len(), 0);
        jws.extend_from_slice(magnitude);
    }
    Some(jws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_up_to_4096_bytes_is_signed_as_it_is_and_a_longer_one_as_its_sha256() {
        let short = vec![b'a'; MAX_RAW_MESSAGE_BYTES];
        assert_eq!(what_kms_signs(&short), (short.clone(), MessageType::Raw));
        let long = vec![b'a'; MAX_RAW_MESSAGE_BYTES + 1];
        let (sent, message_type) = what_kms_signs(&long);
        assert_eq!(message_type, MessageType::Digest);
        assert_eq!(sent, Sha256::digest(&long).to_vec());
        assert_eq!(sent.len(), 32);
    }

    fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
        let integer = |value: &[u8]| {
            let mut encoded = vec![0x02, value.len() as u8];
            encoded.extend_from_slice(value);
            encoded
        };
        let body = [integer(r), integer(s)].concat();
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        der
    }

    #[test]
    fn a_der_ecdsa_signature_becomes_64_bytes_of_r_and_s_padded_and_unpadded() {
        // r with DER's leading zero (its high bit is set), s shorter than 32 bytes.
        let r = [&[0x00][..], &[0xff; 32]].concat();
        let s = [0x01; 20];
        let jws = jws_ecdsa_signature(&der_signature(&r, &s)).unwrap();
        assert_eq!(jws.len(), 64);
        assert_eq!(&jws[..32], &[0xff; 32]);
        assert_eq!(&jws[32..44], &[0; 12]);
        assert_eq!(&jws[44..], &s);
    }

    #[test]
    fn what_is_no_p256_signature_is_refused() {
        let too_long = [&[0x01][..], &[0xff; 32]].concat();
        for der in [
            Vec::new(),
            vec![0x30, 0x00],
            der_signature(&too_long, &[1]),
            der_signature(&[0x80], &[1]),
            b"not der at all".to_vec(),
        ] {
            assert_eq!(jws_ecdsa_signature(&der), None, "{der:02x?}");
        }
    }
}

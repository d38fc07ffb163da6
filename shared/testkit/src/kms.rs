//! Signing keys in a real KMS-compatible server (moto, which `./scripts/test` starts beside
//! DynamoDB, at the same endpoint): each test makes a key of its own.

use aws_sdk_kms::{
    Client,
    types::{KeySpec, KeyUsageType},
};

/// The KMS-compatible server the tests run against.
pub fn kms_endpoint() -> String {
    std::env::var(auth_kms::ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{} is not set: the KMS tests sign with a real KMS-compatible server; run \
             ./scripts/test, which starts moto_server",
            auth_kms::ENDPOINT_VARIABLE
        )
    })
}

/// A client of the test server, configured as the functions configure theirs.
pub async fn kms_client() -> Client {
    let _ = kms_endpoint();
    auth_kms::client(&auth_dynamodb::aws_config().await)
}

/// A new key of `spec` and `usage` on the test server: its ARN, and its public key as PEM
/// (what an operator puts first in `JWT_PUBLIC_KEYS`).
pub async fn kms_key(spec: KeySpec, usage: KeyUsageType) -> (String, String) {
    let client = kms_client().await;
    let created = client
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .description("auth-testkit")
        .send()
        .await
        .expect("the test server creates keys");
    let arn = created
        .key_metadata()
        .and_then(|metadata| metadata.arn())
        .expect("a created key has an ARN")
        .to_owned();
    let public_key = client
        .get_public_key()
        .key_id(&arn)
        .send()
        .await
        .map(|answer| answer.public_key().map(|key| key.as_ref().to_vec()))
        .ok()
        .flatten();
    let pem = public_key.map_or_else(String::new, |der| {
        pem::encode(&pem::Pem::new("PUBLIC KEY", der))
    });
    (arn, pem)
}

/// A new signing key of `spec` on the test server: its ARN and its public key as PEM.
pub async fn kms_signing_key(spec: KeySpec) -> (String, String) {
    kms_key(spec, KeyUsageType::SignVerify).await
}

/// A KMS signer that can be taken down and brought back: an outage between a cold start and a
/// request (KMS throttling, a network partition), over a real KMS key.
pub struct OutageSigner {
    kms: auth_kms::KmsSigner,
    down: std::sync::atomic::AtomicBool,
}

impl OutageSigner {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl auth_core::keys::remote::RemoteSigner for OutageSigner {
    async fn sign(
        &self,
        message: &[u8],
    ) -> Result<Vec<u8>, auth_core::keys::remote::RemoteSigningError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(auth_core::keys::remote::RemoteSigningError::Unavailable(
                "ThrottlingException: the test took KMS down".to_owned(),
            ));
        }
        self.kms.sign(message).await
    }

    fn key_name(&self) -> &str {
        self.kms.key_name()
    }
}

/// The settings of a function that signs RS256 in a new KMS key of the test server (as a cold
/// start reads them), with `overrides`, over a signer the test can take down; and the key's
/// public key as PEM, what the verifying functions are given.
pub async fn kms_signing_settings(
    overrides: &[(&str, &str)],
) -> (
    auth_core::settings::Settings,
    std::sync::Arc<OutageSigner>,
    String,
) {
    use auth_core::{
        keys::{Asymmetric, KeySet},
        settings::{KMS_KEY_VAR, KeyUse, PUBLIC_KEYS_VAR, Settings, Signing},
    };
    let (arn, public_pem) = kms_signing_key(KeySpec::Rsa2048).await;
    let base = [
        ("JWT_ALGORITHM", "RS256"),
        (KMS_KEY_VAR, arn.as_str()),
        (PUBLIC_KEYS_VAR, public_pem.as_str()),
        ("JWT_ISSUER", KMS_TEST_ISSUER),
    ];
    let mut settings = Settings::from_lookup_for(
        |name| {
            overrides
                .iter()
                .chain(base.iter())
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        },
        KeyUse::Sign,
    )
    .expect("KMS test settings are valid");
    let signer = std::sync::Arc::new(OutageSigner {
        kms: auth_kms::KmsSigner::new(kms_client().await, &arn, Asymmetric::Rs256),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let keys = KeySet::remote(
        Asymmetric::Rs256,
        signer.clone(),
        (KMS_KEY_VAR, &public_pem),
        (PUBLIC_KEYS_VAR, Some(&public_pem)),
    )
    .expect("the KMS key's public key reads");
    settings.signing = Signing::Asymmetric(std::sync::Arc::new(keys));
    (settings, signer, public_pem)
}

/// The issuer of the KMS tests' deployments.
pub const KMS_TEST_ISSUER: &str = "https://auth.example.com";

/// What a function that only verifies (profile, the authorizer) builds from `public_pems`
/// alone, for `algorithm`, at `KMS_TEST_ISSUER`.
pub fn verifier(algorithm: &str, public_pems: &str) -> auth_core::tokens::TokenService {
    use auth_core::settings::{KeyUse, PUBLIC_KEYS_VAR, Settings};
    let settings = Settings::from_lookup_for(
        |name| match name {
            "JWT_ALGORITHM" => Some(algorithm.to_owned()),
            PUBLIC_KEYS_VAR => Some(public_pems.to_owned()),
            "JWT_ISSUER" => Some(KMS_TEST_ISSUER.to_owned()),
            _ => None,
        },
        KeyUse::Verify,
    )
    .expect("verifying settings are valid");
    auth_core::tokens::TokenService::new(&settings).expect("the public keys load")
}

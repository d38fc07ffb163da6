//! Which certificate authorities the store's HTTPS client trusts.
//!
//! A deployed function talks to one kind of peer over TLS: AWS's own endpoints (DynamoDB, and
//! KMS when it signs there), whose certificates Amazon Trust Services issues from five
//! published roots. Trusting those five instead of the image's ~140 system roots means a
//! certificate mis-issued by any other authority cannot stand in for DynamoDB, and it saves a
//! cold start reading and decoding the system bundle (~2 ms of its ~6 ms init on the benchmark machine, docs/performance.md).
//!
//! Only in the standard `aws` partition (regions like `eu-west-1`, as the SDK's partition table
//! matches them): the others (China, GovCloud, the isolated and sovereign clouds) are outside
//! what Amazon Trust Services documents, and there the system store stays. So it does wherever
//! the peer may be something else: a custom endpoint (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`, or a shared config file, which may name
//! one), a CA bundle named
//! on purpose (`SSL_CERT_FILE`, `SSL_CERT_DIR`, e.g. for a TLS-inspecting proxy), and any process
//! not running in Lambda (`local-api` and the `users` command on a laptop).

use aws_smithy_http_client::tls::TrustStore;

/// Amazon Trust Services' five roots (Amazon Root CA 1-4 and Starfield Services Root
/// Certificate Authority - G2), the set amazontrust.com/repository recommends a custom trust
/// store include, as Debian's ca-certificates (Mozilla's store) has them.
pub const AMAZON_TRUST_SERVICES_PEM: &str = include_str!("../certs/amazon-trust-services.pem");

/// The variables `rustls-native-certs` reads to replace the system's CA bundle.
const CA_BUNDLE_VARIABLES: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];
/// The variables that point the SDK at an endpoint of one's own, or at a shared config file
/// (or a profile of one) that may.
const ENDPOINT_VARIABLES: [&str; 5] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
];
/// The first part of the standard partition's region names: the SDK's `aws` partition matches
/// `^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`.
const STANDARD_REGION_PREFIXES: [&str; 9] = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"];
/// Set by Lambda in every execution environment: the Runtime API the function polls.
const LAMBDA_VARIABLE: &str = "AWS_LAMBDA_RUNTIME_API";

/// The certificate authorities an HTTPS client to AWS trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// Only Amazon Trust Services' roots, built into the binary.
    AmazonTrustServices,
    /// The system's store, as `rustls-native-certs` finds it (honouring `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR`).
    System,
}

impl TrustRoots {
    /// The roots for this process, from its environment (module documentation).
    pub fn from_env() -> Self {
        Self::choose(|name| std::env::var(name).ok())
    }

    /// The roots for an environment whose variables `variable` reads; an empty variable is
    /// unset, as CloudFormation and `sam local` pass a declared but unset one.
    pub fn choose(variable: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| variable(name).is_some_and(|value| !value.is_empty());
        let region = variable("AWS_REGION")
            .filter(|region| !region.is_empty())
            .or_else(|| variable("AWS_DEFAULT_REGION"))
            .unwrap_or_default();
        let aws_partition = is_standard_region(&region);
        let own_endpoint_or_bundle = CA_BUNDLE_VARIABLES
            .iter()
            .chain(&ENDPOINT_VARIABLES)
            .any(|name| set(name));
        if set(LAMBDA_VARIABLE) && aws_partition && !own_endpoint_or_bundle {
            Self::AmazonTrustServices
        } else {
            Self::System
        }
    }

    /// The trust store of an HTTPS client trusting these roots.
    pub fn trust_store(self) -> TrustStore {
        match self {
            Self::AmazonTrustServices => {
                TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_PEM.as_bytes())
            }
            Self::System => TrustStore::default(),
        }
    }
}

/// Whether `region` is of the standard `aws` partition: `<prefix>-<word>-<number>`, e.g.
/// `eu-west-1`, not `us-gov-west-1`, `us-iso-east-1`, `cn-north-1` or `eusc-de-east-1`.
fn is_standard_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [prefix, word, number] = parts.as_slice() else {
        return false;
    };
    STANDARD_REGION_PREFIXES.contains(prefix)
        && !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};
    use tokio_rustls::rustls::{
        RootCertStore,
        pki_types::{CertificateDer, pem::PemObject},
    };

    use super::*;

    /// A Lambda environment in the aws partition, with `changes` applied (`None` unsets).
    fn lambda_with(changes: &[(&str, Option<&str>)]) -> TrustRoots {
        let mut variables = std::collections::HashMap::from([
            ("AWS_LAMBDA_RUNTIME_API", Some("127.0.0.1:9001")),
            ("AWS_REGION", Some("eu-west-1")),
        ]);
        variables.extend(changes.iter().copied());
        TrustRoots::choose(|name| variables.get(name).copied().flatten().map(str::to_owned))
    }

    #[test]
    fn a_function_in_lambda_reaching_aws_endpoints_trusts_only_amazon_trust_services() {
        assert_eq!(lambda_with(&[]), TrustRoots::AmazonTrustServices);
        for region in [
            "us-east-1",
            "ap-southeast-7",
            "il-central-1",
            "mx-central-1",
        ] {
            assert_eq!(
                lambda_with(&[("AWS_REGION", Some(region))]),
                TrustRoots::AmazonTrustServices,
                "{region}"
            );
        }
        assert_eq!(
            lambda_with(&[
                ("AWS_REGION", None),
                ("AWS_DEFAULT_REGION", Some("eu-west-1"))
            ]),
            TrustRoots::AmazonTrustServices
        );
        // Declared in the template but left empty: unset.
        assert_eq!(
            lambda_with(&[
                ("AWS_ENDPOINT_URL_DYNAMODB", Some("")),
                ("SSL_CERT_FILE", Some(""))
            ]),
            TrustRoots::AmazonTrustServices
        );
    }

    #[test]
    fn an_own_endpoint_or_bundle_another_partition_or_no_lambda_keeps_the_system_store() {
        for (name, value) in [
            ("AWS_ENDPOINT_URL", Some("https://dynamodb.example.test")),
            ("AWS_ENDPOINT_URL_DYNAMODB", Some("http://127.0.0.1:8000")),
            ("SSL_CERT_FILE", Some("/etc/pki/tls/certs/ca-bundle.crt")),
            ("SSL_CERT_DIR", Some("/etc/ssl/certs")),
            ("AWS_CONFIG_FILE", Some("/var/task/aws-config")),
            ("AWS_PROFILE", Some("local")),
            ("AWS_REGION", Some("cn-north-1")),
            ("AWS_REGION", Some("us-gov-west-1")),
            ("AWS_REGION", Some("us-iso-east-1")),
            ("AWS_REGION", Some("us-isob-east-1")),
            ("AWS_REGION", Some("eu-isoe-west-1")),
            ("AWS_REGION", Some("us-isof-south-1")),
            ("AWS_REGION", Some("eusc-de-east-1")),
            ("AWS_REGION", Some("eu-west")),
            ("AWS_REGION", None),
            ("AWS_LAMBDA_RUNTIME_API", None),
        ] {
            assert_eq!(
                lambda_with(&[(name, value)]),
                TrustRoots::System,
                "{name} = {value:?}"
            );
        }
    }

    /// The SHA-256 of a DER-encoded SubjectPublicKeyInfo given its contents (webpki keeps a
    /// trust anchor's SPKI without its outer SEQUENCE header).
    fn spki_sha256(contents: &[u8]) -> String {
        let mut der = vec![0x30];
        match contents.len() {
            length @ 0..0x80 => der.push(length as u8),
            length @ 0x80..0x100 => der.extend([0x81, length as u8]),
            length => der.extend([0x82, (length >> 8) as u8, length as u8]),
        }
        der.extend_from_slice(contents);
        format!("{:x}", Sha256::digest(der))
    }

    #[test]
    fn the_built_in_roots_are_the_five_amazon_trust_services_publishes() {
        let certificates: Vec<CertificateDer> =
            CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        let mut roots = RootCertStore::empty();
        assert_eq!(roots.add_parsable_certificates(certificates), (5, 0));
        let hashes: Vec<String> = roots
            .roots
            .iter()
            .map(|anchor| spki_sha256(&anchor.subject_public_key_info))
            .collect();
        // "SHA-256 Hash of Subject Public Key Information", amazontrust.com/repository.
        assert_eq!(
            hashes,
            [
                "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
                "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
                "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
                "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
                "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92",
            ]
        );
    }
}

//! Device proofs: what lets a client that has logged in as a user before keep its own
//! failed-login allowance (OWASP's "device cookies", for an API), so that strangers' failures
//! against a username never lock that client out.
//!
//! A proof is `lp1.<payload>.<signature>`: the payload (base64url JSON) names the user (`sub`),
//! the device (`did`, random), and when it was issued and expires; the signature is the
//! deployment's token key's over `login-proof.v1.<payload>`. Nothing in it is secret: a stolen
//! proof gives its thief that device's allowance and nothing else (no token, no session). Its
//! signing input starts with `login-proof`, which is no base64url JSON object, so no proof is
//! ever taken for a JWT, ours or a flask-jwt-extended app's that shares the key.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::tokens::{SigningError, TokenService, new_token_id};

/// How long a proof lasts from its last successful login: a device used at least this often
/// keeps its allowance for good.
pub const LIFETIME: Duration = Duration::from_secs(90 * 24 * 60 * 60);
const PREFIX: &str = "lp1.";
const SIGNING_PREFIX: &str = "login-proof.v1.";
/// A proof longer than this is no proof: an RSA-2048 one of the longest username a store keys
/// (2048 bytes, each escaped in JSON as up to six) is under 17,000 characters.
const MAX_LENGTH: usize = 20_000;

/// A proof that checked out, for the username it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProof {
    /// The device's id: the throttle's bucket for it.
    pub device: String,
    /// When it was issued: a proof of before the user's password changed proves nothing.
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Serialize)]
struct Payload<'a> {
    sub: &'a str,
    did: &'a str,
    iat: i64,
    exp: i64,
}

/// The payload as read back: owned, so that a username JSON escapes (a quote, a backslash)
/// reads back as it was signed.
#[derive(Deserialize)]
struct ReadPayload {
    sub: String,
    did: String,
    iat: i64,
    exp: i64,
}

/// A proof that `username` logged in on a device, at `now`: for the device `device` when the
/// client showed a proof of it (the proof is renewed), else a new one.
pub async fn issue(
    tokens: &TokenService,
    username: &str,
    device: Option<&str>,
    now: i64,
) -> Result<String, SigningError> {
    let device = device.map_or_else(new_token_id, str::to_owned);
    let payload = Payload {
        sub: username,
        did: &device,
        iat: now,
        exp: now.saturating_add(LIFETIME.as_secs() as i64),
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload)?);
    let signature = tokens
        .sign_bytes(format!("{SIGNING_PREFIX}{payload}").as_bytes())
        .await?;
    Ok(format!(
        "{PREFIX}{payload}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// The device of `proof`, if it is ours, unexpired at `now`, and for `username`: anything else
/// (forged, expired, another user's, garbled) counts as no proof at all.
pub fn check(tokens: &TokenService, proof: &str, username: &str, now: i64) -> Option<DeviceProof> {
    if proof.len() > MAX_LENGTH {
        return None;
    }
    let (payload_segment, signature) = proof.strip_prefix(PREFIX)?.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let message = format!("{SIGNING_PREFIX}{payload_segment}");
    if !tokens.verifies_bytes(message.as_bytes(), &signature) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload_segment).ok()?;
    let payload: ReadPayload = serde_json::from_slice(&bytes).ok()?;
    (payload.sub == username && payload.exp > now && !payload.did.is_empty()).then_some(
        DeviceProof {
            device: payload.did,
            issued_at: payload.iat,
            expires_at: payload.exp,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    const NOW: i64 = 1_800_000_000;

    fn service(secret: &str) -> TokenService {
        let settings = Settings::from_lookup(|name| {
            (name == crate::settings::SECRET_KEY_VAR).then(|| secret.to_owned())
        })
        .unwrap();
        TokenService::new(&settings).unwrap()
    }

    const SECRET: &str = "a test secret of at least thirty-two bytes";

    #[tokio::test]
    async fn a_proof_names_its_user_and_device_and_checks_out_until_it_expires() {
        let tokens = service(SECRET);
        let proof = issue(&tokens, "cosmo", None, NOW).await.unwrap();
        let checked = check(&tokens, &proof, "cosmo", NOW + 10).unwrap();
        assert_eq!(checked.expires_at, NOW + LIFETIME.as_secs() as i64);
        assert_eq!(checked.device.len(), 36, "a random UUID");
        // Renewed, it keeps its device.
        let renewed = issue(&tokens, "cosmo", Some(&checked.device), NOW + 100)
            .await
            .unwrap();
        assert_eq!(
            check(&tokens, &renewed, "cosmo", NOW + 200).unwrap().device,
            checked.device
        );
        assert_eq!(check(&tokens, &proof, "cosmo", checked.expires_at), None);
        // Two logins without a proof are two devices.
        let other = issue(&tokens, "cosmo", None, NOW).await.unwrap();
        assert_ne!(
            check(&tokens, &other, "cosmo", NOW).unwrap().device,
            checked.device
        );
    }

    #[tokio::test]
    async fn another_users_forged_or_garbled_proof_is_no_proof() {
        let tokens = service(SECRET);
        let proof = issue(&tokens, "cosmo", None, NOW).await.unwrap();
        assert_eq!(check(&tokens, &proof, "wanda", NOW), None);
        assert_eq!(check(&tokens, &proof, "Cosmo", NOW), None);
        let stranger = issue(
            &service("another secret, also thirty-two bytes long"),
            "cosmo",
            None,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(check(&tokens, &stranger, "cosmo", NOW), None);
        // Its payload changed (another user) under the original signature.
        let (_, signature) = proof.rsplit_once('.').unwrap();
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"sub":"wanda","did":"d","iat":1800000000,"exp":1900000000}"#);
        let swapped = format!("{PREFIX}{payload}.{signature}");
        assert_eq!(check(&tokens, &swapped, "wanda", NOW), None);
        for garbled in ["", "lp1.", "lp1..", "lp1.x.y", "x.y.z", &"a".repeat(30_000)] {
            assert_eq!(check(&tokens, garbled, "cosmo", NOW), None, "{garbled:.20}");
        }
    }

    /// Every username a store can hold gets a proof that checks out: JSON escapes included,
    /// and the longest key.
    #[tokio::test]
    async fn usernames_with_escapes_and_at_the_longest_get_proofs_that_check_out() {
        let tokens = service(SECRET);
        for username in ["a\\b", "quote\"d", "tab\tand\u{1}", &"\"".repeat(2048)] {
            let proof = issue(&tokens, username, None, NOW).await.unwrap();
            assert!(
                check(&tokens, &proof, username, NOW).is_some(),
                "{} bytes",
                username.len()
            );
        }
    }

    /// A proof is no token: the verifier of tokens (ours, and so flask-jwt-extended's, which
    /// ours answers like) refuses it, and a token is no proof.
    #[tokio::test]
    async fn a_proof_is_never_a_token_nor_a_token_a_proof() {
        let tokens = service(SECRET);
        let proof = issue(&tokens, "cosmo", None, NOW).await.unwrap();
        for kind in [
            crate::claims::TokenKind::Access,
            crate::claims::TokenKind::Refresh,
        ] {
            assert!(tokens.verify_at(&proof, kind, NOW as f64).is_err());
        }
        let token = tokens
            .issue_at(
                crate::claims::TokenKind::Access,
                "cosmo",
                true,
                NOW,
                "j",
                None,
            )
            .unwrap();
        assert_eq!(check(&tokens, &token, "cosmo", NOW), None);
        assert_eq!(
            check(&tokens, &format!("{PREFIX}{token}"), "cosmo", NOW),
            None
        );
    }
}

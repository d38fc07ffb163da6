//! Issue 29's story through the release bootstraps, each function the binary `sam build`
//! packages, configured as `template.yaml` and `local-env.json` configure it (with a second
//! factor's key, as `MfaEncryptionKey` gives it), over DynamoDB on moto, on the real clock,
//! with pyotp computing the codes: enrol, confirm, log out; a login gives no token but an
//! `mfa_token`; a code gives tokens whose `amr` says `otp`, once; a recovery code works once;
//! a refresh keeps `amr`. No log line holds the secret, a recovery code or an `mfa_token`.

use std::{process::Command, time::SystemTime};

use auth_mfa::{Authenticator, authenticator::STEP_SECS};
use auth_testkit::payload_of;
use serde_json::{Value, json};

use crate::{accounts::Deployment, bootstraps::root};

const MFA_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// A deployment as the self-service story's (`accounts::Deployment`), with a second factor's
/// key as `MfaEncryptionKey` gives it.
async fn deployment() -> Deployment {
    let mut deployment = Deployment::new().await;
    deployment.set("MFA_ENCRYPTION_KEY", MFA_KEY);
    deployment
}

async fn login(deployment: &mut Deployment) -> (u64, Value) {
    let login = json!({"username": "cosmo", "password": "space-corgi"});
    deployment
        .call("LoginFunction", "login-ok.json", Some(login), None)
        .await
}

async fn second_step(deployment: &mut Deployment, body: Value) -> (u64, Value) {
    deployment
        .call(
            "LoginMfaFunction",
            "login-mfa-unknown-token.json",
            Some(body),
            None,
        )
        .await
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code of `secret` at `unix_secs`: pyotp's, where `.venv` has it (`./scripts/test`
/// installs it), checked against ours; else ours.
fn code_at(secret: &str, unix_secs: u64) -> String {
    let ours = Authenticator::from_base32(secret, "cosmo", "app")
        .unwrap()
        .code_at(unix_secs);
    let python = root().join(".venv/bin/python");
    let pyotp = Command::new(python)
        .arg("-c")
        .arg("import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))")
        .args([secret, &unix_secs.to_string()])
        .output()
        .ok()
        .filter(|output| output.status.success());
    match pyotp {
        Some(output) => {
            let theirs = String::from_utf8(output.stdout).unwrap().trim().to_owned();
            assert_eq!(theirs, ours, "pyotp and auth-mfa disagree at {unix_secs}");
            theirs
        }
        None => {
            eprintln!("pyotp is not in .venv: the code is auth-mfa's alone");
            ours
        }
    }
}

fn text(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn enrol_confirm_and_log_in_with_a_second_factor_through_the_bootstraps() {
    let mut deployment = deployment().await;
    let mut secrets = Vec::new();

    // A login of before: tokens, amr ["pwd"].
    let (status, tokens) = login(&mut deployment).await;
    assert_eq!(status, 200, "{tokens}");
    let access = text(&tokens, "access_token");
    assert_eq!(payload_of(&access)["amr"], json!(["pwd"]));

    // Enrol: a secret, its URI and QR code; confirm with the code of now: ten recovery codes.
    let (status, enrolment) = deployment
        .call("MfaFunction", "mfa-totp-no-token.json", None, Some(&access))
        .await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = text(&enrolment, "secret");
    secrets.push(secret.clone());
    assert!(text(&enrolment, "qr_svg").contains("<svg"));
    let confirm = json!({"code": code_at(&secret, now())});
    let (status, confirmed) = deployment
        .call(
            "MfaFunction",
            "mfa-totp-confirm-no-token.json",
            Some(confirm),
            Some(&access),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery_codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery_codes.len(), 10);
    secrets.extend(recovery_codes.iter().cloned());

    // Log out.
    let (status, _) = deployment
        .call(
            "LogoutFunction",
            "logout-access-token.json",
            None,
            Some(&access),
        )
        .await;
    assert_eq!(status, 200);

    // A login: no token, an mfa_token.
    let (status, challenge) = login(&mut deployment).await;
    assert_eq!(status, 403, "{challenge}");
    assert_eq!(challenge["error"], "mfa_required");
    assert!(challenge.get("access_token").is_none() && challenge.get("refresh_token").is_none());
    let mfa_token = text(&challenge, "mfa_token");
    secrets.push(mfa_token.clone());

    // The next step's code (the confirmation spent this one's; an app a little ahead shows it):
    // tokens whose amr says otp. The same code again, with a new mfa_token: refused.
    let code = code_at(&secret, now() + STEP_SECS);
    let (status, signed_in) = second_step(
        &mut deployment,
        json!({"mfa_token": mfa_token, "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{signed_in}");
    let (access, refresh) = (
        text(&signed_in, "access_token"),
        text(&signed_in, "refresh_token"),
    );
    assert_eq!(payload_of(&access)["amr"], json!(["pwd", "otp", "mfa"]));
    let (status, refused) = second_step(
        &mut deployment,
        json!({"mfa_token": mfa_token, "code": code}),
    )
    .await;
    assert_eq!(
        (status, refused),
        (401, json!({"error": "MFA token is invalid or has expired"})),
        "the mfa_token, spent"
    );
    let (_, again) = login(&mut deployment).await;
    let (status, refused) = second_step(
        &mut deployment,
        json!({"mfa_token": text(&again, "mfa_token"), "code": code}),
    )
    .await;
    assert_eq!(
        (status, refused),
        (401, json!({"error": "Invalid code"})),
        "the code, spent"
    );

    // A refresh keeps amr.
    let (status, refreshed) = deployment
        .call("RefreshFunction", "refresh-ok.json", None, Some(&refresh))
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        payload_of(&text(&refreshed, "access_token"))["amr"],
        json!(["pwd", "otp", "mfa"])
    );

    // A recovery code, once.
    for expected in [200, 401] {
        let (_, challenge) = login(&mut deployment).await;
        let answer =
            json!({"mfa_token": text(&challenge, "mfa_token"), "recovery_code": recovery_codes[0]});
        let (status, body) = second_step(&mut deployment, answer).await;
        assert_eq!(status, expected, "{body}");
        if status == 200 {
            assert_eq!(
                payload_of(&text(&body, "access_token"))["amr"],
                json!(["pwd", "mfa"])
            );
        }
    }

    // Every log line is JSON and none holds the secret, a recovery code or an mfa_token.
    deployment.stop_and_check_logs(&secrets).await;
}

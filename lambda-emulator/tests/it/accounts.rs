//! Issue 28's story through the release bootstraps, each function the binary `sam build`
//! packages, configured as `template.yaml` and `local-env.json` configure it, over DynamoDB and
//! SES v2 on moto: the mail is what moto took (`/moto-api/data.json`), sent from an identity
//! made first, as SES wants it. Sign up, one mail, no login before the address is confirmed,
//! the mailed token confirms it (and only once), the tokens work; recovery mails a reset link
//! and the reset ends every session; a password change needs a fresh token. No log line holds
//! a password, a token or the address in full.

use std::collections::BTreeMap;

use auth_dynamodb::DynamoUserStore;
use auth_testkit::ses::{SentMail, fresh_recipient, mails_to};
use lambda_emulator::{
    ExecutionEnvironment, Reply,
    events::{self, EventFile},
};
use serde_json::{Value, json};

use crate::bootstraps::{
    REPLY_TIMEOUT, Tables, env_vars_of, request_like, root, ses_endpoint, start, status_and_body,
    users_table, with_a_verified_sender,
};

const PASSWORD: &str = "lunar kettle quilt harbor";
const NEW_PASSWORD: &str = "violet lantern orbit";
const NEWEST_PASSWORD: &str = "copper meadow signal";

/// A deployment of the functions under the emulator: `local-env.json` over tables of its own
/// and a sender of its own, each function started once and kept warm. (The second factor's
/// story, mfa.rs, and the sessions' and activity log's, sessions.rs, run on it too.)
pub(crate) struct Deployment {
    env_vars: Value,
    events: Vec<EventFile>,
    users: DynamoUserStore,
    sessions_table: String,
    activity_table: String,
    running: BTreeMap<&'static str, ExecutionEnvironment>,
}

impl Deployment {
    pub(crate) async fn new() -> Self {
        let users = users_table().await;
        let sessions = auth_testkit::fresh_dynamodb_sessions().await;
        let activity = auth_testkit::fresh_dynamodb_activity().await;
        let tables = Tables {
            users: users.table(),
            sessions: sessions.table(),
            activity: activity.table(),
        };
        let mut env_vars = env_vars_of("local-env.json", tables);
        with_a_verified_sender(&mut env_vars).await;
        assert_eq!(
            env_vars["Parameters"]["SIGNUP"], "open",
            "local-env.json opens sign-up"
        );
        Self {
            env_vars,
            events: events::load(&root().join("events")).unwrap(),
            users,
            sessions_table: sessions.table().to_owned(),
            activity_table: activity.table().to_owned(),
            running: BTreeMap::new(),
        }
    }

    /// Adds the user `username` with `password`, an account of a minute ago (so that a token
    /// issued in this very second is not older than the account).
    pub(crate) async fn add_user(&self, username: &str, password: &str) {
        let user = auth_testkit::user_with_password(username, password, json!({}));
        let a_minute_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        auth_admin::UserAdmin::of(&self.users)
            .import(&user, a_minute_ago)
            .await
            .unwrap();
    }

    /// The event `name` of `events/`.
    pub(crate) fn event(&self, name: &str) -> &EventFile {
        self.events
            .iter()
            .find(|event| event.name == name)
            .unwrap_or_else(|| panic!("no event {name}"))
    }

    /// `event` to `function` (started at its first event, then kept warm): the reply.
    pub(crate) async fn invoke(&mut self, function: &'static str, event: &Value) -> Reply {
        if !self.running.contains_key(function) {
            let environment = start(function, &self.env_vars).await;
            self.running.insert(function, environment);
        }
        let environment = self.running.get_mut(function).unwrap();
        environment
            .invoke(event, REPLY_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("{function}: {error}\n{}", environment.logs()))
            .reply
    }

    /// `event` to `function`: the reply's status and body.
    pub(crate) async fn respond(&mut self, function: &'static str, event: &Value) -> (u64, Value) {
        if !self.running.contains_key(function) {
            let environment = start(function, &self.env_vars).await;
            self.running.insert(function, environment);
        }
        let environment = self.running.get_mut(function).unwrap();
        status_and_body(environment, event).await
    }

    /// Every item of the deployment's three tables, as text: what a grep for a secret reads.
    pub(crate) async fn stored_items(&self) -> String {
        let client = self.users.client();
        let mut text = String::new();
        for table in [
            self.users.table(),
            &self.sessions_table,
            &self.activity_table,
        ] {
            let mut pages = client
                .scan()
                .table_name(table)
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                text.push_str(&format!("{:?}\n", item.unwrap()));
            }
        }
        text
    }

    /// Sets the variable `name` of every function started from now on.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.env_vars["Parameters"][name] = json!(value);
    }

    fn sender(&self) -> &str {
        self.env_vars["Parameters"]["MAIL_FROM"].as_str().unwrap()
    }

    /// `body` (if any: else the event's own) and `token` (as the bearer) to `function`, in a
    /// request like the event `like` of `events/`: the reply's status and body.
    pub(crate) async fn call(
        &mut self,
        function: &'static str,
        like: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u64, Value) {
        let template = self.event(like);
        let body = body.map(|body| body.to_string());
        let event = request_like(template, body.as_deref(), token);
        self.respond(function, &event).await
    }

    /// The mail moto took for `address`, checked to be from this deployment's sender.
    fn mails_to(&self, address: &str) -> Vec<SentMail> {
        let mails = mails_to(&ses_endpoint(), address);
        for mail in &mails {
            assert_eq!(mail.from, self.sender(), "{mail:?}");
        }
        mails
    }

    /// A minute later for the one mail a minute an address may get: the bootstraps run on the
    /// real clock, so the address's mail slots (`mailslot#...` in the sessions table, which
    /// would be claimable again at their end) are deleted instead of waited for.
    async fn a_minute_later(&self) {
        let client = self.users.client();
        let items = client
            .scan()
            .table_name(&self.sessions_table)
            .send()
            .await
            .unwrap();
        let mut deleted = 0;
        for item in items.items() {
            let Some(key) = item.get("pk") else { continue };
            if key.as_s().is_ok_and(|key| key.starts_with("mailslot")) {
                client
                    .delete_item()
                    .table_name(&self.sessions_table)
                    .key("pk", key.clone())
                    .send()
                    .await
                    .unwrap();
                deleted += 1;
            }
        }
        assert!(deleted > 0, "no mail slot in {}", self.sessions_table);
    }

    /// Stops every function; each log line is JSON and holds none of `secrets`.
    pub(crate) async fn stop_and_check_logs(self, secrets: &[String]) {
        for (function, environment) in self.running {
            let logs = environment.stop_and_read_logs().await;
            for line in logs.lines().filter(|line| !line.trim().is_empty()) {
                assert!(
                    serde_json::from_str::<Value>(line).is_ok(),
                    "{function}: not a JSON line: {line:?}"
                );
                for secret in secrets {
                    assert!(
                        !line.contains(secret.as_str()),
                        "{function} logged {secret:?}: {line}"
                    );
                }
            }
        }
    }
}

fn text(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

/// The token of the link in `mail` (moto keeps its HTML part, where `&` is `&amp;`).
fn token_of(mail: &SentMail, purpose: &str) -> String {
    assert!(
        mail.body.contains(&format!("type={purpose}&amp;token=")),
        "no {purpose} link in {}",
        mail.body
    );
    auth_testkit::mail::token_in(&mail.body).unwrap_or_else(|| panic!("no token in {}", mail.body))
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB- and SES-compatible server: ./scripts/test runs it"]
async fn sign_up_confirm_recover_and_reset_through_the_bootstraps() {
    let mut deployment = Deployment::new().await;
    let ann = fresh_recipient();
    let mut secrets = vec![
        ann.clone(),
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        NEWEST_PASSWORD.to_owned(),
    ];

    // Sign up: 200 {}, and one mail, the confirmation, to the address.
    let signup = json!({"email": ann, "password": PASSWORD});
    let answer = deployment
        .call("SignupFunction", "signup-ok.json", Some(signup), None)
        .await;
    assert_eq!(answer, (200, json!({})));
    let mails = deployment.mails_to(&ann);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Confirm your email address");
    let confirmation = token_of(&mails[0], "signup");
    secrets.push(confirmation.clone());

    // The right password, but the address is not confirmed: no tokens.
    let login = json!({"username": ann, "password": PASSWORD});
    let answer = deployment
        .call("LoginFunction", "login-ok.json", Some(login.clone()), None)
        .await;
    assert_eq!(answer, (403, json!({"error": "Email not confirmed"})));

    // The mailed token, with the password signed up with, confirms it and logs in, once; with
    // another password it confirms nothing, and stays good.
    let wrong = json!({"type": "signup", "token": confirmation, "password": NEW_PASSWORD});
    let (status, refused) = deployment
        .call(
            "VerifyFunction",
            "verify-unknown-token.json",
            Some(wrong),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["password"].is_array(), "{refused}");
    let verify = json!({"type": "signup", "token": confirmation, "password": PASSWORD});
    let (status, tokens) = deployment
        .call(
            "VerifyFunction",
            "verify-unknown-token.json",
            Some(verify.clone()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let (access, refresh) = (
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
    );
    secrets.extend([access.clone(), refresh.clone()]);
    let answer = deployment
        .call(
            "VerifyFunction",
            "verify-unknown-token.json",
            Some(verify),
            None,
        )
        .await;
    assert_eq!(
        answer,
        (400, json!({"error": "Token is invalid or has expired"})),
        "a confirmation replayed"
    );

    // The tokens work.
    let (status, profile) = deployment
        .call("ProfileFunction", "profile-ok.json", None, Some(&access))
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["username"], json!(ann), "{profile}");

    // Recovery: 200 {}, and a reset link (a minute after the confirmation: one mail a minute).
    deployment.a_minute_later().await;
    let answer = deployment
        .call(
            "RecoverFunction",
            "recover-unknown-address.json",
            Some(json!({"email": ann})),
            None,
        )
        .await;
    assert_eq!(answer, (200, json!({})));
    let mails = deployment.mails_to(&ann);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[1].subject, "Reset your password");
    let reset_token = token_of(&mails[1], "recovery");
    secrets.push(reset_token.clone());
    let check = json!({"type": "recovery", "token": reset_token});
    let answer = deployment
        .call(
            "VerifyFunction",
            "verify-unknown-token.json",
            Some(check),
            None,
        )
        .await;
    assert_eq!(answer, (200, json!({})), "the page checks the link first");

    // The reset ends every session: the refresh token of before is revoked.
    let reset = json!({"token": reset_token, "new_password": NEW_PASSWORD});
    let answer = deployment
        .call(
            "ResetPasswordFunction",
            "password-reset-unknown-token.json",
            Some(reset.clone()),
            None,
        )
        .await;
    assert_eq!(answer, (200, json!({})));
    let answer = deployment
        .call("RefreshFunction", "refresh-ok.json", None, Some(&refresh))
        .await;
    assert_eq!(answer, (401, json!({"msg": "Token has been revoked"})));
    let answer = deployment
        .call(
            "ResetPasswordFunction",
            "password-reset-unknown-token.json",
            Some(reset),
            None,
        )
        .await;
    assert_eq!(
        answer,
        (400, json!({"error": "Token is invalid or has expired"})),
        "a reset link is spent"
    );
    let answer = deployment
        .call("LoginFunction", "login-ok.json", Some(login), None)
        .await;
    assert_eq!(answer.0, 401, "the old password: {}", answer.1);

    // The new password logs in; a password change needs a login's (fresh) token, not a
    // refresh's.
    let login = json!({"username": ann, "password": NEW_PASSWORD});
    let (status, tokens) = deployment
        .call("LoginFunction", "login-ok.json", Some(login), None)
        .await;
    assert_eq!(status, 200, "{tokens}");
    let (fresh, refresh) = (
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
    );
    let (status, refreshed) = deployment
        .call("RefreshFunction", "refresh-ok.json", None, Some(&refresh))
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let not_fresh = text(&refreshed, "access_token");
    secrets.extend([fresh.clone(), refresh, not_fresh.clone()]);
    let change = json!({"current_password": NEW_PASSWORD, "new_password": NEWEST_PASSWORD});
    let answer = deployment
        .call(
            "ChangePasswordFunction",
            "password-not-fresh.json",
            Some(change.clone()),
            Some(&not_fresh),
        )
        .await;
    assert_eq!(answer, (401, json!({"msg": "Fresh token required"})));
    let answer = deployment
        .call(
            "ChangePasswordFunction",
            "password-not-fresh.json",
            Some(change),
            Some(&fresh),
        )
        .await;
    assert_eq!(answer, (200, json!({})), "a login's token changes it");
    let login = json!({"username": ann, "password": NEWEST_PASSWORD});
    let (status, tokens) = deployment
        .call("LoginFunction", "login-ok.json", Some(login), None)
        .await;
    assert_eq!(status, 200, "{tokens}");
    secrets.extend(["access_token", "refresh_token"].map(|name| text(&tokens, name)));

    // Two mails in all, both from the deployment's sender.
    assert_eq!(deployment.mails_to(&ann).len(), 2);
    deployment.stop_and_check_logs(&secrets).await;
}

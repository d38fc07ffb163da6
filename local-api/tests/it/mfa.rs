//! The second factor as a person and an attacker drive it, over both stores: enrol, confirm,
//! a login that gives no token before its code, codes that work once (a replay, two uses at
//! once), recovery codes, the lock after wrong codes, an `mfa_token` that expires, is spent,
//! or came from elsewhere, and a table that holds no secret in clear. Codes are computed as
//! an app computes them, from the secret enrolment shows: by pyotp, a TOTP we did not write
//! (`App`). Over DynamoDB every operation is checked against its function's IAM policy in
//! `template.yaml`.

use std::{sync::Arc, time::Duration};

use auth_core::{
    AppState, Stores, clock::Clock, sessions::InMemorySessionStore, users::InMemoryUserStore,
};
use auth_mfa::{
    Authenticator,
    authenticator::{STEP_SECS, step_at},
};
use auth_testkit::{
    fresh_dynamodb_sessions, fresh_dynamodb_store, json_body, mail::Outbox, payload_of, request,
    settings_with,
};
use lambda_http::{
    Body, Request, RequestExt, Response, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext,
    http::StatusCode, request::RequestContext,
};
use local_api::{Function, invoke};
use serde_json::{Value, json};

use crate::{
    common::{Backend, DelayingProxy, StoreOperations},
    round_trips::assert_allowed,
};

const ANN: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery";
const HOME: &str = "198.51.100.7";
const ELSEWHERE: &str = "203.0.113.99";
/// A key of the tests' own: the table's sealed secrets open with it alone.
const MFA_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// The template's resource of `function`, whose IAM policy each DynamoDB request must pass.
fn resource_of(function: Function) -> &'static str {
    match function {
        Function::Login => "LoginFunction",
        Function::Refresh => "RefreshFunction",
        Function::Profile => "ProfileFunction",
        Function::Signup => "SignupFunction",
        Function::Verify => "VerifyFunction",
        Function::LoginMfa => "LoginMfaFunction",
        Function::Mfa => "MfaFunction",
        other => panic!("no MFA test calls {other:?}"),
    }
}

struct Mfa {
    state: AppState,
    outbox: Outbox,
    clock: Clock,
    operations: Option<StoreOperations>,
    /// The users table, over DynamoDB, to read items as they are stored.
    users_table: Option<auth_dynamodb::DynamoUserStore>,
}

/// What a sign-in answered: the tokens, or the second step's token.
#[derive(Debug)]
struct Tokens {
    access: String,
    refresh: String,
}

impl Mfa {
    async fn new(backend: Backend) -> Self {
        let (stores, operations, users_table) = match backend {
            Backend::Memory => (
                Stores::in_memory(
                    Arc::new(InMemoryUserStore::demo()),
                    Arc::new(InMemorySessionStore::default()),
                ),
                None,
                None,
            ),
            Backend::DynamoDb => {
                let users = fresh_dynamodb_store().await;
                let sessions = fresh_dynamodb_sessions().await;
                let operations = StoreOperations::default();
                let url = DelayingProxy::start(
                    &auth_testkit::dynamodb_endpoint(),
                    Duration::ZERO,
                    operations.clone(),
                )
                .await;
                let client = auth_dynamodb::client::client_at(&url).await;
                let stores = auth_dynamodb::stores(client, users.table(), sessions.table());
                (stores, Some(operations), Some(users))
            }
        };
        let outbox = Outbox::new();
        // A manual clock at the real time: DynamoDB's records carry real ends, and TOTP steps
        // move when the test says.
        let clock = Clock::manual_at(Clock::System.now());
        let settings = settings_with(&[
            ("SIGNUP", "open"),
            ("APP_URL", "https://app.example/welcome"),
            ("ACCOUNT_MIN_ANSWER_TIME", "0"),
            ("MFA_ENCRYPTION_KEY", MFA_KEY),
            // On, far above what a test sends: the counters' writes are checked too.
            ("LOGIN_IP_LIMIT", "1000/1h"),
            ("MFA_IP_LIMIT", "1000/1h"),
        ]);
        let state = AppState::builder(&settings, stores.clone())
            .mailer(Arc::new(outbox.clone()))
            .clock(clock.clone())
            .password_workers(2)
            .build()
            .unwrap();
        Self {
            state,
            outbox,
            clock,
            operations,
            users_table,
        }
    }

    async fn invoke(&self, function: Function, request: Request) -> Response<Body> {
        if let Some(operations) = &self.operations {
            operations.take();
        }
        let response = invoke(&self.state, function, request).await.unwrap();
        if let Some(operations) = &self.operations {
            assert_allowed(resource_of(function), &operations.take());
        }
        response
    }

    /// `method path` with `body`, from `source_ip`, with `bearer` if given.
    async fn call(
        &self,
        function: Function,
        method: &str,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
        source_ip: &str,
    ) -> Response<Body> {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        let body = body.map(|body| body.to_string());
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some(source_ip.to_owned());
        context.route_key = Some(format!("{method} {path}"));
        let request = request(method, path, &headers, body.as_deref())
            .with_request_context(RequestContext::ApiGatewayV2(context));
        self.invoke(function, request).await
    }

    async fn login_from(&self, source_ip: &str) -> (StatusCode, Value) {
        let response = self
            .call(
                Function::Login,
                "POST",
                "/login",
                Some(json!({"username": ANN, "password": PASSWORD})),
                None,
                source_ip,
            )
            .await;
        (response.status(), json_body(&response))
    }

    /// A password login of a user with a factor: its `mfa_token`.
    async fn mfa_token(&self) -> String {
        let (status, body) = self.login_from(HOME).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "mfa_required");
        assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    async fn second_step(&self, body: Value, source_ip: &str) -> (StatusCode, Value) {
        let response = self
            .call(
                Function::LoginMfa,
                "POST",
                "/login/mfa",
                Some(body),
                None,
                source_ip,
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
        }
        (response.status(), json_body(&response))
    }

    async fn with_code(&self, mfa_token: &str, code: &str) -> (StatusCode, Value) {
        self.second_step(json!({"mfa_token": mfa_token, "code": code}), HOME)
            .await
    }

    async fn factor(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        access: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .call(Function::Mfa, method, path, body, Some(access), HOME)
            .await;
        assert_eq!(response.headers()["cache-control"], "no-store");
        (response.status(), json_body(&response))
    }

    async fn refresh(&self, refresh: &str) -> (StatusCode, Value) {
        let response = self
            .call(
                Function::Refresh,
                "POST",
                "/refresh",
                None,
                Some(refresh),
                HOME,
            )
            .await;
        (response.status(), json_body(&response))
    }

    /// Ann, signed up and confirmed: her confirmation's tokens (fresh, as a login's).
    async fn confirmed_ann(&self) -> Tokens {
        let response = self
            .call(
                Function::Signup,
                "POST",
                "/signup",
                Some(json!({"email": ANN, "password": PASSWORD})),
                None,
                HOME,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let token = self.outbox.last_token_to(ANN);
        let response = self
            .call(
                Function::Verify,
                "POST",
                "/verify",
                Some(json!({"type": "signup", "token": token, "password": PASSWORD})),
                None,
                HOME,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        tokens(&json_body(&response))
    }

    /// Ann with her factor on: an app holding its secret, her recovery codes, and the tokens
    /// of the session she enrolled in.
    async fn ann_with_a_factor(&self) -> (App, Vec<String>, Tokens) {
        let tokens = self.confirmed_ann().await;
        let (status, enrolment) = self.factor("POST", "/mfa/totp", None, &tokens.access).await;
        assert_eq!(status, StatusCode::OK, "{enrolment}");
        let app = App::new(enrolment["secret"].as_str().unwrap());
        let (status, confirmed) = self
            .factor(
                "POST",
                "/mfa/totp/confirm",
                Some(json!({"code": self.code(&app)})),
                &tokens.access,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        let codes = confirmed["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        (app, codes, tokens)
    }

    /// The code `app` shows now.
    fn code(&self, app: &App) -> String {
        app.code_at(self.now())
    }

    fn now(&self) -> u64 {
        self.clock.unix_secs() as u64
    }

    /// On to the first second of the next step: its code is a new one.
    fn next_step(&self) {
        let now = self.now();
        self.clock
            .advance(Duration::from_secs((step_at(now) + 1) * STEP_SECS - now));
    }
}

/// An authenticator app given the secret enrolment showed. Its codes are pyotp's, a TOTP we did
/// not write, where `.venv` has it (`./scripts/test` installs it: requirements-dev.txt), and
/// each is checked against ours; without it, ours alone.
struct App {
    secret: String,
    ours: Authenticator,
}

impl App {
    fn new(secret: &str) -> Self {
        Self {
            secret: secret.to_owned(),
            ours: Authenticator::from_base32(secret, ANN, "app").unwrap(),
        }
    }

    fn code_at(&self, unix_secs: u64) -> String {
        let ours = self.ours.code_at(unix_secs);
        if let Some(theirs) = pyotp_code(&self.secret, unix_secs) {
            assert_eq!(theirs, ours, "pyotp and auth-mfa disagree at {unix_secs}");
        }
        ours
    }
}

/// pyotp's code of `secret` at `unix_secs`, if `.venv` has pyotp.
fn pyotp_code(secret: &str, unix_secs: u64) -> Option<String> {
    static HAS_PYOTP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let run = |script: &str, args: &[&str]| {
        std::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
    };
    let available = *HAS_PYOTP.get_or_init(|| {
        let found = run("import pyotp", &[]).is_some();
        if !found {
            eprintln!(
                "pyotp is not in .venv: codes are auth-mfa's alone (./scripts/test installs it)"
            );
        }
        found
    });
    if !available {
        return None;
    }
    let output = run(
        "import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
        &[secret, &unix_secs.to_string()],
    )?;
    Some(String::from_utf8(output.stdout).ok()?.trim().to_owned())
}

fn tokens(body: &Value) -> Tokens {
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

fn amr(token: &str) -> Value {
    payload_of(token)["amr"].clone()
}

over_both_stores!(
    enrol_confirm_and_log_in_with_a_code_that_works_once,
    a_recovery_code_works_once_and_says_so_in_amr,
    five_wrong_codes_lock_the_factor_until_the_window_ends,
    two_uses_of_one_code_at_once_give_one_success,
    an_mfa_token_expires_is_spent_and_stays_where_the_password_was_typed,
    the_factor_changes_only_with_a_fresh_token_and_a_code,
    a_user_without_a_factor_logs_in_as_before,
    tokens_and_mfa_tokens_are_never_taken_for_one_another,
);

/// Enrol (a secret, a QR code), confirm with its first code (ten recovery codes; every other
/// session ends, the caller's stays); then a login gives no token but an `mfa_token`, and the
/// next step's code gives the pair, `amr` saying a second factor was passed, kept by a
/// refresh; the same code again is refused, with a new `mfa_token` too.
async fn enrol_confirm_and_log_in_with_a_code_that_works_once(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let enrolling = mfa.confirmed_ann().await;
    // Another device, signed in before the factor.
    let (status, other_device) = mfa.login_from(ELSEWHERE).await;
    assert_eq!(status, StatusCode::OK);
    let other_device = tokens(&other_device);
    assert_eq!(amr(&other_device.access), json!(["pwd"]));

    let (status, enrolment) = mfa
        .factor("POST", "/mfa/totp", None, &enrolling.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    let secret = enrolment["secret"].as_str().unwrap();
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/JWT%20Auth:ann%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")));
    let svg = enrolment["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && !svg.contains(secret));
    // Pending is not on: a login still needs the password alone.
    let (status, _) = mfa.login_from(HOME).await;
    assert_eq!(status, StatusCode::OK);

    let app = App::new(secret);
    let wrong = if mfa.code(&app) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = mfa
        .factor(
            "POST",
            "/mfa/totp/confirm",
            Some(json!({"code": wrong})),
            &enrolling.access,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    let (status, confirmed) = mfa
        .factor(
            "POST",
            "/mfa/totp/confirm",
            Some(json!({"code": mfa.code(&app)})),
            &enrolling.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let codes = confirmed["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);

    // `/profile` says the factor is on (and said nothing of one before).
    let response = mfa
        .call(
            Function::Profile,
            "GET",
            "/profile",
            None,
            Some(&enrolling.access),
            HOME,
        )
        .await;
    assert_eq!(json_body(&response)["mfa_enabled"], json!(true));
    let response = mfa
        .call(
            Function::Profile,
            "GET",
            "/profile",
            None,
            Some(&other_device.access),
            HOME,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "its session ended"
    );

    // The other device's session ended; the enrolling one stays.
    let (status, body) = mfa.refresh(&other_device.refresh).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has been revoked"})
        )
    );
    let (status, _) = mfa.refresh(&enrolling.refresh).await;
    assert_eq!(status, StatusCode::OK);

    // The confirming code's step is spent: a login in it cannot pass with that code.
    let mfa_token = mfa.mfa_token().await;
    let (status, _) = mfa.with_code(&mfa_token, &mfa.code(&app)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the confirming code, again"
    );
    mfa.next_step();
    let code = mfa.code(&app);
    let (status, body) = mfa.with_code(&mfa_token, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed_in = tokens(&body);
    assert_eq!(amr(&signed_in.access), json!(["pwd", "otp", "mfa"]));
    assert_eq!(amr(&signed_in.refresh), json!(["pwd", "otp", "mfa"]));
    assert_eq!(payload_of(&signed_in.access)["fresh"], json!(true));
    let (status, refreshed) = mfa.refresh(&signed_in.refresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        amr(refreshed["access_token"].as_str().unwrap()),
        json!(["pwd", "otp", "mfa"])
    );

    let (status, body) = mfa.with_code(&mfa.mfa_token().await, &code).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );

    // The item holds no secret, pending or confirmed, and no recovery code, in clear.
    if let Some(users) = &mfa.users_table {
        let item = users
            .client()
            .get_item()
            .table_name(users.table())
            .key(
                "username",
                aws_sdk_dynamodb::types::AttributeValue::S(ANN.into()),
            )
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        let stored = format!("{item:?}");
        assert!(stored.contains("mfa_secret"), "{stored}");
        assert!(!stored.contains(secret), "the base32 secret is stored");
        assert!(!stored.to_lowercase().contains(&secret.to_lowercase()[..16]));
        for code in codes {
            let code = code.as_str().unwrap();
            assert!(!stored.contains(code) && !stored.contains(&code.replace('-', "")));
        }
    }
}

/// A recovery code passes the second step in place of a code, once; its tokens say so.
async fn a_recovery_code_works_once_and_says_so_in_amr(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (_, codes, _) = mfa.ann_with_a_factor().await;
    // Typed as a person would: capitals, no dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let (status, body) = mfa
        .second_step(
            json!({"mfa_token": mfa.mfa_token().await, "recovery_code": typed}),
            HOME,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        amr(body["access_token"].as_str().unwrap()),
        json!(["pwd", "mfa"])
    );
    let (status, body) = mfa
        .second_step(
            json!({"mfa_token": mfa.mfa_token().await, "recovery_code": codes[3]}),
            HOME,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    let (status, _) = mfa
        .second_step(
            json!({"mfa_token": mfa.mfa_token().await, "recovery_code": codes[4]}),
            HOME,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "another code still works");
}

/// Five wrong codes lock the factor: the right code is refused with 429 and Retry-After, from
/// a new login too, until the window ends; then it passes.
async fn five_wrong_codes_lock_the_factor_until_the_window_ends(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (app, _, _) = mfa.ann_with_a_factor().await;
    mfa.next_step();
    let right = mfa.code(&app);
    let wrong = (right.parse::<u32>().unwrap() + 1) % 1_000_000;
    let wrong = format!("{wrong:06}");
    let mfa_token = mfa.mfa_token().await;
    for attempt in 1..=5 {
        let (status, body) = mfa.with_code(&mfa_token, &wrong).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"})),
            "wrong code {attempt}"
        );
    }
    let (status, body) = mfa.with_code(&mfa_token, &right).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "Too many wrong codes: try again later"})
        )
    );
    let (status, _) = mfa.with_code(&mfa.mfa_token().await, &right).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new login, the right code"
    );
    // The login throttle's window (LOGIN_FAILURE_WINDOW, 15 minutes) ends.
    mfa.clock.advance(Duration::from_secs(15 * 60 + 1));
    let (status, body) = mfa.with_code(&mfa.mfa_token().await, &mfa.code(&app)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The same code at once, with one `mfa_token` and with two: one success each time.
async fn two_uses_of_one_code_at_once_give_one_success(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (app, _, _) = mfa.ann_with_a_factor().await;
    for same_token in [true, false] {
        mfa.next_step();
        let code = mfa.code(&app);
        let first = mfa.mfa_token().await;
        let second = match same_token {
            true => first.clone(),
            false => mfa.mfa_token().await,
        };
        let (one, other) =
            tokio::join!(mfa.with_code(&first, &code), mfa.with_code(&second, &code));
        let statuses = [one.0, other.0];
        assert_eq!(
            statuses
                .iter()
                .filter(|status| **status == StatusCode::OK)
                .count(),
            1,
            "same token {same_token}: {statuses:?}"
        );
        assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
    }
}

/// An `mfa_token` is refused after its five minutes, after its success, and from an address
/// other than the password's; a garbled one is refused alike.
async fn an_mfa_token_expires_is_spent_and_stays_where_the_password_was_typed(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (app, _, _) = mfa.ann_with_a_factor().await;
    let invalid = json!({"error": "MFA token is invalid or has expired"});

    let late = mfa.mfa_token().await;
    mfa.clock.advance(Duration::from_secs(5 * 60));
    let (status, body) = mfa.with_code(&late, &mfa.code(&app)).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "after 5 minutes"
    );

    mfa.next_step();
    let mfa_token = mfa.mfa_token().await;
    let (status, body) = mfa
        .second_step(
            json!({"mfa_token": mfa_token, "code": mfa.code(&app)}),
            ELSEWHERE,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "from elsewhere"
    );
    let (status, _) = mfa.with_code(&mfa_token, &mfa.code(&app)).await;
    assert_eq!(status, StatusCode::OK, "from home, still good");
    mfa.next_step();
    let (status, body) = mfa.with_code(&mfa_token, &mfa.code(&app)).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "spent"
    );

    for garbled in [format!("{mfa_token}x"), "x".repeat(200), String::from("a")] {
        let (status, body) = mfa.with_code(&garbled, &mfa.code(&app)).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, invalid.clone()));
    }
}

/// Turning the factor off or renewing its codes takes a fresh token and a code; a non-fresh
/// token is flask-jwt-extended's 401; new codes end the old ones; a factor off means a
/// password login again.
async fn the_factor_changes_only_with_a_fresh_token_and_a_code(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (app, old_codes, enrolled) = mfa.ann_with_a_factor().await;
    let (_, refreshed) = mfa.refresh(&enrolled.refresh).await;
    let stale = refreshed["access_token"].as_str().unwrap();
    mfa.next_step();
    for (method, path) in [
        ("POST", "/mfa/totp"),
        ("DELETE", "/mfa/totp"),
        ("POST", "/mfa/recovery-codes"),
    ] {
        let (status, body) = mfa
            .factor(method, path, Some(json!({"code": mfa.code(&app)})), stale)
            .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"msg": "Fresh token required"})
            ),
            "{method} {path}"
        );
    }
    let (status, body) = mfa
        .factor("POST", "/mfa/totp", None, &enrolled.access)
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (
            StatusCode::CONFLICT,
            json!("A second factor is already on: remove it first")
        )
    );

    let (status, renewed) = mfa
        .factor(
            "POST",
            "/mfa/recovery-codes",
            Some(json!({"code": mfa.code(&app)})),
            &enrolled.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let new_codes = renewed["recovery_codes"].as_array().unwrap();
    assert_eq!(new_codes.len(), 10);
    let (status, _) = mfa
        .second_step(
            json!({"mfa_token": mfa.mfa_token().await, "recovery_code": old_codes[0]}),
            HOME,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an old code after the renewal"
    );

    let (status, body) = mfa
        .factor(
            "DELETE",
            "/mfa/totp",
            Some(json!({"code": "12345"})),
            &enrolled.access,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    let (status, _) = mfa
        .factor(
            "DELETE",
            "/mfa/totp",
            Some(json!({"recovery_code": new_codes[0]})),
            &enrolled.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = mfa.login_from(HOME).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(amr(body["access_token"].as_str().unwrap()), json!(["pwd"]));
    let (status, body) = mfa
        .factor(
            "DELETE",
            "/mfa/totp",
            Some(json!({"code": mfa.code(&app)})),
            &enrolled.access,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({"error": "No second factor to act on"})
        )
    );
}

/// A user without a factor: the login's answer is today's, its tokens say `pwd`, and the
/// second step has nothing to take.
async fn a_user_without_a_factor_logs_in_as_before(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    mfa.confirmed_ann().await;
    let (status, body) = mfa.login_from(HOME).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(amr(body["access_token"].as_str().unwrap()), json!(["pwd"]));
    let response = mfa
        .call(
            Function::Profile,
            "GET",
            "/profile",
            None,
            body["access_token"].as_str(),
            HOME,
        )
        .await;
    assert!(json_body(&response).get("mfa_enabled").is_none());
    let (status, _) = mfa
        .second_step(
            json!({"mfa_token": body["access_token"], "code": "123456"}),
            HOME,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// An access or refresh token is no `mfa_token`, and an `mfa_token` is no bearer token.
async fn tokens_and_mfa_tokens_are_never_taken_for_one_another(backend: Backend) {
    let mfa = Mfa::new(backend).await;
    let (app, _, enrolled) = mfa.ann_with_a_factor().await;
    mfa.next_step();
    for token in [&enrolled.access, &enrolled.refresh] {
        let (status, body) = mfa.with_code(token, &mfa.code(&app)).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "MFA token is invalid or has expired"})
            )
        );
    }
    // No JWT at all: flask-jwt-extended's 422 for a token that does not decode.
    let mfa_token = mfa.mfa_token().await;
    let (status, body) = mfa
        .factor(
            "POST",
            "/mfa/recovery-codes",
            Some(json!({"code": mfa.code(&app)})),
            &mfa_token,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let response = mfa
        .call(
            Function::Profile,
            "GET",
            "/profile",
            None,
            Some(&mfa_token),
            HOME,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // None of it spent the code or the token: they still pass the second step.
    let (status, _) = mfa.with_code(&mfa_token, &mfa.code(&app)).await;
    assert_eq!(status, StatusCode::OK);
}

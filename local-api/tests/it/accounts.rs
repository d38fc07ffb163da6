//! The self-service routes as a person and an attacker drive them, over both stores: sign-up,
//! confirmation, recovery, password change and reset, the per-address limits, a mail service
//! that is down. Mail is read back from the outbox the state sends through (SES itself, on
//! moto, is `lambda-emulator`'s and `auth-ses`'s to test).

use std::{sync::Arc, time::Duration};

use auth_core::{
    AppState, Stores, accounts::mail::Mailer, clock::Clock, sessions::InMemorySessionStore,
    users::InMemoryUserStore,
};
use auth_testkit::{
    fresh_dynamodb_sessions, fresh_dynamodb_store, json_body,
    mail::{DownMailer, Outbox},
    request, settings_with,
};
use lambda_http::{
    Body, Request, RequestExt, Response, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext,
    http::StatusCode, request::RequestContext,
};
use local_api::{Function, invoke};
use serde_json::{Value, json};

use crate::{
    common::{Backend, DelayingProxy, StoreOperations},
    round_trips::{assert_allowed, resource_of},
};

const ANN: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "violet lantern orbit";

/// What a test drives: the state over fresh stores of `backend`, its outbox and its clock;
/// over DynamoDB, the operations each request made on the wire, every one of which its
/// function's IAM policy in `template.yaml` must allow (moto does not check IAM, AWS does).
struct Accounts {
    state: AppState,
    stores: Stores,
    outbox: Outbox,
    clock: Clock,
    operations: Option<StoreOperations>,
}

async fn stores_of(backend: Backend) -> (Stores, Option<StoreOperations>) {
    match backend {
        Backend::Memory => (
            Stores::in_memory(
                Arc::new(InMemoryUserStore::demo()),
                Arc::new(InMemorySessionStore::default()),
            ),
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
            (
                auth_dynamodb::stores(client, users.table(), sessions.table()),
                Some(operations),
            )
        }
    }
}

/// With every per-address limit on (far above what a test sends, unless it sets its own), so
/// that the counters' writes are made, and checked against the policies, too.
const SETTINGS: [(&str, &str); 9] = [
    ("SIGNUP", "open"),
    ("APP_URL", "https://app.example/welcome"),
    ("ACCOUNT_MIN_ANSWER_TIME", "0"),
    ("LOGIN_IP_LIMIT", "1000/1h"),
    ("SIGNUP_IP_LIMIT", "1000/1h"),
    ("VERIFY_IP_LIMIT", "1000/1h"),
    ("RECOVER_IP_LIMIT", "1000/1h"),
    ("RESEND_IP_LIMIT", "1000/1h"),
    ("PASSWORD_IP_LIMIT", "1000/1h"),
];

fn state_over(
    stores: &Stores,
    mailer: Arc<dyn Mailer>,
    clock: &Clock,
    extra: &[(&str, &str)],
) -> AppState {
    // The first of a name wins: a test's own settings before the defaults.
    let mut overrides: Vec<(&str, &str)> = extra.to_vec();
    overrides.extend_from_slice(&SETTINGS);
    AppState::builder(&settings_with(&overrides), stores.clone())
        .mailer(mailer)
        .clock(clock.clone())
        .password_workers(2)
        .build()
        .unwrap()
}

impl Accounts {
    async fn new(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let (stores, operations) = stores_of(backend).await;
        let outbox = Outbox::new();
        // A manual clock at the real time: DynamoDB's records carry real ends.
        let clock = Clock::manual_at(Clock::System.now());
        Self {
            state: state_over(&stores, Arc::new(outbox.clone()), &clock, extra),
            stores,
            outbox,
            clock,
            operations,
        }
    }

    /// `function`'s answer to `request`; over DynamoDB, each operation it made is checked
    /// against its IAM policy.
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

    async fn call(&self, function: Function, body: Value) -> (StatusCode, Value) {
        self.call_with(function, body, &[], None).await
    }

    async fn call_with(
        &self,
        function: Function,
        body: Value,
        headers: &[(&str, &str)],
        source_ip: Option<&str>,
    ) -> (StatusCode, Value) {
        let response = self.respond(function, body, headers, source_ip).await;
        (response.status(), json_body(&response))
    }

    async fn respond(
        &self,
        function: Function,
        body: Value,
        headers: &[(&str, &str)],
        source_ip: Option<&str>,
    ) -> Response<Body> {
        let path = local_api::ROUTES
            .iter()
            .find(|(_, _, routed)| *routed == function)
            .map(|(_, path, _)| *path)
            .unwrap();
        let mut all_headers = vec![("content-type", "application/json")];
        all_headers.extend_from_slice(headers);
        let mut request = request("POST", path, &all_headers, Some(&body.to_string()));
        if let Some(ip) = source_ip {
            request = with_source_ip(request, ip);
        }
        self.invoke(function, request).await
    }

    async fn login(&self, password: &str) -> (StatusCode, Value) {
        self.call(
            Function::Login,
            json!({"username": ANN, "password": password}),
        )
        .await
    }

    async fn profile(&self, access: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {access}");
        let request = request("GET", "/profile", &[("authorization", &bearer)], None);
        let response = self.invoke(Function::Profile, request).await;
        (response.status(), json_body(&response))
    }

    async fn refresh(&self, refresh: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {refresh}");
        let request = request("POST", "/refresh", &[("authorization", &bearer)], None);
        let response = self.invoke(Function::Refresh, request).await;
        (response.status(), json_body(&response))
    }

    /// Ann, signed up and confirmed: the tokens her confirmation answered.
    async fn confirmed_ann(&self) -> Value {
        let (status, _) = self
            .call(
                Function::Signup,
                json!({"email": ANN, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let token = self.outbox.last_token_to(ANN);
        let (status, tokens) = self
            .call(
                Function::Verify,
                json!({"type": "signup", "token": token, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    /// Past the one-mail-a-minute of every address.
    fn a_minute_later(&self) {
        self.clock.advance(Duration::from_secs(61));
    }
}

fn with_source_ip(request: Request, ip: &str) -> Request {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(ip.to_owned());
    request.with_request_context(RequestContext::ApiGatewayV2(context))
}

fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

over_both_stores!(
    sign_up_confirm_and_log_in,
    a_known_address_signs_up_exactly_as_a_new_one,
    recovery_mails_a_known_address_once_and_the_reset_ends_every_session,
    a_password_change_needs_a_fresh_token_and_the_current_password_and_keeps_the_callers_session,
    tokens_of_one_purpose_or_user_do_nothing_for_another,
    one_source_address_over_its_limit_is_refused_and_others_are_not,
    a_mail_outage_loses_no_account,
    addresses_that_cannot_be_mailed_are_refused_with_a_reason,
    concurrent_confirmations_of_one_token_succeed_once,
);

/// The whole story: sign up, one mail, no login before the address is confirmed, confirm with
/// the mailed token (tokens, as a login's), the tokens work; the same token again is refused.
async fn sign_up_confirm_and_log_in(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    let (status, body) = accounts
        .call(
            Function::Signup,
            json!({"email": "  Ann@EXAMPLE.com ", "password": PASSWORD}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let mails = accounts.outbox.to(ANN);
    assert_eq!(
        mails.len(),
        1,
        "one confirmation, to the normalised address"
    );
    assert_eq!(mails[0].subject, "Confirm your email address");
    assert!(
        mails[0]
            .text
            .contains("https://app.example/welcome?type=signup&token=")
    );

    let (status, body) = accounts.login(PASSWORD).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "Email not confirmed"})
        )
    );
    // A wrong password of an unconfirmed account is a bad password, as any.
    let (status, _) = accounts.login("not the password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let token = accounts.outbox.last_token_to(ANN);
    // The confirmation takes the password signed up with: another leaves the token unspent.
    let (status, body) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": token, "password": "not the one"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["password"][0]
            .as_str()
            .unwrap()
            .starts_with("This is not the password"),
        "{body}"
    );
    let (status, tokens) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, profile) = accounts.profile(&field(&tokens, "access_token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["username"], ANN);
    assert_eq!(profile["email"], ANN);
    let (status, _) = accounts.refresh(&field(&tokens, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Token is invalid or has expired"})
        )
    );
    let (status, tokens) = accounts.login(PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

/// No enumeration: a sign-up of a confirmed address answers as a new one does and mails its
/// owner a notice, with no token and no change to the account.
async fn a_known_address_signs_up_exactly_as_a_new_one(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    accounts.confirmed_ann().await;
    accounts.a_minute_later();
    let known = accounts
        .call(
            Function::Signup,
            json!({"email": ANN, "password": "someone else's phrase"}),
        )
        .await;
    let new = accounts
        .call(
            Function::Signup,
            json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(known, new);
    assert_eq!(known, (StatusCode::OK, json!({})));
    let notice = accounts.outbox.to(ANN).pop().unwrap();
    assert_eq!(notice.subject, "Someone tried to sign up with your address");
    assert!(!notice.text.contains("token="));
    let (status, _) = accounts.login(PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the password stays the owner's");
    let (status, _) = accounts.login("someone else's phrase").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// `/recover`: nothing for an unknown address, one mail for a known one however often it is
/// asked within the minute; wrong reset tokens refused, the right one works once, and the
/// reset ends every session (the old refresh token is revoked, the old password fails).
async fn recovery_mails_a_known_address_once_and_the_reset_ends_every_session(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    let session = accounts.confirmed_ann().await;
    accounts.a_minute_later();
    let sent_before = accounts.outbox.sent().len();

    let answer = accounts
        .call(Function::Recover, json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(answer, (StatusCode::OK, json!({})));
    assert_eq!(
        accounts.outbox.sent().len(),
        sent_before,
        "no mail to an unknown address"
    );

    for _ in 0..6 {
        let answer = accounts
            .call(Function::Recover, json!({"email": "ANN@example.com"}))
            .await;
        assert_eq!(answer, (StatusCode::OK, json!({})));
    }
    let resets: Vec<_> = accounts
        .outbox
        .to(ANN)
        .into_iter()
        .filter(|mail| mail.subject == "Reset your password")
        .collect();
    assert_eq!(resets.len(), 1, "six requests in a minute, one mail");
    let token = accounts.outbox.last_token_to(ANN);

    let (status, body) = accounts
        .call(
            Function::Verify,
            json!({"type": "recovery", "token": token}),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({})),
        "the page may check the link first"
    );
    for _ in 0..5 {
        // Well-formed tokens, each as likely as any: guesses.
        let guess = auth_core::accounts::mail_token::MailToken::generate()
            .unwrap()
            .text;
        let (status, body) = accounts
            .call(
                Function::ResetPassword,
                json!({"token": guess, "new_password": NEW_PASSWORD}),
            )
            .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "Token is invalid or has expired"})
            )
        );
    }
    // A weak password is refused, and the link still works after.
    let (status, body) = accounts
        .call(
            Function::ResetPassword,
            json!({"token": token, "new_password": "password1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["new_password"][0]
            .as_str()
            .unwrap()
            .contains("easy to guess"),
        "{body}"
    );
    let answer = accounts
        .call(
            Function::ResetPassword,
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(answer, (StatusCode::OK, json!({})));
    accounts.clock.advance(Duration::from_secs(1));

    let (status, body) = accounts.refresh(&field(&session, "refresh_token")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has been revoked"})
        )
    );
    let (status, _) = accounts.profile(&field(&session, "access_token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = accounts.login(PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password fails");
    let (status, _) = accounts.login(NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accounts
        .call(
            Function::ResetPassword,
            json!({"token": token, "new_password": "another fine phrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a reset token works once");
}

/// `/password`: a token from a refresh is not fresh (401 `Fresh token required`); a wrong
/// current password changes nothing (401); the change ends the other sessions and keeps the
/// caller's.
async fn a_password_change_needs_a_fresh_token_and_the_current_password_and_keeps_the_callers_session(
    backend: Backend,
) {
    let accounts = Accounts::new(backend, &[]).await;
    let other = accounts.confirmed_ann().await;
    let (status, caller) = accounts.login(PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let change = |access: String, current: &str| {
        let bearer = format!("Bearer {access}");
        let body = json!({"current_password": current, "new_password": NEW_PASSWORD});
        let accounts = &accounts;
        async move {
            accounts
                .call_with(
                    Function::ChangePassword,
                    body,
                    &[("authorization", &bearer)],
                    None,
                )
                .await
        }
    };
    let (_, refreshed) = accounts.refresh(&field(&caller, "refresh_token")).await;
    let (status, body) = change(field(&refreshed, "access_token"), PASSWORD).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Fresh token required"})
        )
    );

    let (status, body) = change(field(&caller, "access_token"), "not my password").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Current password is incorrect"})
        )
    );
    let (status, _) = accounts.refresh(&field(&other, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "nothing changed");

    let (status, body) = change(field(&caller, "access_token"), PASSWORD).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    accounts.clock.advance(Duration::from_secs(1));
    let (status, body) = accounts.refresh(&field(&other, "refresh_token")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has been revoked"})
        )
    );
    let (status, _) = accounts.profile(&field(&other, "access_token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = accounts.profile(&field(&caller, "access_token")).await;
    assert_eq!(status, StatusCode::OK, "the caller's session stays");
    let (status, _) = accounts.refresh(&field(&caller, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accounts.login(PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = accounts.login(NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

/// A sign-up token does not reset a password, a reset token does not confirm an address, and
/// a newer mail's token ends the one before.
async fn tokens_of_one_purpose_or_user_do_nothing_for_another(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    accounts
        .call(
            Function::Signup,
            json!({"email": ANN, "password": PASSWORD}),
        )
        .await;
    let signup_token = accounts.outbox.last_token_to(ANN);
    let (status, _) = accounts
        .call(
            Function::ResetPassword,
            json!({"token": signup_token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    accounts.a_minute_later();
    let answer = accounts
        .call(Function::Resend, json!({"type": "signup", "email": ANN}))
        .await;
    assert_eq!(answer, (StatusCode::OK, json!({})));
    let newer = accounts.outbox.last_token_to(ANN);
    assert_ne!(newer, signup_token);
    let (status, _) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": signup_token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the older token died with the newer mail"
    );
    let (status, _) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": newer, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    accounts.a_minute_later();
    accounts
        .call(Function::Recover, json!({"email": ANN}))
        .await;
    let reset_token = accounts.outbox.last_token_to(ANN);
    let (status, _) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": reset_token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = accounts
        .call(
            Function::Verify,
            json!({"type": "magiclink", "token": reset_token}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"type": ["Must be one of: signup, recovery."]}})
        )
    );
    // A password change ends the reset link sent before it.
    let (_, session) = accounts.login(PASSWORD).await;
    let bearer = format!("Bearer {}", field(&session, "access_token"));
    let (status, _) = accounts
        .call_with(
            Function::ChangePassword,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accounts
        .call(
            Function::ResetPassword,
            json!({"token": reset_token, "new_password": "another fine phrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// N+1 requests from one address: the last is 429 with `Retry-After`; another address is not
/// affected; the next window counts anew.
async fn one_source_address_over_its_limit_is_refused_and_others_are_not(backend: Backend) {
    let accounts = Accounts::new(
        backend,
        &[("RECOVER_IP_LIMIT", "3/1h"), ("LOGIN_IP_LIMIT", "2/1m")],
    )
    .await;
    let recover = |ip: &'static str| {
        let accounts = &accounts;
        async move {
            accounts
                .respond(
                    Function::Recover,
                    json!({"email": "x@example.com"}),
                    &[],
                    Some(ip),
                )
                .await
        }
    };
    for _ in 0..3 {
        assert_eq!(recover("192.0.2.1").await.status(), StatusCode::OK);
    }
    let refused = recover("192.0.2.1").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(
        json_body(&refused),
        json!({"error": "Too many requests: try again later"})
    );
    assert_eq!(recover("198.51.100.7").await.status(), StatusCode::OK);

    accounts.confirmed_ann().await;
    let login = json!({"username": ANN, "password": PASSWORD});
    for _ in 0..2 {
        let (status, _) = accounts
            .call_with(Function::Login, login.clone(), &[], Some("192.0.2.9"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = accounts
        .call_with(Function::Login, login.clone(), &[], Some("192.0.2.9"))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    accounts.clock.advance(Duration::from_secs(60));
    let (status, _) = accounts
        .call_with(Function::Login, login, &[], Some("192.0.2.9"))
        .await;
    assert_eq!(status, StatusCode::OK, "a new window counts anew");
}

/// A sign-up whose mail could not be sent is told to retry (503, `Retry-After`); the account
/// it made is not lost: once the mail service is back, `/resend` mails it at once.
/// `/recover` answers 200 whatever happens to its mail.
async fn a_mail_outage_loses_no_account(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    let down = state_over(&accounts.stores, Arc::new(DownMailer), &accounts.clock, &[]);
    let signup = request(
        "POST",
        "/signup",
        &[("content-type", "application/json")],
        Some(&json!({"email": ANN, "password": PASSWORD}).to_string()),
    );
    let response = invoke(&down, Function::Signup, signup).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        json_body(&response),
        json!({"error": "Service unavailable"})
    );

    // Back up: no minute to wait, since the failed mail gave its slot back.
    let answer = accounts
        .call(Function::Resend, json!({"type": "signup", "email": ANN}))
        .await;
    assert_eq!(answer, (StatusCode::OK, json!({})));
    let token = accounts.outbox.last_token_to(ANN);
    let (status, _) = accounts
        .call(
            Function::Verify,
            json!({"type": "signup", "token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    accounts.a_minute_later();
    let recover = request(
        "POST",
        "/recover",
        &[("content-type", "application/json")],
        Some(&json!({"email": ANN}).to_string()),
    );
    let response = invoke(&down, Function::Recover, recover).await.unwrap();
    assert_eq!(
        (response.status(), json_body(&response)),
        (StatusCode::OK, json!({}))
    );
    let answer = accounts
        .call(Function::Recover, json!({"email": ANN}))
        .await;
    assert_eq!(answer, (StatusCode::OK, json!({})));
    assert_eq!(
        accounts.outbox.to(ANN).last().unwrap().subject,
        "Reset your password"
    );
}

/// Unicode, over-long, malformed addresses and over-long passwords: 400 with the field's
/// reason, never a 500, nothing made.
async fn addresses_that_cannot_be_mailed_are_refused_with_a_reason(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long = format!("ann@{}.com", "b".repeat(300));
    for (email, message) in [
        (
            "ännä@example.com",
            "Email address has characters outside ASCII",
        ),
        (
            "ann@bücher.example",
            "Email address has characters outside ASCII",
        ),
        (long_local.as_str(), "Not a valid email address."),
        (
            long.as_str(),
            "Email address is longer than 254 characters.",
        ),
        ("ann@example", "Not a valid email address."),
        ("ann\r\nbcc: eve@example.com", "Not a valid email address."),
    ] {
        for function in [Function::Signup, Function::Recover] {
            let body = match function {
                Function::Signup => json!({"email": email, "password": PASSWORD}),
                _ => json!({"email": email}),
            };
            let (status, body) = accounts.call(function, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{email:?}");
            assert!(
                body["error"]["email"][0]
                    .as_str()
                    .unwrap()
                    .starts_with(message),
                "{email:?}: {body}"
            );
        }
    }
    let (status, body) = accounts
        .call(
            Function::Signup,
            json!({"email": ANN, "password": "x".repeat(1025)}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"password": ["Longer than maximum length 1024."]}})
        )
    );
    let (status, body) = accounts.call(Function::Signup, json!({"email": ANN})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"password": ["Missing data for required field."]}})
        )
    );
    assert!(accounts.outbox.sent().is_empty());
}

/// Eight confirmations of one token at once: exactly one logs in.
async fn concurrent_confirmations_of_one_token_succeed_once(backend: Backend) {
    let accounts = Accounts::new(backend, &[]).await;
    accounts
        .call(
            Function::Signup,
            json!({"email": ANN, "password": PASSWORD}),
        )
        .await;
    let token = accounts.outbox.last_token_to(ANN);
    let attempts = (0..8).map(|_| {
        accounts.call(
            Function::Verify,
            json!({"type": "signup", "token": token, "password": PASSWORD}),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let successes = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(successes, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| matches!(*status, StatusCode::OK | StatusCode::BAD_REQUEST))
    );
}

/// What the routes log: the address masked, never a token, a password or the full address.
#[tokio::test]
async fn the_log_holds_no_token_password_or_full_address() {
    let (log, _guard) = auth_testkit::CapturedLog::install();
    let accounts = Accounts::new(Backend::Memory, &[]).await;
    let tokens = accounts.confirmed_ann().await;
    accounts.a_minute_later();
    accounts
        .call(Function::Recover, json!({"email": ANN}))
        .await;
    let reset = accounts.outbox.last_token_to(ANN);
    accounts
        .call(
            Function::ResetPassword,
            json!({"token": reset, "new_password": NEW_PASSWORD}),
        )
        .await;
    let signup_token = accounts.outbox.to(ANN)[0].text.clone();
    let contents = log.contents();
    assert!(contents.contains("a***@example.com"), "{contents}");
    for secret in [
        ANN,
        PASSWORD,
        NEW_PASSWORD,
        &reset,
        &field(&tokens, "access_token"),
    ] {
        assert!(
            !contents.contains(secret),
            "the log holds {secret:?}:\n{contents}"
        );
    }
    let confirmation = auth_testkit::mail::token_in(&signup_token).unwrap();
    assert!(!contents.contains(&confirmation));
}

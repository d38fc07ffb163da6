//! The authorizer answers each of API Gateway's three shapes as `/profile` would judge the
//! token: allowed with who is calling, or refused with nothing but the status, and the reason in
//! the log (never the token). A store outage refuses.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AppState, Stores,
    claims::{AuthMethods, TokenKind},
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    sessions::InMemorySessionStore,
    settings::{ALGORITHM_VAR, PRIVATE_KEY_VAR},
    store::StoreError,
    tokens::{SessionClaims, new_token_id},
    users::InMemoryUserStore,
};
use auth_testkit::{
    CapturedLog, IssueNow, bearer_request, demo_stores, json_body, request, settings_with,
    user_with_password,
};
use authorizer::{Authorizer, AuthorizerError, Decision, REQUIRE_MFA_VAR, REQUIRED_SCOPES_VAR};
use serde_json::{Value, json};

const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/reports";
/// What the policy covers: every method of the stage.
const STAGE_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*";
const LOGIN: &str = r#"{"username": "ada", "password": "correct horse"}"#;

struct Fixture {
    authorizer: Authorizer,
    users: Arc<InMemoryUserStore>,
}

fn fixture_with(required_scopes: Option<&str>) -> Fixture {
    match required_scopes {
        Some(scopes) => fixture_with_env(&[(REQUIRED_SCOPES_VAR, scopes)]),
        None => fixture_with_env(&[]),
    }
}

/// The fixture with the authorizer's own variables set as `env` says.
fn fixture_with_env(env: &[(&str, &str)]) -> Fixture {
    let mut ada = user_with_password("ada", "correct horse", json!({}));
    ada.scopes = vec!["reports:read".to_owned()];
    let users = Arc::new(InMemoryUserStore::new([
        ada,
        user_with_password("bob", "hunter22", json!({})),
    ]));
    let state = AppState::builder(
        &settings_with(&[]),
        Stores::separate(users.clone(), Arc::new(InMemorySessionStore::default())),
    )
    .build()
    .unwrap();
    let authorizer = Authorizer::new(Arc::new(state), None, |name| {
        env.iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap();
    Fixture { authorizer, users }
}

fn fixture() -> Fixture {
    fixture_with(None)
}

/// An access token for `user` in a session of its own, issued now.
fn access_token(fixture: &Fixture, user: &str) -> String {
    token_of(fixture, user, TokenKind::Access, "session-1")
}

fn token_of(fixture: &Fixture, user: &str, kind: TokenKind, session: &str) -> String {
    token_in(fixture, user, kind, session, None)
}

/// An access token for `user` of a session that signed in with `methods` (its `amr`; none when
/// None, as flask-jwt-extended's tokens and older ones have none).
fn access_token_after(fixture: &Fixture, user: &str, methods: Option<AuthMethods>) -> String {
    token_in(fixture, user, TokenKind::Access, "session-mfa", methods)
}

fn token_in(
    fixture: &Fixture,
    user: &str,
    kind: TokenKind,
    session: &str,
    methods: Option<AuthMethods>,
) -> String {
    let state = fixture.authorizer.state();
    let now = state.clock().unix_secs();
    state
        .tokens()
        .issue_at(
            kind,
            user,
            true,
            now,
            &new_token_id(),
            Some(SessionClaims {
                id: session,
                started_at: now,
                methods,
            }),
        )
        .unwrap()
}

/// The body of ada's login: her access and refresh tokens.
async fn log_in_as_ada(state: &AppState) -> Value {
    let headers = [("content-type", "application/json")];
    let response = login::handle(state, request("POST", "/login", &headers, Some(LOGIN)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json_body(&response)
}

fn http_api_event(authorization: Option<&str>) -> Value {
    let mut headers = json!({"host": "reports.example.com"});
    if let Some(value) = authorization {
        headers["authorization"] = json!(value);
    }
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/$default/GET/reports",
        "identitySource": authorization.map(|value| vec![value]),
        "routeKey": "GET /reports", "rawPath": "/reports", "rawQueryString": "",
        "headers": headers,
        "requestContext": {"apiId": "abc123", "domainName": "reports.example.com",
                           "http": {"method": "GET", "path": "/reports"},
                           "routeKey": "GET /reports", "stage": "$default"}
    })
}

fn rest_token_event(authorization: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN})
}

fn rest_request_event(authorization: Option<&str>) -> Value {
    let mut headers = json!({"Host": "abc123.execute-api.us-east-1.amazonaws.com"});
    if let Some(value) = authorization {
        headers["Authorization"] = json!(value);
    }
    json!({"type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/reports",
           "path": "/reports", "httpMethod": "GET", "headers": headers,
           "requestContext": {"stage": "prod", "apiId": "abc123"}})
}

/// The answers of the three shapes to the same `Authorization` value: the HTTP API's
/// `isAuthorized`, and each REST shape's policy effect, or "401" for its Unauthorized error.
async fn verdicts(fixture: &Fixture, authorization: &str) -> (bool, String, String) {
    let http = fixture
        .authorizer
        .handle(http_api_event(Some(authorization)))
        .await
        .unwrap();
    let effect = |answer: Result<Value, lambda_http::Error>| match answer {
        Ok(policy) => policy["policyDocument"]["Statement"][0]["Effect"]
            .as_str()
            .unwrap()
            .to_owned(),
        Err(error) => {
            assert_eq!(error.to_string(), "Unauthorized");
            "401".to_owned()
        }
    };
    let token = effect(
        fixture
            .authorizer
            .handle(rest_token_event(authorization))
            .await,
    );
    let request = effect(
        fixture
            .authorizer
            .handle(rest_request_event(Some(authorization)))
            .await,
    );
    (http["isAuthorized"].as_bool().unwrap(), token, request)
}

fn denied() -> (bool, String, String) {
    (false, "Deny".to_owned(), "Deny".to_owned())
}

fn allowed() -> (bool, String, String) {
    (true, "Allow".to_owned(), "Allow".to_owned())
}

#[tokio::test]
async fn a_good_access_token_is_allowed_with_who_is_calling_in_every_shape() {
    let fixture = fixture();
    let token = access_token(&fixture, "ada");
    let bearer = format!("Bearer {token}");
    let claims = fixture
        .authorizer
        .state()
        .tokens()
        .verify(&token, TokenKind::Access)
        .unwrap();

    let http = fixture
        .authorizer
        .handle(http_api_event(Some(&bearer)))
        .await
        .unwrap();
    assert_eq!(http["isAuthorized"], true);
    let context = json!({"sub": "ada", "jti": claims.jti, "sid": "session-1", "fresh": true});
    assert_eq!(http["context"], context);

    for event in [rest_token_event(&bearer), rest_request_event(Some(&bearer))] {
        let answer = fixture.authorizer.handle(event).await.unwrap();
        assert_eq!(answer["principalId"], "ada");
        assert_eq!(
            answer["policyDocument"],
            json!({"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_ARN}]})
        );
        // REST allows strings, numbers and booleans only in the context.
        for value in answer["context"].as_object().unwrap().values() {
            assert!(value.is_string() || value.is_boolean(), "{value}");
        }
        assert_eq!(answer["context"], context);
    }
}

#[test]
fn the_policy_covers_the_stage_of_the_method() {
    assert_eq!(authorizer::stage_arn(METHOD_ARN), STAGE_ARN);
    let nested = "arn:aws:execute-api:eu-west-1:123456789012:api/v1/POST/a/b/c";
    assert_eq!(
        authorizer::stage_arn(nested),
        "arn:aws:execute-api:eu-west-1:123456789012:api/v1/*/*"
    );
    for odd in [
        "not-an-arn",
        "arn:aws:execute-api:r:a:api",
        "arn:aws:execute-api:r:a:/x/y",
    ] {
        assert_eq!(authorizer::stage_arn(odd), odd);
    }
}

#[tokio::test]
async fn a_missing_or_unreadable_header_is_a_401_on_rest_and_unauthorized_on_http_apis() {
    let fixture = fixture();
    for authorization in ["", "Basic YWRhOmNvcnJlY3QgaG9yc2U=", "Bearer"] {
        assert_eq!(
            verdicts(&fixture, authorization).await,
            (false, "401".to_owned(), "401".to_owned()),
            "{authorization:?}"
        );
    }
    let http = fixture
        .authorizer
        .handle(http_api_event(None))
        .await
        .unwrap();
    assert_eq!(http, json!({"isAuthorized": false}));
    let rest = fixture.authorizer.handle(rest_request_event(None)).await;
    assert_eq!(rest.unwrap_err().to_string(), "Unauthorized");
}

#[tokio::test]
async fn every_token_profile_refuses_is_refused() {
    let fixture = fixture();
    let state = fixture.authorizer.state();
    let now = state.clock().unix_secs();

    let expired = state
        .tokens()
        .issue_at(TokenKind::Access, "ada", true, now - 3600, "old", None)
        .unwrap();
    let refresh = token_of(&fixture, "ada", TokenKind::Refresh, "session-2");
    let unknown_user = access_token(&fixture, "ghost");
    let forged = format!("{}x", access_token(&fixture, "ada"));
    let revoked = access_token(&fixture, "ada");
    let claims = state.tokens().verify(&revoked, TokenKind::Access).unwrap();
    state
        .sessions()
        .revoke_token(claims.jti.as_deref().unwrap(), claims.expires_at, now)
        .await
        .unwrap();
    let session_killed = token_of(&fixture, "ada", TokenKind::Access, "session-3");
    state
        .sessions()
        .revoke_session("session-3", now + 3600, now)
        .await
        .unwrap();
    for (name, token) in [
        ("expired", &expired),
        ("refresh token", &refresh),
        ("unknown user", &unknown_user),
        ("bad signature", &forged),
        ("logged out", &revoked),
        ("session killed", &session_killed),
    ] {
        assert_eq!(
            verdicts(&fixture, &format!("Bearer {token}")).await,
            denied(),
            "{name}"
        );
    }

    let bob = access_token(&fixture, "bob");
    fixture.users.update("bob", |user| user.disabled = true);
    assert_eq!(verdicts(&fixture, &format!("Bearer {bob}")).await, denied());

    // A password change since the token was issued ends it.
    let ada = access_token(&fixture, "ada");
    fixture
        .users
        .update("ada", |user| user.tokens_valid_after = Some(now + 1));
    assert_eq!(verdicts(&fixture, &format!("Bearer {ada}")).await, denied());
}

#[tokio::test]
async fn a_logout_is_seen_on_the_next_call() {
    let fixture = fixture();
    let state = fixture.authorizer.state();
    let tokens = log_in_as_ada(state).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let bearer = format!("Bearer {access}");
    assert!(verdicts(&fixture, &bearer).await.0);

    // The client logs out with its refresh token: the whole session ends, its access token too.
    let logout = logout::handle(state, bearer_request("POST", "/logout", refresh))
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert_eq!(verdicts(&fixture, &bearer).await, denied());
}

#[tokio::test]
async fn required_scopes_refuse_a_token_without_them() {
    let fixture = fixture_with(Some("reports:read"));
    let ada = access_token(&fixture, "ada");
    let bob = access_token(&fixture, "bob");
    // Tokens carry scopes when login or refresh issue them; here, a login.
    let scoped = log_in_as_ada(fixture.authorizer.state()).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = fixture
        .authorizer
        .handle(http_api_event(Some(&format!("Bearer {scoped}"))))
        .await
        .unwrap();
    assert_eq!(answer["isAuthorized"], true);
    assert_eq!(answer["context"]["scope"], "reports:read");
    // issue_at gives no scope, whoever the user.
    for token in [ada, bob] {
        assert_eq!(
            verdicts(&fixture, &format!("Bearer {token}")).await,
            denied()
        );
    }
}

/// A lookup whose store is down.
struct DownLookup;

#[async_trait]
impl TokenLookup for DownLookup {
    async fn look_up(&self, _: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
}

#[tokio::test]
async fn a_store_outage_refuses_and_logs_an_error_without_the_token() {
    let mut stores = demo_stores();
    stores.lookup = Arc::new(DownLookup);
    let state = AppState::builder(&settings_with(&[]), stores)
        .build()
        .unwrap();
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    let authorizer = Authorizer::new(Arc::new(state), None, |_| None).unwrap();

    let (captured, _guard) = CapturedLog::install();

    let answer = authorizer
        .handle(http_api_event(Some(&format!("Bearer {token}"))))
        .await
        .unwrap();
    assert_eq!(answer, json!({"isAuthorized": false}));
    let logs = captured.contents();
    assert!(
        logs.lines()
            .any(|line| line.contains("ERROR") && line.contains("store unavailable")),
        "{logs}"
    );
    assert!(!logs.contains(&token), "the token reached the log");
}

#[tokio::test]
async fn an_event_that_is_no_authorizer_event_is_an_invocation_error() {
    let fixture = fixture();
    for event in [
        json!({}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer x"}),
        json!({"type": "OTHER", "methodArn": METHOD_ARN}),
    ] {
        assert!(fixture.authorizer.handle(event).await.is_err());
    }
}

#[test]
fn an_asymmetric_deployment_needs_its_issuer_named_and_scopes_must_be_scope_tokens() {
    let private = include_str!("../../../../interop/keys/eddsa-private.pem");
    let state = AppState::builder(
        &settings_with(&[(ALGORITHM_VAR, "EdDSA"), (PRIVATE_KEY_VAR, private)]),
        Stores::separate(
            Arc::new(InMemoryUserStore::demo()),
            Arc::new(InMemorySessionStore::default()),
        ),
    )
    .build()
    .unwrap();
    let error = Authorizer::new(Arc::new(state), None, |_| None)
        .err()
        .unwrap();
    assert!(matches!(error, AuthorizerError::NoIssuer(_)));
    assert!(error.to_string().contains("JWT_ISSUER"));

    let state = AppState::builder(
        &settings_with(&[]),
        Stores::separate(
            Arc::new(InMemoryUserStore::demo()),
            Arc::new(InMemorySessionStore::default()),
        ),
    )
    .build()
    .unwrap();
    let error = Authorizer::new(Arc::new(state), None, |name| {
        (name == REQUIRED_SCOPES_VAR).then(|| "read \"all\"".to_owned())
    })
    .err()
    .unwrap();
    assert!(error.to_string().contains(REQUIRED_SCOPES_VAR), "{error}");
}

/// A refusal's reason, which goes to the log (never the token or the username), says what
/// `/profile` would have said: an unknown user, a store that did not answer, a revoked token.
#[tokio::test]
async fn a_refusal_says_why_in_words_an_operator_reads() {
    let fixture = fixture();
    let reason = |decision: Decision| match decision {
        Decision::Deny(reason) => reason,
        other => panic!("not a denial: {other:?}"),
    };
    let unknown = access_token(&fixture, "ghost");
    let decision = fixture
        .authorizer
        .decide(Some(&format!("Bearer {unknown}")))
        .await;
    assert_eq!(reason(decision), "the token's user does not exist");

    let revoked = token_of(&fixture, "ada", TokenKind::Access, "session-9");
    let state = fixture.authorizer.state();
    let now = state.clock().unix_secs();
    state
        .sessions()
        .revoke_session("session-9", now + 3600, now)
        .await
        .unwrap();
    let decision = fixture
        .authorizer
        .decide(Some(&format!("Bearer {revoked}")))
        .await;
    assert_eq!(reason(decision), "revoked token");

    let mut stores = demo_stores();
    stores.lookup = Arc::new(DownLookup);
    let down = AppState::builder(&settings_with(&[]), stores)
        .build()
        .unwrap();
    let token = down
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    let authorizer = Authorizer::new(Arc::new(down), None, |_| None).unwrap();
    let decision = authorizer.decide(Some(&format!("Bearer {token}"))).await;
    assert_eq!(
        reason(decision),
        "the store did not answer: store unavailable: connection refused"
    );
}

#[tokio::test]
async fn required_mfa_refuses_a_token_whose_session_passed_no_second_factor_in_every_shape() {
    // CloudFormation parameters are strings: the switch reads as the service's own do.
    for switch in ["true", " TRUE "] {
        let fixture = fixture_with_env(&[(REQUIRE_MFA_VAR, switch)]);
        for (name, methods, verdict) in [
            ("password only", Some(AuthMethods::Password), denied()),
            ("no amr", None, denied()),
            (
                "password and TOTP",
                Some(AuthMethods::PasswordAndOtp),
                allowed(),
            ),
            (
                "password and recovery code",
                Some(AuthMethods::PasswordAndRecoveryCode),
                allowed(),
            ),
        ] {
            let token = access_token_after(&fixture, "ada", methods);
            assert_eq!(
                verdicts(&fixture, &format!("Bearer {token}")).await,
                verdict,
                "{name}, {switch:?}"
            );
        }
        // A real login of a user without a factor: `amr` is ["pwd"].
        let login = log_in_as_ada(fixture.authorizer.state()).await;
        let access = login["access_token"].as_str().unwrap();
        let claims = fixture
            .authorizer
            .state()
            .tokens()
            .verify(access, TokenKind::Access)
            .unwrap();
        assert_eq!(claims.amr, Some(vec!["pwd".to_owned()]));
        assert_eq!(
            verdicts(&fixture, &format!("Bearer {access}")).await,
            denied(),
            "{switch:?}"
        );
    }
}

#[tokio::test]
async fn a_second_factor_does_not_outweigh_the_other_checks() {
    let fixture = fixture_with_env(&[
        (REQUIRE_MFA_VAR, "true"),
        (REQUIRED_SCOPES_VAR, "reports:read"),
    ]);
    // issue_at gives no scope: the second factor alone does not let it in.
    let unscoped = access_token_after(&fixture, "ada", Some(AuthMethods::PasswordAndOtp));
    assert_eq!(
        verdicts(&fixture, &format!("Bearer {unscoped}")).await,
        denied()
    );

    let fixture = fixture_with_env(&[(REQUIRE_MFA_VAR, "true")]);
    let bob = access_token_after(&fixture, "bob", Some(AuthMethods::PasswordAndOtp));
    fixture.users.update("bob", |user| user.disabled = true);
    assert_eq!(verdicts(&fixture, &format!("Bearer {bob}")).await, denied());
}

#[tokio::test]
async fn without_required_mfa_a_token_without_a_second_factor_is_allowed() {
    // Empty is unset: CloudFormation's empty parameter.
    for fixture in [
        fixture(),
        fixture_with_env(&[(REQUIRE_MFA_VAR, "false")]),
        fixture_with_env(&[(REQUIRE_MFA_VAR, "")]),
    ] {
        for methods in [Some(AuthMethods::Password), None] {
            let token = access_token_after(&fixture, "ada", methods);
            assert_eq!(
                verdicts(&fixture, &format!("Bearer {token}")).await,
                allowed(),
                "{methods:?}"
            );
        }
    }
}

/// The reason goes to the log as the scopes' does, never the token.
#[tokio::test]
async fn a_refusal_for_want_of_a_second_factor_says_so_in_the_log_without_the_token() {
    let fixture = fixture_with_env(&[(REQUIRE_MFA_VAR, "true")]);
    let reason = |decision: Decision| match decision {
        Decision::Deny(reason) => reason,
        other => panic!("not a denial: {other:?}"),
    };
    let password = access_token_after(&fixture, "ada", Some(AuthMethods::Password));
    let decision = fixture
        .authorizer
        .decide(Some(&format!("Bearer {password}")))
        .await;
    assert_eq!(
        reason(decision),
        "the token's session passed no second factor"
    );
    let bare = access_token_after(&fixture, "ada", None);
    let decision = fixture
        .authorizer
        .decide(Some(&format!("Bearer {bare}")))
        .await;
    assert_eq!(
        reason(decision),
        "the token has no amr: its second factor is unknown"
    );

    let (captured, _guard) = CapturedLog::install();
    let answer = fixture
        .authorizer
        .handle(http_api_event(Some(&format!("Bearer {password}"))))
        .await
        .unwrap();
    assert_eq!(answer, json!({"isAuthorized": false}));
    let logs = captured.contents();
    assert!(
        logs.lines().any(|line| line.contains("refused")
            && line.contains("the token's session passed no second factor")),
        "{logs}"
    );
    assert!(!logs.contains(&password), "the token reached the log");
}

#[test]
fn a_require_mfa_that_is_not_a_switch_stops_the_start_naming_the_variable() {
    for bad in ["yes please", "1", " "] {
        let state = AppState::builder(
            &settings_with(&[]),
            Stores::separate(
                Arc::new(InMemoryUserStore::demo()),
                Arc::new(InMemorySessionStore::default()),
            ),
        )
        .build()
        .unwrap();
        let error = Authorizer::new(Arc::new(state), None, |name| {
            (name == REQUIRE_MFA_VAR).then(|| bad.to_owned())
        })
        .err()
        .unwrap();
        assert!(matches!(error, AuthorizerError::BadSwitch(_)), "{error}");
        let message = error.to_string();
        assert!(message.contains(REQUIRE_MFA_VAR), "{message}");
        assert!(message.contains("`true` or `false`"), "{message}");
    }
}

//! The second factor's test harness, shared by `mfa` (a person's and an attacker's scenarios)
//! and `hostile_mfa` (the hostile review's): the service, each function with a state of its
//! own over the same stores and clock, stores a test can make fail, and an authenticator app
//! whose codes are pyotp's, checked against ours. Over DynamoDB every operation a function
//! makes is checked against its IAM policy in `template.yaml`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use auth_admin::UserAdmin;
use auth_core::{
    AppState, Function, Stores,
    activity::ActivityEntry,
    clock::Clock,
    metrics::{Event, MetricSink, Metrics},
    mfa::{Challenge, FailureCount, MfaChallenges, MfaStore, Proof},
    sessions::{InMemorySessionStore, MAX_PAGE_SIZE, SessionInfo, SessionQuery},
    store::StoreError,
    users::{InMemoryUserStore, MfaFields},
};
use auth_dynamodb::DynamoUserStore;
use auth_mfa::{
    Authenticator,
    authenticator::{STEP_SECS, step_at},
};
use auth_testkit::{
    fresh_dynamodb_activity, fresh_dynamodb_sessions, fresh_dynamodb_store, mail::Outbox, request,
    settings_with,
};
use lambda_http::{
    Body, RequestExt, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext, http::StatusCode,
    request::RequestContext,
};
use local_api::invoke;
use serde_json::{Value, json};

use crate::{
    common::{Backend, DelayingProxy, StoreOperations},
    round_trips::{assert_allowed, resource_of},
};

pub(crate) const ANN: &str = "ann@example.com";
pub(crate) const BOB: &str = "bob@example.com";
pub(crate) const PASSWORD: &str = "correct horse battery";
pub(crate) const NEW_PASSWORD: &str = "violet lantern orbit";
pub(crate) const HOME: &str = "198.51.100.7";
pub(crate) const ELSEWHERE: &str = "203.0.113.99";
/// A key of the tests' own: the table's sealed secrets open with it alone.
const MFA_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
pub(crate) const INVALID_TOKEN: &str = "MFA token is invalid or has expired";
pub(crate) const WRONG_CODE: &str = "Invalid code";
pub(crate) const LOCKED: &str = "Too many wrong codes: try again later";

/// Every function a scenario calls, each with a state of its own.
const FUNCTIONS: [Function; 10] = [
    Function::Login,
    Function::Refresh,
    Function::Profile,
    Function::Signup,
    Function::Verify,
    Function::Recover,
    Function::ChangePassword,
    Function::ResetPassword,
    Function::LoginMfa,
    Function::Mfa,
];

/// The security events the functions counted, as `(function, event)`.
#[derive(Debug, Default)]
struct Events(Mutex<Vec<(Function, Event)>>);

impl MetricSink for Events {
    fn write_line(&self, function: Function, event: Event, _line: &str) {
        self.0.lock().unwrap().push((function, event));
    }
}

/// The store operations a test has made fail (by their trait method's name).
#[derive(Debug, Default)]
pub(crate) struct Faults(Mutex<HashSet<&'static str>>);

impl Faults {
    pub(crate) fn fail(&self, operation: &'static str) {
        self.0.lock().unwrap().insert(operation);
    }

    pub(crate) fn heal(&self) {
        self.0.lock().unwrap().clear();
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        match self.0.lock().unwrap().contains(operation) {
            true => Err(StoreError::unavailable(format!(
                "the test made {operation} fail"
            ))),
            false => Ok(()),
        }
    }
}

/// The challenges' store, whose operations fail while the test says so.
struct FlakyChallenges {
    inner: Arc<dyn MfaChallenges>,
    faults: Arc<Faults>,
}

#[async_trait]
impl MfaChallenges for FlakyChallenges {
    async fn put_challenge(
        &self,
        token_hash: &str,
        challenge: &Challenge,
    ) -> Result<(), StoreError> {
        self.faults.check("put_challenge")?;
        self.inner.put_challenge(token_hash, challenge).await
    }

    async fn find_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Challenge>, StoreError> {
        self.faults.check("find_challenge")?;
        self.inner.find_challenge(token_hash, now).await
    }

    async fn count_failure(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<FailureCount, StoreError> {
        self.faults.check("count_failure")?;
        self.inner
            .count_failure(token_hash, now, max_failures)
            .await
    }

    async fn take_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<bool, StoreError> {
        self.faults.check("take_challenge")?;
        self.inner
            .take_challenge(token_hash, now, max_failures)
            .await
    }
}

/// The factors' store, whose operations fail while the test says so.
struct FlakyFactors {
    inner: Arc<dyn MfaStore>,
    faults: Arc<Faults>,
}

#[async_trait]
impl MfaStore for FlakyFactors {
    async fn begin_enrolment(
        &self,
        username: &str,
        sealed_secret: &str,
    ) -> Result<bool, StoreError> {
        self.faults.check("begin_enrolment")?;
        self.inner.begin_enrolment(username, sealed_secret).await
    }

    async fn confirm_enrolment(
        &self,
        confirmation: &auth_core::mfa::Confirmation<'_>,
    ) -> Result<bool, StoreError> {
        self.faults.check("confirm_enrolment")?;
        self.inner.confirm_enrolment(confirmation).await
    }

    async fn spend(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        self.faults.check("spend")?;
        self.inner.spend(username, sealed_secret, proof).await
    }

    async fn replace_recovery_codes(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
        recovery_codes: &[String],
    ) -> Result<bool, StoreError> {
        self.faults.check("replace_recovery_codes")?;
        self.inner
            .replace_recovery_codes(username, sealed_secret, proof, recovery_codes)
            .await
    }

    async fn remove_factor(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        self.faults.check("remove_factor")?;
        self.inner
            .remove_factor(username, sealed_secret, proof)
            .await
    }
}

/// The users' store as an operator acts on it (the `users` command).
enum Operator {
    Memory(Arc<InMemoryUserStore>),
    DynamoDb(DynamoUserStore),
}

/// What an answer was: its status, its body (always JSON), its Retry-After.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<String>,
    pub(crate) cache_control: Option<String>,
    /// Each `Set-Cookie` header, as sent.
    pub(crate) set_cookies: Vec<String>,
}

impl Answer {
    /// The value of the cookie `name` this answer set.
    pub(crate) fn cookie(&self, name: &str) -> String {
        self.set_cookies
            .iter()
            .find_map(|header| {
                let pair = header.split(';').next()?;
                let (key, value) = pair.split_once('=')?;
                (key.trim() == name).then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set_cookies))
    }

    /// The recovery codes this answer gave.
    pub(crate) fn recovery_codes(&self) -> Vec<String> {
        self.body["recovery_codes"]
            .as_array()
            .unwrap_or_else(|| panic!("no recovery codes in {self:?}"))
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) fn is(&self, status: StatusCode, error: &str) -> bool {
        self.status == status && self.body == json!({"error": error})
    }
}

/// A user with a factor on: an app with its secret, its recovery codes, and the tokens of
/// the session that enrolled it.
pub(crate) struct Enrolled {
    pub(crate) app: App,
    pub(crate) codes: Vec<String>,
    pub(crate) access: String,
    pub(crate) refresh: String,
}

/// The service as clients reach it. Each function answers from a state of its own (its own
/// metrics, as each Lambda has), all over the same stores and clock. Over DynamoDB each
/// function reaches the tables through a proxy of its own (as each Lambda has its own client
/// and role), and every operation it makes is checked against its IAM policy in
/// `template.yaml`: moto does not check IAM, AWS does.
pub(crate) struct Service {
    states: HashMap<Function, AppState>,
    /// Over DynamoDB, the operations each function made since its last answer.
    operations: HashMap<Function, StoreOperations>,
    /// The operations each function's policy was found to allow: a policy does not change
    /// within a test, and reading `template.yaml` again at every answer slows the tests.
    allowed: Mutex<HashSet<(Function, String)>>,
    pub(crate) outbox: Outbox,
    pub(crate) clock: Clock,
    operator: Operator,
    pub(crate) faults: Arc<Faults>,
    events: Arc<Events>,
}

impl Service {
    pub(crate) async fn new(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let faults = Arc::new(Faults::default());
        // The challenges' and the factors' stores fail while the test says so.
        let flaky = |mut stores: Stores| {
            stores.challenges = Some(Arc::new(FlakyChallenges {
                inner: stores.challenges.take().unwrap(),
                faults: faults.clone(),
            }));
            stores.factors = Some(Arc::new(FlakyFactors {
                inner: stores.factors.take().unwrap(),
                faults: faults.clone(),
            }));
            stores
        };
        let mut stores_of = HashMap::new();
        let mut operations = HashMap::new();
        let operator = match backend {
            Backend::Memory => {
                let users = Arc::new(InMemoryUserStore::demo());
                let stores = flaky(Stores::in_memory(
                    users.clone(),
                    Arc::new(InMemorySessionStore::default()),
                ));
                for function in FUNCTIONS {
                    stores_of.insert(function, stores.clone());
                }
                Operator::Memory(users)
            }
            Backend::DynamoDb => {
                let users = fresh_dynamodb_store().await;
                let sessions = fresh_dynamodb_sessions().await;
                let activity = fresh_dynamodb_activity().await;
                for function in FUNCTIONS {
                    let recorded = StoreOperations::default();
                    let url = DelayingProxy::start(
                        &auth_testkit::dynamodb_endpoint(),
                        Duration::ZERO,
                        recorded.clone(),
                    )
                    .await;
                    let client = auth_dynamodb::client::client_at(&url).await;
                    let stores =
                        auth_dynamodb::stores(client.clone(), users.table(), sessions.table())
                            .with_activity(auth_dynamodb::activity_log(client, activity.table()));
                    stores_of.insert(function, flaky(stores));
                    operations.insert(function, recorded);
                }
                Operator::DynamoDb(users)
            }
        };
        let outbox = Outbox::new();
        // At the real time (DynamoDB's records carry real ends); TOTP steps move when the
        // test says.
        let clock = Clock::manual_at(Clock::System.now());
        let mut overrides = vec![
            ("SIGNUP", "open"),
            ("APP_URL", "https://app.example/welcome"),
            ("ACCOUNT_MIN_ANSWER_TIME", "0"),
            ("MFA_ENCRYPTION_KEY", MFA_KEY),
            // On, far above what a test sends: the counters' writes are checked too.
            ("LOGIN_IP_LIMIT", "1000/1h"),
            ("MFA_IP_LIMIT", "1000/1h"),
        ];
        overrides.extend_from_slice(extra);
        let settings = settings_with(&overrides);
        let events = Arc::new(Events::default());
        let states = stores_of
            .into_iter()
            .map(|(function, stores)| {
                let state = AppState::builder(&settings, stores)
                    .mailer(Arc::new(outbox.clone()))
                    .clock(clock.clone())
                    .password_workers(2)
                    .metrics(Metrics::to(function, events.clone()))
                    .build()
                    .unwrap();
                (function, state)
            })
            .collect();
        Self {
            states,
            operations,
            allowed: Mutex::default(),
            outbox,
            clock,
            operator,
            faults,
            events,
        }
    }

    /// `method path` of `function` with `body` as it is, from `source_ip`, with `bearer`.
    pub(crate) async fn raw(
        &self,
        function: Function,
        method: &str,
        path: &str,
        body: Option<String>,
        bearer: Option<&str>,
        source_ip: &str,
    ) -> Answer {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        self.send(function, method, path, &headers, body, source_ip)
            .await
    }

    /// `method path` of `function` with exactly `headers` and `body`, from `source_ip`.
    pub(crate) async fn send(
        &self,
        function: Function,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
        source_ip: &str,
    ) -> Answer {
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some(source_ip.to_owned());
        context.route_key = Some(format!("{method} {path}"));
        let request = request(method, path, headers, body.as_deref())
            .with_request_context(RequestContext::ApiGatewayV2(context));
        let response = invoke(&self.states[&function], function, request)
            .await
            .unwrap();
        if let Some(operations) = self.operations.get(&function) {
            let mut allowed = self.allowed.lock().unwrap();
            let unchecked: Vec<String> = operations
                .take()
                .into_iter()
                .filter(|operation| !allowed.contains(&(function, operation.clone())))
                .collect();
            if !unchecked.is_empty() {
                assert_allowed(resource_of(function), &unchecked);
                allowed.extend(unchecked.into_iter().map(|operation| (function, operation)));
            }
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        let text = match response.body() {
            Body::Text(text) => text.clone(),
            Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        let body = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!(
                "{method} {path} answered {} with a body that is not JSON: {text:?}",
                response.status()
            )
        });
        Answer {
            status: response.status(),
            body,
            retry_after: header("retry-after"),
            cache_control: header("cache-control"),
            set_cookies: response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect(),
        }
    }

    pub(crate) async fn call(
        &self,
        function: Function,
        method: &str,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> Answer {
        self.raw(
            function,
            method,
            path,
            body.map(|body| body.to_string()),
            bearer,
            HOME,
        )
        .await
    }

    pub(crate) async fn login(&self, username: &str, password: &str) -> Answer {
        self.login_from(username, password, HOME).await
    }

    /// A password login of `username` from `source_ip`.
    pub(crate) async fn login_from(
        &self,
        username: &str,
        password: &str,
        source_ip: &str,
    ) -> Answer {
        self.raw(
            Function::Login,
            "POST",
            "/login",
            Some(json!({"username": username, "password": password}).to_string()),
            None,
            source_ip,
        )
        .await
    }

    /// A password login of `username`, whose factor is on: its `mfa_token`.
    pub(crate) async fn mfa_token(&self, username: &str) -> String {
        let answer = self.login(username, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
        assert_eq!(answer.body["error"], "mfa_required");
        assert!(
            answer.body.get("access_token").is_none() && answer.body.get("refresh_token").is_none()
        );
        answer.body["mfa_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn second_step(&self, body: Value) -> Answer {
        self.second_step_from(body, HOME).await
    }

    /// The second step with `body`, from `source_ip`.
    pub(crate) async fn second_step_from(&self, body: Value, source_ip: &str) -> Answer {
        let answer = self
            .raw(
                Function::LoginMfa,
                "POST",
                "/login/mfa",
                Some(body.to_string()),
                None,
                source_ip,
            )
            .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.retry_after.is_some(), "{answer:?}");
        }
        answer
    }

    pub(crate) async fn with_code(&self, mfa_token: &str, code: &str) -> Answer {
        self.second_step(json!({"mfa_token": mfa_token, "code": code}))
            .await
    }

    pub(crate) async fn with_recovery_code(&self, mfa_token: &str, code: &str) -> Answer {
        self.second_step(json!({"mfa_token": mfa_token, "recovery_code": code}))
            .await
    }

    /// `method path`, a route of the factor's own, with the code `app` shows now and `access`.
    pub(crate) async fn factor_with_code(
        &self,
        method: &str,
        path: &str,
        app: &App,
        access: &str,
    ) -> Answer {
        self.factor(method, path, Some(json!({"code": self.code(app)})), access)
            .await
    }

    /// Confirms the enrolment pending with `access` with the code `app` shows now.
    pub(crate) async fn confirm(&self, app: &App, access: &str) -> Answer {
        self.confirm_with(&self.code(app), access).await
    }

    /// Confirms the enrolment pending with `access` with `code`.
    pub(crate) async fn confirm_with(&self, code: &str, access: &str) -> Answer {
        self.factor(
            "POST",
            "/mfa/totp/confirm",
            Some(json!({"code": code})),
            access,
        )
        .await
    }

    /// A new password login of `username`, then its second step with the code `app` shows now.
    pub(crate) async fn log_in_with(&self, username: &str, app: &App) -> Answer {
        let mfa_token = self.mfa_token(username).await;
        self.with_code(&mfa_token, &self.code(app)).await
    }

    /// A new password login of `username`, then its second step with `code`.
    pub(crate) async fn log_in_with_code(&self, username: &str, code: &str) -> Answer {
        let mfa_token = self.mfa_token(username).await;
        self.with_code(&mfa_token, code).await
    }

    /// A route of the factor's own, with `access`.
    pub(crate) async fn factor(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        access: &str,
    ) -> Answer {
        let answer = self
            .call(Function::Mfa, method, path, body, Some(access))
            .await;
        assert_eq!(
            answer.cache_control.as_deref(),
            Some("no-store"),
            "{answer:?}"
        );
        answer
    }

    pub(crate) async fn refresh(&self, refresh: &str) -> Answer {
        self.call(Function::Refresh, "POST", "/refresh", None, Some(refresh))
            .await
    }

    pub(crate) async fn profile(&self, access: &str) -> Answer {
        self.call(Function::Profile, "GET", "/profile", None, Some(access))
            .await
    }

    /// `username`, signed up and confirmed: the confirmation's tokens (fresh, as a login's).
    pub(crate) async fn confirmed(&self, username: &str) -> (String, String) {
        let answer = self.verified(username).await;
        (
            field(&answer.body, "access_token"),
            field(&answer.body, "refresh_token"),
        )
    }

    /// `username`, signed up and confirmed: the confirmation's answer (its tokens in its body,
    /// or in its cookies in cookie mode).
    pub(crate) async fn verified(&self, username: &str) -> Answer {
        let answer = self
            .call(
                Function::Signup,
                "POST",
                "/signup",
                Some(json!({"email": username, "password": PASSWORD})),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let token = self.outbox.last_token_to(username);
        let answer = self
            .call(
                Function::Verify,
                "POST",
                "/verify",
                Some(json!({"type": "signup", "token": token, "password": PASSWORD})),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer
    }

    /// Begins an enrolment with `access`: the app of its secret.
    pub(crate) async fn begin(&self, access: &str) -> (App, String) {
        let answer = self.factor("POST", "/mfa/totp", None, access).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let secret = field(&answer.body, "secret");
        (App::new(&secret), secret)
    }

    /// `username` with a factor on.
    pub(crate) async fn enrolled(&self, username: &str) -> Enrolled {
        let (access, refresh) = self.confirmed(username).await;
        let (app, _) = self.begin(&access).await;
        let answer = self.confirm(&app, &access).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        Enrolled {
            codes: answer.recovery_codes(),
            app,
            access,
            refresh,
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.unix_secs() as u64
    }

    /// The code `app` shows now.
    pub(crate) fn code(&self, app: &App) -> String {
        app.code_at(self.now())
    }

    /// The code of step `step`.
    pub(crate) fn code_of_step(app: &App, step: u64) -> String {
        app.code_at(step * STEP_SECS)
    }

    /// A code none of the steps a check now accepts shows.
    pub(crate) fn wrong_code(&self, app: &App) -> String {
        let step = step_at(self.now());
        let accepted: Vec<String> = (step - 1..=step + 1)
            .map(|step| Self::code_of_step(app, step))
            .collect();
        (0..)
            .map(|n: u32| format!("{:06}", (123_456 + n * 7919) % 1_000_000))
            .find(|code| !accepted.contains(code))
            .unwrap()
    }

    /// `username`'s activity log, oldest first, once every function's writes have ended.
    pub(crate) async fn activity(&self, username: &str) -> Vec<ActivityEntry> {
        for state in self.states.values() {
            state.activity().settled().await;
        }
        let state = &self.states[&Function::Login];
        let log = state.activity().log().unwrap();
        let page = log
            .list(username, 100, None, state.clock().unix_secs())
            .await
            .unwrap();
        page.entries.into_iter().rev().collect()
    }

    /// The listed sessions of `username` now, newest first (one page: a test has few).
    pub(crate) async fn sessions(&self, username: &str) -> Vec<SessionInfo> {
        let state = &self.states[&Function::Login];
        let query = SessionQuery {
            username,
            not_before: None,
            now: state.clock().unix_secs(),
            limit: MAX_PAGE_SIZE,
            after: None,
        };
        state
            .sessions()
            .list_sessions(&query)
            .await
            .unwrap()
            .sessions
    }

    /// On to the first second of the next step.
    pub(crate) fn next_step(&self) {
        let now = self.now();
        self.clock
            .advance(Duration::from_secs((step_at(now) + 1) * STEP_SECS - now));
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// The events counted since the last call.
    pub(crate) fn events(&self) -> Vec<(Function, Event)> {
        std::mem::take(&mut *self.events.0.lock().unwrap())
    }

    /// Whether `username` logs in with the password alone (their factor off).
    pub(crate) async fn password_alone_logs_in(&self, username: &str) -> bool {
        let answer = self.login(username, PASSWORD).await;
        match answer.status {
            StatusCode::OK => true,
            StatusCode::FORBIDDEN => false,
            _ => panic!("a login answered {answer:?}"),
        }
    }

    /// `users mfa-reset`: the factor gone, every session ended.
    pub(crate) async fn operator_mfa_reset(&self, username: &str) {
        match &self.operator {
            Operator::Memory(users) => assert!(users.update(username, |user| {
                user.account.mfa = MfaFields::default();
                user.tokens_valid_after = Some(auth_admin::sessions_end_now());
                user.account.kept_session = None;
                user.account.recovery_token = None;
            })),
            Operator::DynamoDb(users) => UserAdmin::of(users).mfa_reset(username).await.unwrap(),
        }
    }

    /// `users disable`.
    pub(crate) async fn operator_disable(&self, username: &str) {
        match &self.operator {
            Operator::Memory(users) => assert!(users.update(username, |user| {
                user.disabled = true;
                user.tokens_valid_after = Some(auth_admin::sessions_end_now());
                user.account.kept_session = None;
                user.account.recovery_token = None;
            })),
            Operator::DynamoDb(users) => UserAdmin::of(users)
                .set_disabled(username, true)
                .await
                .unwrap(),
        }
    }

    /// The users table, over DynamoDB, to read items as they are stored.
    pub(crate) fn users_table(&self) -> Option<&DynamoUserStore> {
        match &self.operator {
            Operator::Memory(_) => None,
            Operator::DynamoDb(users) => Some(users),
        }
    }

    /// The in-memory users' store, for the memory-only scenarios.
    pub(crate) fn memory_users(&self) -> &InMemoryUserStore {
        match &self.operator {
            Operator::Memory(users) => users,
            Operator::DynamoDb(_) => panic!("a memory-only scenario"),
        }
    }
}

pub(crate) fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

pub(crate) fn count(answers: &[Answer], status: StatusCode) -> usize {
    answers
        .iter()
        .filter(|answer| answer.status == status)
        .count()
}

/// An authenticator app given the secret enrolment showed. Its codes are pyotp's, a TOTP we did
/// not write, where `.venv` has it (`./scripts/test` installs it: requirements-dev.txt), and
/// each is checked against ours; without it, ours alone.
pub(crate) struct App {
    secret: String,
    ours: Authenticator,
    /// The code of each step pyotp gave, agreeing with ours: a step has one code, and a python
    /// run per code asked would take seconds of the tests.
    agreed: Mutex<HashMap<u64, String>>,
}

impl App {
    pub(crate) fn new(secret: &str) -> Self {
        Self {
            secret: secret.to_owned(),
            ours: Authenticator::from_base32(secret, ANN, "app").unwrap(),
            agreed: Mutex::default(),
        }
    }

    pub(crate) fn code_at(&self, unix_secs: u64) -> String {
        let ours = self.ours.code_at(unix_secs);
        let step = step_at(unix_secs);
        if self.agreed.lock().unwrap().get(&step) == Some(&ours) {
            return ours;
        }
        // One python run for this moment and the steps about it a test asks next: a check's
        // window, a wrong code's, the next steps.
        let times: Vec<u64> = std::iter::once(unix_secs)
            .chain(
                (step.saturating_sub(2)..=step + 4)
                    .filter(|&near| near != step)
                    .map(|near| near * STEP_SECS),
            )
            .collect();
        if let Some(theirs) = pyotp_codes(&self.secret, &times) {
            assert_eq!(theirs.len(), times.len(), "pyotp answered {theirs:?}");
            let mut agreed = self.agreed.lock().unwrap();
            for (&at, theirs) in times.iter().zip(theirs) {
                let ours = self.ours.code_at(at);
                assert_eq!(theirs, ours, "pyotp and auth-mfa disagree at {at}");
                agreed.insert(step_at(at), ours);
            }
        }
        ours
    }
}

/// pyotp's codes of `secret` at each of `times`, if `.venv` has pyotp.
fn pyotp_codes(secret: &str, times: &[u64]) -> Option<Vec<String>> {
    static HAS_PYOTP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let run = |script: &str, args: &[String]| {
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
    let args: Vec<String> = std::iter::once(secret.to_owned())
        .chain(times.iter().map(u64::to_string))
        .collect();
    let output = run(
        "import sys, pyotp; totp = pyotp.TOTP(sys.argv[1]); \
         print(' '.join(totp.at(int(at)) for at in sys.argv[2:]))",
        &args,
    )?;
    Some(
        String::from_utf8(output.stdout)
            .ok()?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    )
}

//! The service the handler tests drive, over either store: in memory (the local server's) or
//! DynamoDB on a real DynamoDB-compatible server (moto, which `./scripts/test` starts); with a
//! clock the tests move by hand, and stores that can be made slow or made to fail.

#![allow(dead_code)] // Each test file uses part of this.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use auth_admin::UserAdmin;
use auth_core::{
    AppState, Stores,
    activity::{ActivityLog, InMemoryActivityLog},
    clock::Clock,
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    sessions::{
        AttemptBucket, AttemptOutcome, HeldAttempt, Reservation, Rotation, RotationOutcome,
        SessionPage, SessionQuery, SessionStart, SessionStore,
    },
    store::StoreError,
    users::{InMemoryUserStore, User, UserStore},
};
use auth_dynamodb::{DynamoTokenLookup, DynamoUserStore};
use auth_testkit::{
    bearer_request, dynamodb_endpoint, fresh_dynamodb_activity, fresh_dynamodb_sessions,
    fresh_dynamodb_store, json_body, request, settings_with, user_with_password,
};
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

pub const PASSWORD: &str = "space-corgi";

/// Runs each named scenario (an `async fn(Backend)` of the test file) twice: over the
/// in-memory stores, and over DynamoDB on moto. The DynamoDB runs are ignored by a plain
/// `cargo test`, which has no server; `./scripts/test` starts moto and runs them.
#[allow(unused_macros)]
macro_rules! over_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(crate::common::Backend::Memory).await
                }
            )*
        }
        mod over_dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
                async fn $scenario() {
                    super::$scenario(crate::common::Backend::DynamoDb).await
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    DynamoDb,
}

/// What an operator changes about a user, in whichever store holds them.
enum Users {
    Memory(Arc<InMemoryUserStore>),
    DynamoDb(DynamoUserStore),
}

/// How a test wants its service.
pub struct Setup<'a> {
    pub overrides: &'a [(&'a str, &'a str)],
    /// `Clock::manual()` unless a test needs the system's (the `users` command's writes use it).
    pub clock: Clock,
    /// Every store call takes this long (DynamoDB: through a proxy that holds each request).
    pub store_delay: Option<Duration>,
    pub request_budget: Option<Duration>,
    /// Password checks at once; the default is one per CPU, as the functions have it.
    pub password_workers: Option<usize>,
    /// With an activity log (in memory, or a DynamoDB table of its own, reached without the
    /// proxy: its writes are not among `Service::operations`).
    pub activity: bool,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Self {
            overrides: &[],
            clock: Clock::manual(),
            store_delay: None,
            request_budget: None,
            password_workers: None,
            activity: false,
        }
    }
}

pub struct Service {
    pub state: Arc<AppState>,
    pub backend: Backend,
    users: Users,
    /// What the service's sessions store is wrapped in, to make its writes fail.
    pub faults: Arc<Faults>,
    /// The DynamoDB operations the service has asked for (none in memory).
    pub operations: StoreOperations,
    /// When set, every request comes as Lambda delivers it, with a deadline this far away
    /// (plus the margin the handlers keep back).
    lambda_budget: Mutex<Option<Duration>>,
}

/// The reply of a handler.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
    /// The device proof a login handed over (`Login-Proof`).
    pub login_proof: Option<String>,
}

pub fn reply(response: Response<Body>) -> Reply {
    Reply {
        status: response.status(),
        body: json_body(&response),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().parse().unwrap()),
        login_proof: response
            .headers()
            .get("login-proof")
            .map(|value| value.to_str().unwrap().to_owned()),
    }
}

fn cosmo() -> User {
    user_with_password("cosmo", PASSWORD, json!({"id": 1}))
}

impl Service {
    /// The service over `backend` with `cosmo` / `space-corgi`, the settings `overrides` and a
    /// manual clock.
    pub async fn new(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        Self::with(
            backend,
            Setup {
                overrides,
                ..Setup::default()
            },
        )
        .await
    }

    pub async fn with(backend: Backend, setup: Setup<'_>) -> Self {
        let faults = Arc::new(Faults::default());
        let operations = StoreOperations::default();
        let mut lookup: Option<Arc<dyn TokenLookup>> = None;
        let (users, user_store, sessions): (Users, Arc<dyn UserStore>, Arc<dyn SessionStore>) =
            match backend {
                Backend::Memory => {
                    let store = Arc::new(InMemoryUserStore::new([cosmo()]));
                    let sessions = Arc::new(auth_core::sessions::InMemorySessionStore::default());
                    match setup.store_delay {
                        None => (Users::Memory(store.clone()), store, sessions),
                        Some(delay) => (
                            Users::Memory(store.clone()),
                            Arc::new(SlowUsers {
                                inner: store,
                                delay,
                            }),
                            sessions,
                        ),
                    }
                }
                Backend::DynamoDb => {
                    let store = fresh_dynamodb_store().await;
                    UserAdmin::of(&store).add(&cosmo(), false).await.unwrap();
                    let sessions = fresh_dynamodb_sessions().await;
                    // The service reaches DynamoDB through a proxy that counts its requests
                    // (and holds each one when the test wants a slow store).
                    let delay = setup.store_delay.unwrap_or_default();
                    let url =
                        DelayingProxy::start(&dynamodb_endpoint(), delay, operations.clone()).await;
                    let client = auth_dynamodb::client::client_at(&url).await;
                    lookup = Some(Arc::new(DynamoTokenLookup::new(
                        client.clone(),
                        store.table(),
                        sessions.table(),
                    )));
                    (
                        Users::DynamoDb(store.clone()),
                        Arc::new(DynamoUserStore::new(client.clone(), store.table())),
                        Arc::new(auth_dynamodb::DynamoSessionStore::new(
                            client,
                            sessions.table(),
                        )),
                    )
                }
            };
        // A slow DynamoDB is slow through its proxy already; memory is slowed here.
        let delay = match backend {
            Backend::Memory => setup.store_delay.unwrap_or_default(),
            Backend::DynamoDb => Duration::ZERO,
        };
        let sessions = Arc::new(TestSessions {
            inner: sessions,
            delay,
            faults: faults.clone(),
        });
        let mut stores = Stores::separate(user_store, sessions);
        if let Some(lookup) = lookup {
            stores.lookup = lookup;
        }
        if setup.activity {
            let log: Arc<dyn ActivityLog> = match backend {
                Backend::Memory => Arc::new(InMemoryActivityLog::default()),
                Backend::DynamoDb => Arc::new(fresh_dynamodb_activity().await),
            };
            stores = stores.with_activity(log);
        }
        stores.lookup = Arc::new(TestLookup {
            inner: stores.lookup,
            faults: faults.clone(),
        });
        let mut state =
            AppState::builder(&settings_with(setup.overrides), stores).clock(setup.clock);
        if let Some(budget) = setup.request_budget {
            state = state.request_budget(budget);
        }
        if let Some(workers) = setup.password_workers {
            state = state.password_workers(workers);
        }
        Service {
            state: Arc::new(state.build().unwrap()),
            backend,
            users,
            faults,
            operations,
            lambda_budget: Mutex::new(None),
        }
    }

    pub fn clock(&self) -> &Clock {
        self.state.clock()
    }

    /// From now on, requests carry a Lambda deadline that leaves the handler `budget`.
    pub fn set_lambda_budget(&self, budget: Duration) {
        *self.lambda_budget.lock().unwrap() = Some(budget);
    }

    /// `request` as this service's requests come: with a Lambda deadline, if one is set.
    fn deliver(&self, request: Request) -> Request {
        let Some(budget) = *self.lambda_budget.lock().unwrap() else {
            return request;
        };
        let deadline = SystemTime::now() + budget + auth_http::deadline::LAMBDA_MARGIN;
        let mut context = lambda_http::Context::default();
        // Lambda gives the deadline in whole milliseconds; rounded up, so that it is never
        // before `budget` from now (rounded down, a 503 could come up to 1 ms early, and a
        // test timing it from here would see less than its budget).
        context.deadline = deadline
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros()
            .div_ceil(1000) as u64;
        request.with_lambda_context(context)
    }

    pub async fn login_as(&self, username: &str, password: &str) -> Reply {
        self.login_with_proof(username, password, None).await
    }

    /// A login that shows `proof` (a device proof) in the `Login-Proof` header.
    pub async fn login_with_proof(
        &self,
        username: &str,
        password: &str,
        proof: Option<&str>,
    ) -> Reply {
        let body = json!({"username": username, "password": password}).to_string();
        let mut headers = vec![("content-type", "application/json")];
        if let Some(proof) = proof {
            headers.push(("login-proof", proof));
        }
        let request = request("POST", "/login", &headers, Some(&body));
        reply(
            login::handle(&self.state, self.deliver(request))
                .await
                .unwrap(),
        )
    }

    /// Logs in as cosmo: the access and the refresh token.
    pub async fn login(&self) -> (String, String) {
        let reply = self.login_as("cosmo", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        (
            token(&reply, "access_token"),
            token(&reply, "refresh_token"),
        )
    }

    /// A refresh, once its writes that the answer does not wait for (the session's record,
    /// the activity log) have ended, so that what a test reads next sees them.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let request = bearer_request("POST", "/refresh", refresh_token);
        let refreshed = reply(
            refresh::handle(&self.state, self.deliver(request))
                .await
                .unwrap(),
        );
        self.state.activity().settled().await;
        refreshed
    }

    pub async fn profile(&self, access_token: &str) -> Reply {
        let request = bearer_request("GET", "/profile", access_token);
        reply(
            profile::handle(&self.state, self.deliver(request))
                .await
                .unwrap(),
        )
    }

    pub async fn logout(&self, bearer: Option<&str>, body: Option<Value>) -> Reply {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        let body = body.map(|body| body.to_string());
        self.logout_raw(&headers, body.as_deref()).await
    }

    /// `POST /logout?scope={scope}` with `bearer` and `body`, as `logout` sends them.
    pub async fn logout_scoped(
        &self,
        scope: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        let body = body.map(|body| body.to_string());
        let uri = format!("/logout?scope={scope}");
        let request: Request = request("POST", &uri, &headers, body.as_deref());
        reply(
            logout::handle(&self.state, self.deliver(request))
                .await
                .unwrap(),
        )
    }

    /// `POST /logout` with exactly these headers and body.
    pub async fn logout_raw(&self, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        let request: Request = request("POST", "/logout", headers, body);
        reply(
            logout::handle(&self.state, self.deliver(request))
                .await
                .unwrap(),
        )
    }

    /// What `users end-sessions cosmo` does. Its time is the system clock's, as the command's.
    pub async fn end_sessions(&self) {
        match &self.users {
            Users::Memory(store) => assert!(store.update("cosmo", |user| {
                user.tokens_valid_after = Some(auth_admin::sessions_end_now());
            })),
            Users::DynamoDb(store) => UserAdmin::of(store).end_sessions("cosmo").await.unwrap(),
        }
    }

    /// What `users passwd cosmo` does, on the system clock like `end_sessions`.
    pub async fn change_password(&self, password: &str) {
        let hash = auth_core::passwords::hash(password).unwrap();
        match &self.users {
            Users::Memory(store) => assert!(store.update("cosmo", |user| {
                user.password_hash = hash;
                user.tokens_valid_after = Some(auth_admin::sessions_end_now());
            })),
            Users::DynamoDb(store) => UserAdmin::of(store)
                .set_password_hash("cosmo", &hash)
                .await
                .unwrap(),
        }
    }
}

pub fn token(reply: &Reply, field: &str) -> String {
    reply.body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {}", reply.body))
        .to_owned()
}

/// `reply` is `status` with `{"msg": msg}`.
fn assert_msg(reply: &Reply, status: StatusCode, msg: &str, what: &str) {
    assert_eq!(
        (reply.status, &reply.body),
        (status, &json!({ "msg": msg })),
        "{what}"
    );
}

pub fn assert_revoked(reply: &Reply, what: &str) {
    assert_msg(
        reply,
        StatusCode::UNAUTHORIZED,
        "Token has been revoked",
        what,
    );
}

pub fn assert_expired(reply: &Reply, what: &str) {
    assert_msg(reply, StatusCode::UNAUTHORIZED, "Token has expired", what);
}

pub fn assert_logged_out(reply: &Reply, what: &str) {
    assert_msg(reply, StatusCode::OK, "Successfully logged out", what);
}

/// Failures to inject into the sessions store's writes.
#[derive(Debug, Default)]
pub struct Faults {
    /// How many of the next session revocations fail, as an outage would.
    pub failing_session_revocations: AtomicUsize,
    /// How many of the next settlements of login attempts fail.
    pub failing_settlements: AtomicUsize,
    /// How many of the next lookups of a token's user and revocations fail.
    pub failing_lookups: AtomicUsize,
    /// How many of the next records of a session's start fail.
    pub failing_session_starts: AtomicUsize,
}

/// Takes one of the failures `counter` holds, if any is left.
fn take_failure(counter: &AtomicUsize) -> Result<(), StoreError> {
    match counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
        Ok(_) => Err(StoreError::unavailable("injected: the store is down")),
        Err(_) => Ok(()),
    }
}

/// The service's sessions store: `inner`, whose every answer comes `delay` after the call is
/// done (a write is made at once, and its answer is late: the case of a request stopped at its
/// deadline after its write reached the store), and whose writes fail as `faults` say.
struct TestSessions {
    inner: Arc<dyn SessionStore>,
    delay: Duration,
    faults: Arc<Faults>,
}

impl TestSessions {
    async fn late<T>(&self, answer: T) -> T {
        tokio::time::sleep(self.delay).await;
        answer
    }
}

#[async_trait]
impl SessionStore for TestSessions {
    async fn revoke_token(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        self.late(self.inner.revoke_token(jti, expires_at, now).await)
            .await
    }

    async fn revoke_session(
        &self,
        session: &str,
        record_until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        take_failure(&self.faults.failing_session_revocations)?;
        self.late(self.inner.revoke_session(session, record_until, now).await)
            .await
    }

    async fn is_revoked(
        &self,
        jti: Option<&str>,
        session: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.late(self.inner.is_revoked(jti, session, now).await)
            .await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome, StoreError> {
        self.late(self.inner.rotate(rotation).await).await
    }

    async fn reserve_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        max: u64,
        now: i64,
        window_end: i64,
    ) -> Result<Reservation, StoreError> {
        self.late(
            self.inner
                .reserve_login_attempt(bucket, max, now, window_end)
                .await,
        )
        .await
    }

    async fn settle_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        held: HeldAttempt,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        take_failure(&self.faults.failing_settlements)?;
        self.late(self.inner.settle_login_attempt(bucket, held, outcome).await)
            .await
    }

    async fn start_session(&self, start: &SessionStart<'_>) -> Result<(), StoreError> {
        take_failure(&self.faults.failing_session_starts)?;
        self.late(self.inner.start_session(start).await).await
    }

    async fn touch_session(
        &self,
        session: &str,
        now: i64,
        refresh_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.late(self.inner.touch_session(session, now, refresh_until).await)
            .await
    }

    async fn list_sessions(&self, query: &SessionQuery<'_>) -> Result<SessionPage, StoreError> {
        self.late(self.inner.list_sessions(query).await).await
    }

    async fn end_session_of(
        &self,
        username: &str,
        session: &str,
        not_before: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let ended = self
            .inner
            .end_session_of(username, session, not_before, now);
        self.late(ended.await).await
    }
}

/// The service's lookup: `inner`, failing as `faults` says (at once, while a write beside it
/// goes on).
struct TestLookup {
    inner: Arc<dyn TokenLookup>,
    faults: Arc<Faults>,
}

#[async_trait]
impl TokenLookup for TestLookup {
    async fn look_up(&self, query: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        take_failure(&self.faults.failing_lookups)?;
        self.inner.look_up(query).await
    }
}

/// A user store whose every answer takes `delay`.
struct SlowUsers {
    inner: Arc<dyn UserStore>,
    delay: Duration,
}

#[async_trait]
impl UserStore for SlowUsers {
    async fn find(&self, username: &str) -> Result<Option<User>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.find(username).await
    }
}

/// A TCP proxy on loopback in front of `upstream` that holds every chunk a client sends for
/// `delay` before passing it on: a DynamoDB that answers every request, slowly.
pub struct DelayingProxy;

/// The DynamoDB operations a proxy has relayed, in the order their requests came, with when
/// each came.
#[derive(Debug, Clone, Default)]
pub struct StoreOperations(Arc<Mutex<Vec<(Instant, String)>>>);

impl StoreOperations {
    /// The operations so far, and forgets them.
    pub fn take(&self) -> Vec<String> {
        self.take_timed()
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    }

    /// The operations so far, each with when its request came, and forgets them.
    pub fn take_timed(&self) -> Vec<(Instant, String)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }

    /// Records each operation named in `bytes`, the next stretch of a connection's requests;
    /// `pending` keeps a header cut in two by the reads.
    fn record(&self, pending: &mut Vec<u8>, bytes: &[u8]) {
        const TARGET: &[u8] = b"DynamoDB_20120810.";
        pending.extend_from_slice(bytes);
        while let Some(start) = find(pending, TARGET) {
            let name_start = start + TARGET.len();
            let Some(length) = find(&pending[name_start..], b"\r\n") else {
                break;
            };
            let name = &pending[name_start..name_start + length];
            self.0
                .lock()
                .unwrap()
                .push((Instant::now(), String::from_utf8_lossy(name).into_owned()));
            pending.drain(..name_start + length);
        }
        // Nothing before the last few bytes can start a target any more.
        let keep = pending.len().saturating_sub(TARGET.len() + 64);
        if find(pending, TARGET).is_none() {
            pending.drain(..keep);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl DelayingProxy {
    /// Starts the proxy on a free port, recording each request's operation in `operations`;
    /// its URL. It lives as long as the test's runtime.
    pub async fn start(upstream: &str, delay: Duration, operations: StoreOperations) -> String {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, operations) = (upstream.clone(), operations.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        relay(client, server, delay, operations).await;
                    }
                });
            }
        });
        url
    }
}

async fn relay(client: TcpStream, server: TcpStream, delay: Duration, operations: StoreOperations) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut pending = Vec::new();
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            operations.record(&mut pending, &buffer[..read]);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    };
    let responses = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    };
    tokio::join!(requests, responses);
}

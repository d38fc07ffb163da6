//! A hostile pass over issue 30 (sessions a user lists and ends, `POST /logout?scope=`, the
//! activity log), over both stores, through the handlers as API Gateway delivers requests to
//! them. Each test is an attack: what it tries, and what must hold.
//!
//! Found and mended here:
//! - `others`/`global` from a later session left alive the session a password change kept
//!   (listed by `GET /sessions`, but not by the logout's listing, which left out every session
//!   begun before the change);
//! - a token already revoked or expired, replayed at `POST /logout` (which answers 200, as
//!   RFC 7009 asks), wrote a `logout` entry to its user's log every time: anyone holding an old
//!   token could fill a user's log without end;
//! - `global` left alive the access token a session's last refresh bought when its refresh
//!   token had expired since (no longer listed, yet its access token good for its life);
//! - over DynamoDB, a page of sessions begun in one second read the whole second a page's
//!   worth at a time: a flood of logins in one second made each page, and `others`/`global`,
//!   hundreds of reads; and a page of the activity log behind entries past their retention
//!   (which DynamoDB's TTL deletes days late) read them a page's worth at a time: past the
//!   function's time (a 503) at `limit=1`;
//! - `users sessions` left out the session a password change kept (tested in `users`);
//! - `DELETE /sessions/{id}` of a session a password change had ended answered 204 and logged
//!   `session_ended`, where an ended session is the 404 of an unknown id (the store ended only
//!   sessions it had not marked ended itself, and a password change marks none: it moves the
//!   user's `tokens_valid_after`).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use auth_admin::UserAdmin;
use auth_core::{
    AppState, Function, Stores,
    activity::{ActivityEntry, ActivityEvent, ActivityOutcome, InMemoryActivityLog, entry_id},
    claims::AuthMethods,
    clock::Clock,
    sessions::{InMemorySessionStore, MAX_PAGE_SIZE, SessionInfo, SessionQuery, SessionStart},
    state::DEFAULT_REQUEST_BUDGET,
    users::InMemoryUserStore,
};
use auth_dynamodb::DynamoUserStore;
use auth_testkit::{
    dynamodb_endpoint, fresh_dynamodb_activity, fresh_dynamodb_sessions, fresh_dynamodb_store,
    payload_of, request, settings_with, user_with_password,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::{StreamExt, stream};
use lambda_http::{
    Body, Request, RequestExt,
    aws_lambda_events::apigw::ApiGatewayV2httpRequestContext,
    http::{Method, StatusCode},
    request::RequestContext,
};
use serde_json::{Value, json};

use crate::{
    common::{Backend, DelayingProxy, PASSWORD, StoreOperations},
    round_trips::{assert_allowed, resource_of},
};

over_both_stores!(
    sign_out_everywhere_from_a_later_session_ends_the_session_a_password_change_kept,
    a_token_replayed_at_logout_once_revoked_or_expired_adds_nothing_to_its_users_log,
    global_ends_the_access_token_of_a_session_whose_refresh_token_expired_since,
    a_flood_of_sessions_in_one_second_lists_and_ends_in_a_few_reads_a_page,
    a_log_behind_a_thousand_entries_past_their_retention_lists_in_a_few_reads,
    no_session_id_tells_an_unknown_from_another_users_or_an_ended_one,
    a_session_a_password_change_ended_is_not_found_and_the_kept_one_ends,
    a_forged_cursor_is_a_400_or_a_page_of_the_callers_own_never_a_500,
    a_hostile_user_agent_is_stored_bounded_and_no_entry_holds_a_secret,
    unauthenticated_replays_write_a_bounded_number_of_entries,
    scopes_beyond_the_request_need_a_live_token_of_a_user_still_allowed_in,
    a_client_idle_past_its_access_token_refreshes_then_lists_and_signs_out_the_others,
    in_cookie_mode_another_sites_post_signs_nobody_out_and_ends_no_session,
);

const COSMO: &str = "cosmo";
const WANDA: &str = "wanda";
const HOME: &str = "198.51.100.7";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CURL: &str = "curl/8.5.0";
const NOT_FOUND: &str = "Session not found";
const NEW_PASSWORD: &str = "violet lantern orbit";
const REVOKED: &str = "Token has been revoked";
/// The default access token's life (15 minutes), and a second.
const PAST_AN_ACCESS_TOKEN: Duration = Duration::from_secs(15 * 60 + 1);

/// An answer: its status, its body (`null` for none) and its text.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: Value,
    text: String,
    /// The cookies it sets, by name.
    cookies: HashMap<String, String>,
}

impl Answer {
    fn is(&self, status: StatusCode, msg: &str) -> bool {
        self.status == status && self.body == json!({ "msg": msg })
    }

    fn token(&self, name: &str) -> String {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
            .to_owned()
    }

    fn sessions(&self) -> &Vec<Value> {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.body["sessions"]
            .as_array()
            .unwrap_or_else(|| panic!("no sessions in {self:?}"))
    }
}

struct Login {
    access: String,
    refresh: String,
    session: String,
}

/// What an operator changes about a user, in whichever store holds them.
enum Users {
    Memory(Arc<InMemoryUserStore>),
    DynamoDb(DynamoUserStore),
}

/// The token functions' state and the sessions function's over the same stores and clock,
/// with two users; over DynamoDB the sessions function's requests go through a proxy that
/// records each operation.
struct Account {
    functions: Arc<AppState>,
    sessions: AppState,
    users: Users,
    operations: Option<StoreOperations>,
}

impl Account {
    async fn new(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let users = [
            user_with_password(COSMO, PASSWORD, json!({"id": 1})),
            user_with_password(WANDA, PASSWORD, json!({"id": 2})),
        ];
        let (functions, sessions, admin, operations) = match backend {
            Backend::Memory => {
                let (users, sessions) = (
                    Arc::new(InMemoryUserStore::new(users)),
                    Arc::new(InMemorySessionStore::default()),
                );
                let stores = Stores::separate(users.clone(), sessions.clone())
                    .with_accounts(users.clone(), sessions)
                    .with_activity(Arc::new(InMemoryActivityLog::default()));
                (stores.clone(), stores, Users::Memory(users), None)
            }
            Backend::DynamoDb => {
                let user_table = fresh_dynamodb_store().await;
                for user in &users {
                    UserAdmin::of(&user_table).add(user, false).await.unwrap();
                }
                let session_table = fresh_dynamodb_sessions().await;
                let activity_table = fresh_dynamodb_activity().await;
                let stores_over = |client: aws_sdk_dynamodb::Client| {
                    auth_dynamodb::stores(client.clone(), user_table.table(), session_table.table())
                        .with_activity(auth_dynamodb::activity_log(client, activity_table.table()))
                };
                let functions = stores_over(auth_dynamodb::client().await);
                let recorded = StoreOperations::default();
                let url =
                    DelayingProxy::start(&dynamodb_endpoint(), Duration::ZERO, recorded.clone())
                        .await;
                let sessions = stores_over(auth_dynamodb::client::client_at(&url).await);
                (
                    functions,
                    sessions,
                    Users::DynamoDb(user_table),
                    Some(recorded),
                )
            }
        };
        let settings = settings_with(overrides);
        let clock = Clock::manual_at(Clock::System.now());
        let state = |stores, budget| {
            AppState::builder(&settings, stores)
                .clock(clock.clone())
                .password_workers(2)
                .request_budget(budget)
                .build()
                .unwrap()
        };
        // moto makes one write at a time, a hundred a second: a logout that ends a thousand
        // sessions takes it ten seconds, DynamoDB (sixteen at once) well under one. The token
        // functions get the time moto needs; the sessions function, whose reads the tests
        // count, keeps a function's.
        let functions_budget = match backend {
            Backend::Memory => DEFAULT_REQUEST_BUDGET,
            Backend::DynamoDb => Duration::from_secs(120),
        };
        Self {
            functions: Arc::new(state(functions, functions_budget)),
            sessions: state(sessions, DEFAULT_REQUEST_BUDGET),
            users: admin,
            operations,
        }
    }

    fn advance(&self, by: Duration) {
        self.sessions.clock().advance(by);
    }

    fn now(&self) -> i64 {
        self.sessions.clock().unix_secs()
    }

    /// `method path` of `function` as API Gateway delivers it: the route's key and path
    /// parameters, the source address, a user agent (`curl` unless `headers` give one).
    async fn send(
        &self,
        function: Function,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let text = body.map(|body| body.to_string());
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        if !headers.iter().any(|(name, _)| *name == "user-agent") {
            all.push(("user-agent", CURL));
        }
        let route = local_api::route_for(&method, path.split('?').next().unwrap())
            .unwrap_or_else(|| panic!("no route of {method} {path}"));
        assert_eq!(route.function, function, "{method} {path}");
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.route_key = Some(format!("{method} {}", route.path));
        context.http.source_ip = Some(HOME.to_owned());
        let parameters: HashMap<String, String> = route
            .parameters
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        let request: Request = request(method.as_str(), path, &all, text.as_deref())
            .with_request_context(RequestContext::ApiGatewayV2(context))
            .with_path_parameters(parameters);
        let state = match function {
            Function::Sessions => &self.sessions,
            _ => &self.functions,
        };
        let response = local_api::invoke(state, function, request).await.unwrap();
        let cookies = auth_testkit::set_cookies(&response)
            .iter()
            .filter_map(|cookie| {
                let (name, value) = cookie.split(';').next()?.split_once('=')?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        let text = match response.body() {
            Body::Text(text) => text.clone(),
            Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        // Whatever the request, no handler fails: a 500 is a bug.
        assert!(
            !response.status().is_server_error(),
            "{method} {path}: {} {text}",
            response.status()
        );
        let body = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text:?}")),
        };
        Answer {
            status: response.status(),
            body,
            text,
            cookies,
        }
    }

    async fn bearer(&self, function: Function, method: Method, path: &str, token: &str) -> Answer {
        let authorization = format!("Bearer {token}");
        self.send(
            function,
            method,
            path,
            &[("authorization", &authorization)],
            None,
        )
        .await
    }

    async fn account(&self, method: Method, path: &str, access: &str) -> Answer {
        self.bearer(Function::Sessions, method, path, access).await
    }

    async fn list(&self, access: &str) -> Answer {
        // What refreshes and logins wrote without their answers waiting is listed too.
        self.settled().await;
        self.account(Method::GET, "/sessions", access).await
    }

    async fn end(&self, session: &str, access: &str) -> Answer {
        self.account(Method::DELETE, &format!("/sessions/{session}"), access)
            .await
    }

    async fn profile(&self, access: &str) -> Answer {
        self.bearer(Function::Profile, Method::GET, "/profile", access)
            .await
    }

    /// Whether the authorizer (an upstream API's guard) lets `access` through.
    async fn authorizer_allows(&self, access: &str) -> bool {
        let authorizer = authorizer::Authorizer::new(self.functions.clone(), None, |_| None)
            .expect("the authorizer starts with the service's settings");
        let decision = authorizer.decide(Some(&format!("Bearer {access}"))).await;
        matches!(decision, authorizer::Decision::Allow(_))
    }

    async fn refresh(&self, refresh: &str) -> Answer {
        self.bearer(Function::Refresh, Method::POST, "/refresh", refresh)
            .await
    }

    async fn logout(&self, scope: &str, bearer: &str) -> Answer {
        self.bearer(
            Function::Logout,
            Method::POST,
            &format!("/logout?scope={scope}"),
            bearer,
        )
        .await
    }

    async fn try_login(&self, username: &str, password: &str, user_agent: &str) -> Answer {
        self.send(
            Function::Login,
            Method::POST,
            "/login",
            &[("user-agent", user_agent)],
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    async fn login(&self, username: &str, user_agent: &str) -> Login {
        self.login_with(username, PASSWORD, user_agent).await
    }

    async fn login_with(&self, username: &str, password: &str, user_agent: &str) -> Login {
        let answer = self.try_login(username, password, user_agent).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let access = answer.token("access_token");
        let session = payload_of(&access)["sid"].as_str().unwrap().to_owned();
        Login {
            access,
            refresh: answer.token("refresh_token"),
            session,
        }
    }

    /// `POST /password` with the caller's access token: every other session ends, the
    /// caller's is kept.
    async fn change_password(&self, access: &str) {
        let authorization = format!("Bearer {access}");
        let changed = self
            .send(
                Function::ChangePassword,
                Method::POST,
                "/password",
                &[("authorization", &authorization)],
                Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    }

    async fn disable(&self, username: &str) {
        match &self.users {
            Users::Memory(store) => assert!(store.update(username, |user| user.disabled = true)),
            Users::DynamoDb(store) => UserAdmin::of(store)
                .set_disabled(username, true)
                .await
                .unwrap(),
        }
    }

    async fn settled(&self) {
        self.functions.activity().settled().await;
        self.sessions.activity().settled().await;
    }

    /// `username`'s log as stored, newest first, once every write started has ended.
    async fn stored_entries(&self, username: &str) -> Vec<ActivityEntry> {
        self.settled().await;
        let log = self.functions.activity().log().unwrap();
        let (mut entries, mut before) = (Vec::new(), None::<String>);
        loop {
            let page = log
                .list(username, 100, before.as_deref(), self.now())
                .await
                .unwrap();
            entries.extend(page.entries);
            match page.next {
                Some(next) => before = Some(next),
                None => return entries,
            }
        }
    }

    /// `username`'s live sessions as stored, newest first.
    async fn stored_sessions(&self, username: &str) -> Vec<SessionInfo> {
        let (mut sessions, mut after) = (Vec::new(), None);
        loop {
            let page = self
                .functions
                .sessions()
                .list_sessions(&SessionQuery {
                    username,
                    not_before: None,
                    now: self.now(),
                    limit: MAX_PAGE_SIZE,
                    after: after.as_ref(),
                })
                .await
                .unwrap();
            sessions.extend(page.sessions);
            match page.next {
                Some(next) => after = Some(next),
                None => return sessions,
            }
        }
    }

    /// Over DynamoDB, the operations the sessions function made since the last call, each
    /// checked against its IAM policy.
    async fn operations(&self) -> Vec<String> {
        self.settled().await;
        let Some(recorded) = &self.operations else {
            return Vec::new();
        };
        let operations = recorded.take();
        assert_allowed(resource_of(Function::Sessions), &operations);
        operations
    }
}

fn ids(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|session| session["id"].as_str().unwrap().to_owned())
        .collect()
}

fn logouts(entries: &[ActivityEntry]) -> usize {
    entries
        .iter()
        .filter(|entry| entry.event == ActivityEvent::Logout)
        .count()
}

/// A password change keeps the caller's session (its user lists it, current); a later login
/// then signs out everywhere else, or everywhere: the kept session must end with the rest. It
/// was left alive, since the logout listed only sessions begun after the change.
async fn sign_out_everywhere_from_a_later_session_ends_the_session_a_password_change_kept(
    backend: Backend,
) {
    for scope in ["others", "global"] {
        let account = Account::new(backend, &[]).await;
        let kept = account.login(COSMO, FIREFOX).await;
        account.advance(Duration::from_secs(1));
        account.change_password(&kept.access).await;
        account.advance(Duration::from_secs(1));
        let later = account.login_with(COSMO, NEW_PASSWORD, CURL).await;
        assert_eq!(
            ids(account.list(&later.access).await.sessions()),
            [later.session.clone(), kept.session.clone()],
            "the kept session is one the user sees"
        );
        assert_eq!(account.profile(&kept.access).await.status, StatusCode::OK);

        let answer = account.logout(scope, &later.access).await;
        assert_eq!(answer.status, StatusCode::OK, "{scope}: {answer:?}");
        assert!(
            account
                .profile(&kept.access)
                .await
                .is(StatusCode::UNAUTHORIZED, REVOKED),
            "{scope}: the kept session's access token still works"
        );
        assert!(
            account
                .refresh(&kept.refresh)
                .await
                .is(StatusCode::UNAUTHORIZED, REVOKED),
            "{scope}: the kept session's refresh token still works"
        );
        assert!(!account.authorizer_allows(&kept.access).await, "{scope}");
        let later_lives = account.profile(&later.access).await.status == StatusCode::OK;
        assert_eq!(later_lives, scope == "others", "{scope}");
    }
}

/// RFC 7009 has a logout of a token that is revoked or expired answer 200; so anyone holding an
/// old token (from a log, a shared machine, a proxy) may replay it for ever. Each replay wrote
/// a `logout` entry to the victim's log: without end, and in memory pushing out the oldest
/// (the log keeps 1,000 a user). A logout is logged once, when it ends something still live.
async fn a_token_replayed_at_logout_once_revoked_or_expired_adds_nothing_to_its_users_log(
    backend: Backend,
) {
    let account = Account::new(backend, &[]).await;
    let victim = account.login(COSMO, FIREFOX).await;
    // A logout with both tokens ends the session: one entry.
    let answer = account
        .send(
            Function::Logout,
            Method::POST,
            "/logout",
            &[("authorization", &format!("Bearer {}", victim.access))],
            Some(json!({"refresh_token": victim.refresh})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(logouts(&account.stored_entries(COSMO).await), 1);

    // Replayed, each token alone and both at once: 200 each time, nothing more logged.
    for _ in 0..10 {
        for token in [&victim.access, &victim.refresh] {
            let answer = account.logout("local", token).await;
            assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        }
        let answer = account
            .send(
                Function::Logout,
                Method::POST,
                "/logout",
                &[("authorization", &format!("Bearer {}", victim.access))],
                Some(json!({"refresh_token": victim.refresh})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    assert_eq!(
        logouts(&account.stored_entries(COSMO).await),
        1,
        "a replay of a revoked token is logged"
    );

    // An access token past its life ends nothing (its session lives on, by its refresh token),
    // however often it comes: nothing is logged either.
    let idle = account.login(COSMO, CURL).await;
    account.advance(PAST_AN_ACCESS_TOKEN);
    for _ in 0..10 {
        let answer = account.logout("local", &idle.access).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    assert_eq!(
        logouts(&account.stored_entries(COSMO).await),
        1,
        "a replay of an expired token is logged"
    );
    // Its refresh token still ends its session, and that is logged, once.
    for _ in 0..3 {
        let answer = account.logout("local", &idle.refresh).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    assert!(
        account
            .refresh(&idle.refresh)
            .await
            .is(StatusCode::UNAUTHORIZED, REVOKED)
    );
    assert_eq!(logouts(&account.stored_entries(COSMO).await), 2);
}

/// A session's refresh token has expired (no rotation: a login's refresh token is its last),
/// but the access token its last refresh bought lives on for its own life. `global` must end
/// it: it was left alone, not being listed any more.
async fn global_ends_the_access_token_of_a_session_whose_refresh_token_expired_since(
    backend: Backend,
) {
    let account = Account::new(backend, &[("JWT_REFRESH_TOKEN_EXPIRES", "60")]).await;
    let thief = account.login(COSMO, CURL).await;
    account.advance(Duration::from_secs(50));
    let refreshed = account.refresh(&thief.refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{refreshed:?}");
    let last_access = refreshed.token("access_token");
    // Past the refresh token's end, within the access token's life.
    account.advance(Duration::from_secs(20));
    assert_eq!(account.profile(&last_access).await.status, StatusCode::OK);
    assert!(account.authorizer_allows(&last_access).await);
    let owner = account.login(COSMO, FIREFOX).await;

    let answer = account.logout("global", &owner.access).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert!(
        account
            .profile(&last_access)
            .await
            .is(StatusCode::UNAUTHORIZED, REVOKED),
        "a token of the user's still works after global"
    );
    assert!(!account.authorizer_allows(&last_access).await);
    assert!(
        account
            .profile(&owner.access)
            .await
            .is(StatusCode::UNAUTHORIZED, REVOKED)
    );
}

/// 1,000 sessions of one user begun in one second (a script's burst of logins): every page of
/// them, and a logout of the others, takes a few reads of the index each, not one read per
/// page's worth of the second.
async fn a_flood_of_sessions_in_one_second_lists_and_ends_in_a_few_reads_a_page(backend: Backend) {
    const FLOOD: usize = 1_000;
    let account = Account::new(backend, &[]).await;
    // After the account's creation, which dates every session before it as ended.
    account.advance(Duration::from_secs(2));
    let second = account.now();
    let store = account.functions.sessions();
    let started = stream::iter(0..FLOOD)
        .map(|n| async move {
            let session = format!("flood-{n:04}");
            store
                .start_session(&SessionStart {
                    session: &session,
                    username: COSMO,
                    started_at: second,
                    refresh_until: second + 3_600,
                    record_until: second + 7_200,
                    source_ip: Some(HOME),
                    user_agent: Some(CURL),
                    methods: AuthMethods::Password,
                })
                .await
                .unwrap();
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    assert_eq!(started.len(), FLOOD);
    account.advance(Duration::from_secs(1));
    let caller = account.login(COSMO, CURL).await;
    account.operations().await;

    // The newest alone: the caller's.
    let first = account
        .account(Method::GET, "/sessions?limit=1", &caller.access)
        .await;
    assert_eq!(ids(first.sessions()), [caller.session.as_str()]);
    let second_page = account
        .account(
            Method::GET,
            &format!("/sessions?limit=1&cursor={}", first.token("next_cursor")),
            &caller.access,
        )
        .await;
    assert_eq!(second_page.sessions().len(), 1);
    let queries = account.operations().await;
    assert!(
        queries.len() <= 6,
        "two pages of one session: {} reads",
        queries.len()
    );

    // Every one of them, a page at a time, once each.
    let mut seen = HashSet::new();
    let mut path = "/sessions?limit=100".to_owned();
    let mut pages = 0;
    loop {
        let page = account.account(Method::GET, &path, &caller.access).await;
        pages += 1;
        for id in ids(page.sessions()) {
            assert!(seen.insert(id.clone()), "{id} listed twice");
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("/sessions?limit=100&cursor={next}"),
            None => break,
        }
        assert!(pages <= 11, "more pages than sessions");
    }
    assert_eq!(seen.len(), FLOOD + 1);
    let reads = account.operations().await;
    assert!(
        reads.len() <= 3 * pages,
        "{pages} pages of a hundred: {} reads",
        reads.len()
    );

    // Signing out the others ends all 1,000 (read and ended through the logout's own state).
    let answer = account.logout("others", &caller.access).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        ids(account.list(&caller.access).await.sessions()),
        [caller.session.as_str()]
    );
    assert_eq!(account.stored_sessions(COSMO).await.len(), 1);
}

/// `DELETE /sessions/{id}` with every kind of id a prober tries: each is the same 404, byte for
/// byte, and nothing ends (the victim's session goes on, and nobody's log says anything).
async fn no_session_id_tells_an_unknown_from_another_users_or_an_ended_one(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let attacker = account.login(WANDA, CURL).await;
    let victim = account.login(COSMO, FIREFOX).await;
    let victim_ended = account.login(COSMO, FIREFOX).await;
    assert_eq!(
        account
            .end(&victim_ended.session, &victim.access)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let attacker_ended = account.login(WANDA, CURL).await;
    assert_eq!(
        account
            .logout("local", &attacker_ended.refresh)
            .await
            .status,
        StatusCode::OK
    );
    let reference = account
        .end("00000000-0000-4000-8000-0000000000e1", &attacker.access)
        .await;
    assert!(
        reference.is(StatusCode::NOT_FOUND, NOT_FOUND),
        "{reference:?}"
    );
    let upper = victim.session.to_uppercase();
    let huge = "a".repeat(10_000);
    let encoded: String = victim
        .session
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    for id in [
        victim.session.as_str(),
        victim_ended.session.as_str(),
        attacker_ended.session.as_str(),
        upper.as_str(),
        encoded.as_str(),
        huge.as_str(),
        "..",
        "%2E%2E",
        "%C3%A9",
        "%E2%80%AE",
        "session%23x",
        "token%23x",
        "%20",
        "*",
        "0",
    ] {
        let answer = account.end(id, &attacker.access).await;
        assert_eq!(
            (answer.status, &answer.text),
            (reference.status, &reference.text),
            "{id}"
        );
    }
    assert_eq!(account.profile(&victim.access).await.status, StatusCode::OK);
    assert_eq!(
        account.refresh(&victim.refresh).await.status,
        StatusCode::OK
    );
    for username in [COSMO, WANDA] {
        let ended = account
            .stored_entries(username)
            .await
            .iter()
            .filter(|entry| entry.event == ActivityEvent::SessionEnded)
            .count();
        // Cosmo ended one of his own; nobody else ended anything.
        assert_eq!(ended, usize::from(username == COSMO), "{username}");
    }
}

/// A password change from one session ends the user's others; `DELETE` of one of those is the
/// 404 of any ended session, byte for byte, and logs nothing. The session the change kept is
/// live, and a later session ends it as any other.
async fn a_session_a_password_change_ended_is_not_found_and_the_kept_one_ends(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let kept = account.login(COSMO, FIREFOX).await;
    let ended = account.login(COSMO, CURL).await;
    account.advance(Duration::from_secs(1));
    account.change_password(&kept.access).await;
    account.advance(Duration::from_secs(1));
    let reference = account
        .end("00000000-0000-4000-8000-0000000000e1", &kept.access)
        .await;
    assert!(
        reference.is(StatusCode::NOT_FOUND, NOT_FOUND),
        "{reference:?}"
    );
    let answer = account.end(&ended.session, &kept.access).await;
    assert_eq!(
        (answer.status, &answer.text),
        (reference.status, &reference.text),
        "a session the password change ended"
    );

    let later = account.login_with(COSMO, NEW_PASSWORD, CURL).await;
    assert_eq!(
        account.end(&kept.session, &later.access).await.status,
        StatusCode::NO_CONTENT,
        "the kept session is live until ended"
    );
    assert!(
        account
            .refresh(&kept.refresh)
            .await
            .is(StatusCode::UNAUTHORIZED, REVOKED)
    );
    assert_eq!(
        ids(account.list(&later.access).await.sessions()),
        [later.session.as_str()]
    );
    let ended_entries: Vec<Option<String>> = account
        .stored_entries(COSMO)
        .await
        .into_iter()
        .filter(|entry| entry.event == ActivityEvent::SessionEnded)
        .map(|entry| entry.session)
        .collect();
    assert_eq!(ended_entries, [Some(kept.session.clone())]);
}

fn cursor_of(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

/// Cursors forged, taken from another user, from the other listing, or damaged: a 400 or a
/// page of the caller's own sessions, never a 500 (over DynamoDB, no cursor reaches a key the
/// store would refuse), never a session or an entry of another user.
async fn a_forged_cursor_is_a_400_or_a_page_of_the_callers_own_never_a_500(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let mut wanda = Vec::new();
    for _ in 0..3 {
        wanda.push(account.login(WANDA, FIREFOX).await);
        account.advance(Duration::from_secs(1));
    }
    let caller = account.login(COSMO, CURL).await;
    let wandas = |answer: &Answer| {
        wanda
            .iter()
            .any(|login| answer.text.contains(&login.session))
    };
    // Wanda's own cursors, of both listings.
    let of_wanda = account
        .account(Method::GET, "/sessions?limit=1", &wanda[2].access)
        .await
        .token("next_cursor");
    account.settled().await;
    let activity_of_wanda = account
        .account(Method::GET, "/account/activity?limit=1", &wanda[2].access)
        .await
        .token("next_cursor");
    let session_cursors = [
        of_wanda.clone(),
        cursor_of(&format!(
            r#"{{"t":{},"s":"{}"}}"#,
            account.now() + 5,
            wanda[0].session
        )),
        cursor_of(r#"{"t":9223372036854775807,"s":"zzzz"}"#),
        cursor_of(r#"{"t":-9223372036854775808,"s":"a"}"#),
        cursor_of(r#"{"t":0,"s":"a"}"#),
        cursor_of(&format!(r#"{{"t":1,"s":"{}"}}"#, "z".repeat(128))),
        // serde reads a struct from an array too: the same cursor, spelt otherwise.
        cursor_of(r#"[1,"a"]"#),
    ];
    let activity_cursors = [
        activity_of_wanda.clone(),
        cursor_of(r#"{"b":"9999999999999999#ffffffff"}"#),
        cursor_of(r#"{"b":"0000000000000000#00000000"}"#),
        cursor_of(r#"{"b":"9999999999999999#FFFFFFFF"}"#),
    ];
    let listed = [
        ("/sessions", &session_cursors[..]),
        ("/account/activity", &activity_cursors[..]),
    ];
    for (path, cursors) in listed {
        for cursor in cursors {
            let answer = account
                .account(
                    Method::GET,
                    &format!("{path}?cursor={cursor}"),
                    &caller.access,
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{path} {cursor}: {answer:?}");
            assert!(!wandas(&answer), "{path} {cursor}: {answer:?}");
        }
    }
    let refused = [
        cursor_of(r#"{"t":1e30,"s":"a"}"#),
        cursor_of(r#"{"t":99999999999999999999,"s":"a"}"#),
        cursor_of(r#"{"t":1.5,"s":"a"}"#),
        cursor_of(r#"{"t":null,"s":"a"}"#),
        cursor_of(r#"{"t":1,"s":["a"]}"#),
        cursor_of(r#"{"t":1,"s":"a","t":2}"#),
        cursor_of(r#"{"t":1,"s":"session#x"}"#),
        cursor_of(r#"{"t":1,"s":"..\/x"}"#),
        cursor_of(&format!(r#"{{"t":1,"s":"{}"}}"#, "z".repeat(129))),
        cursor_of(r#"{"b":"1#0"}"#),
        cursor_of("\u{0}"),
        "%FF%FE".to_owned(),
        "eyJ0IjoxLCJzIjoiYSJ9====".to_owned(),
        "A".repeat(60_000),
        "%00".to_owned(),
        "%E2%80%AE".to_owned(),
    ];
    for cursor in &refused {
        for path in ["/sessions", "/account/activity"] {
            let answer = account
                .account(
                    Method::GET,
                    &format!("{path}?cursor={cursor}"),
                    &caller.access,
                )
                .await;
            assert!(
                answer.is(StatusCode::BAD_REQUEST, "Invalid cursor"),
                "{path} {cursor:.40}: {answer:?}"
            );
        }
    }
    // Each listing's cursor is none of the other's.
    for (path, cursor) in [
        ("/account/activity", &of_wanda),
        ("/sessions", &activity_of_wanda),
    ] {
        let crossed = account
            .account(
                Method::GET,
                &format!("{path}?cursor={cursor}"),
                &caller.access,
            )
            .await;
        assert!(
            crossed.is(StatusCode::BAD_REQUEST, "Invalid cursor"),
            "{path}: {crossed:?}"
        );
    }
    for limit in [
        "0",
        "101",
        "-1",
        "1e2",
        "0x10",
        "18446744073709551617",
        "%31",
    ] {
        let answer = account
            .account(
                Method::GET,
                &format!("/sessions?limit={limit}"),
                &caller.access,
            )
            .await;
        assert_ne!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{limit}");
        assert!(!wandas(&answer), "{limit}");
    }
}

/// A user agent is the client's to write: a long one, one with markup, quotes, tabs. What the
/// store keeps of it is bounded and holds no control character, what answers show are known
/// names, and no stored item or answer holds a password or a token.
async fn a_hostile_user_agent_is_stored_bounded_and_no_entry_holds_a_secret(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let long = format!("Firefox/133.0 {}", "<b>x</b>".repeat(2_000));
    let hostile = [
        long.as_str(),
        "curl/8.5.0\t\tX-Forwarded-For: 1.2.3.4",
        "\"},{\"id\":\"forged\",\"current\":true} Chrome/1",
        "Mozilla/5.0 (<script>alert(document.cookie)</script>) Firefox/99999999",
    ];
    let failed = account
        .try_login(COSMO, "not-the-password-1", hostile[1])
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{failed:?}");
    let mut logins = Vec::new();
    for agent in hostile {
        logins.push(account.login(COSMO, agent).await);
    }
    let caller = &logins[0];
    assert_eq!(
        account.refresh(&caller.refresh).await.status,
        StatusCode::OK
    );
    let listed = account.list(&caller.access).await;
    account.settled().await;
    let activity = account
        .account(Method::GET, "/account/activity", &caller.access)
        .await;
    for answer in [&listed, &activity] {
        for fragment in ["<b>", "<script", "forged", "\\t", "X-Forwarded", "99999999"] {
            assert!(
                !answer.text.contains(fragment),
                "{fragment}: {}",
                answer.text
            );
        }
    }
    let stored_agents: Vec<String> = account
        .stored_sessions(COSMO)
        .await
        .into_iter()
        .filter_map(|session| session.user_agent)
        .chain(
            account
                .stored_entries(COSMO)
                .await
                .into_iter()
                .filter_map(|entry| entry.user_agent),
        )
        .collect();
    assert!(
        stored_agents.len() >= 2 * hostile.len(),
        "{stored_agents:?}"
    );
    for agent in &stored_agents {
        assert!(agent.len() <= 512, "{} bytes kept", agent.len());
        assert!(!agent.chars().any(char::is_control), "{agent:?}");
    }
    // No stored item, no answer holds a password, a token or a part of one.
    let stored = format!(
        "{:?}{:?}",
        account.stored_sessions(COSMO).await,
        account.stored_entries(COSMO).await
    );
    for login in &logins {
        for token in [&login.access, &login.refresh] {
            let signature = token.rsplit('.').next().unwrap();
            for text in [&stored, &listed.text, &activity.text] {
                assert!(!text.contains(signature), "a token's signature is kept");
            }
        }
    }
    for secret in [PASSWORD, "not-the-password-1"] {
        for text in [&stored, &listed.text, &activity.text] {
            assert!(!text.contains(secret), "{secret} is kept");
        }
    }
}

/// What an attacker without the password can make the service write in a user's log: wrong
/// passwords are logged up to the lock (and the lock once), never the refusals while locked;
/// a spent refresh token's replay once (it ends the session), not again; a login for a name
/// nobody has, nothing.
async fn unauthenticated_replays_write_a_bounded_number_of_entries(backend: Backend) {
    let account = Account::new(
        backend,
        &[
            ("LOGIN_MAX_FAILURES", "3"),
            ("JWT_REFRESH_TOKEN_ROTATION", "true"),
            ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
        ],
    )
    .await;
    for _ in 0..12 {
        let refused = account.try_login(COSMO, "guess", CURL).await;
        assert!(
            matches!(
                refused.status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{refused:?}"
        );
        let unknown = account.try_login("nobody-here", "guess", CURL).await;
        assert!(!unknown.status.is_success(), "{unknown:?}");
    }
    let entries = account.stored_entries(COSMO).await;
    let logins: Vec<(&str, Option<&str>)> = entries
        .iter()
        .map(|entry| (entry.outcome.name(), entry.detail.as_deref()))
        .collect();
    assert_eq!(
        logins,
        [
            ("blocked", Some("too_many_attempts")),
            ("failure", Some("wrong_password")),
            ("failure", Some("wrong_password")),
            ("failure", Some("wrong_password")),
        ],
        "{entries:?}"
    );
    assert!(account.stored_entries("nobody-here").await.is_empty());

    // A stolen, spent refresh token, replayed: the first replay ends the session (logged),
    // the rest are refused as revoked, and logged no more.
    let other = Account::new(
        backend,
        &[
            ("JWT_REFRESH_TOKEN_ROTATION", "true"),
            ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
        ],
    )
    .await;
    let victim = other.login(COSMO, FIREFOX).await;
    assert_eq!(other.refresh(&victim.refresh).await.status, StatusCode::OK);
    for _ in 0..10 {
        assert!(
            other
                .refresh(&victim.refresh)
                .await
                .is(StatusCode::UNAUTHORIZED, REVOKED)
        );
    }
    let replays = other
        .stored_entries(COSMO)
        .await
        .iter()
        .filter(|entry| entry.detail.as_deref() == Some("reuse_detected"))
        .count();
    assert_eq!(replays, 1);
}

/// `others` and `global` reach beyond the request: a token that is expired, revoked, of the
/// wrong kind in the body, or of a user since disabled ends nothing, and nothing is logged.
async fn scopes_beyond_the_request_need_a_live_token_of_a_user_still_allowed_in(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let bystander = account.login(COSMO, FIREFOX).await;
    let revoked = account.login(COSMO, CURL).await;
    assert_eq!(
        account.logout("local", &revoked.access).await.status,
        StatusCode::OK
    );
    let expired = account.login(COSMO, CURL).await;
    let before = logouts(&account.stored_entries(COSMO).await);
    for scope in ["others", "global"] {
        let answer = account.logout(scope, &revoked.access).await;
        assert!(
            answer.is(StatusCode::UNAUTHORIZED, REVOKED),
            "{scope}: {answer:?}"
        );
    }
    account.advance(PAST_AN_ACCESS_TOKEN);
    let bystander_access = account
        .refresh(&bystander.refresh)
        .await
        .token("access_token");
    for scope in ["others", "global"] {
        assert!(
            account
                .logout(scope, &expired.access)
                .await
                .is(StatusCode::UNAUTHORIZED, "Token has expired"),
            "{scope}"
        );
        // A refresh token in the body is one; an access token there is refused.
        let wrong_kind = account
            .send(
                Function::Logout,
                Method::POST,
                &format!("/logout?scope={scope}"),
                &[],
                Some(json!({"refresh_token": bystander_access})),
            )
            .await;
        assert_eq!(
            wrong_kind.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{wrong_kind:?}"
        );
    }
    // A token of another key, or one whose payload was changed, is no token of ours.
    let (header, _) = bystander_access.split_once('.').unwrap();
    let payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": WANDA, "type": "access", "jti": "x", "sid": "y", "exp": i64::MAX})
            .to_string(),
    );
    let signature = bystander_access.rsplit('.').next().unwrap();
    let forged = format!("{header}.{payload}.{signature}");
    for scope in ["others", "global", "local"] {
        let answer = account.logout(scope, &forged).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{scope}: {answer:?}"
        );
    }
    assert_eq!(
        account.profile(&bystander_access).await.status,
        StatusCode::OK
    );
    assert_eq!(logouts(&account.stored_entries(COSMO).await), before);
    assert!(account.stored_entries(WANDA).await.is_empty());

    // A disabled user's live token ends nothing beyond itself.
    let live = account.login(COSMO, CURL).await;
    account.disable(COSMO).await;
    for scope in ["others", "global"] {
        let refused = account.logout(scope, &live.access).await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{scope}: {refused:?}"
        );
    }
    // Every session lives on (a local logout of an access token ends that token alone).
    assert_eq!(account.stored_sessions(COSMO).await.len(), 4);
}

/// The order a real client takes: idle past its access token's life, it is refused (expired),
/// refreshes, lists (its session current, refreshed now), and signs the others out.
async fn a_client_idle_past_its_access_token_refreshes_then_lists_and_signs_out_the_others(
    backend: Backend,
) {
    let account = Account::new(backend, &[]).await;
    let elsewhere = account.login(COSMO, FIREFOX).await;
    account.advance(Duration::from_secs(1));
    let client = account.login(COSMO, CURL).await;
    account.advance(PAST_AN_ACCESS_TOKEN);
    for refused in [
        account.list(&client.access).await,
        account.logout("others", &client.access).await,
    ] {
        assert!(
            refused.is(StatusCode::UNAUTHORIZED, "Token has expired"),
            "{refused:?}"
        );
    }
    let access = account.refresh(&client.refresh).await.token("access_token");
    let listed = account.list(&access).await;
    let sessions = listed.sessions();
    assert_eq!(
        ids(sessions),
        [client.session.clone(), elsewhere.session.clone()]
    );
    assert_eq!(sessions[0]["current"], true);
    assert!(sessions[0]["last_refreshed_at"].is_string(), "{listed:?}");
    assert_eq!(
        account.logout("others", &access).await.status,
        StatusCode::OK
    );
    assert!(
        account
            .refresh(&elsewhere.refresh)
            .await
            .is(StatusCode::UNAUTHORIZED, REVOKED)
    );
    assert_eq!(
        ids(account.list(&access).await.sessions()),
        [client.session.as_str()]
    );
    assert_eq!(
        account.refresh(&client.refresh).await.status,
        StatusCode::OK
    );
}

/// DynamoDB's TTL deletes an entry days after its end; until then a listing reads it and its
/// filter drops it. A user whose log holds a thousand such entries behind a few live ones (a
/// busy week three months ago): each page reads past them in a few reads, not a page's worth
/// at a time (five hundred at `limit=1`, past the request's time).
async fn a_log_behind_a_thousand_entries_past_their_retention_lists_in_a_few_reads(
    backend: Backend,
) {
    const LINGERING: i64 = 1_000;
    let account = Account::new(backend, &[]).await;
    let log = account.functions.activity().log().unwrap();
    let long_ago_micros = (account.now() - 100 * 86_400) * 1_000_000;
    let written = stream::iter(0..LINGERING)
        .map(|n| async move {
            let at = long_ago_micros + n;
            let entry = ActivityEntry {
                id: entry_id(at),
                at_ms: at / 1_000,
                event: ActivityEvent::Refresh,
                outcome: ActivityOutcome::Succeeded,
                detail: None,
                session: None,
                source_ip: Some(HOME.to_owned()),
                user_agent: Some(CURL.to_owned()),
            };
            // Its retention ended ten days ago.
            log.append(COSMO, &entry, at / 1_000_000 + 90 * 86_400)
                .await
                .unwrap();
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    assert_eq!(written.len(), LINGERING as usize);
    let caller = account.login(COSMO, CURL).await;
    account.settled().await;
    account.operations().await;
    for path in ["/account/activity?limit=1", "/account/activity"] {
        let page = account.account(Method::GET, path, &caller.access).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let events = page.body["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "the login alone is in force: {page:?}");
        assert!(page.body.get("next_cursor").is_none(), "{page:?}");
        let reads = account.operations().await;
        assert!(reads.len() <= 3, "{path}: {} reads", reads.len());
    }
}

/// In cookie mode the browser sends the cookies with any site's POST: without the page's
/// `X-CSRF-TOKEN` (or with another session's), `global` and `others` end nothing, a `DELETE`
/// ends no session, and nothing is logged.
async fn in_cookie_mode_another_sites_post_signs_nobody_out_and_ends_no_session(backend: Backend) {
    let account = Account::new(backend, &[("JWT_TOKEN_LOCATION", "cookies")]).await;
    let mut browsers = Vec::new();
    for _ in 0..2 {
        let login = account.try_login(COSMO, PASSWORD, FIREFOX).await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        browsers.push(login);
    }
    account.settled().await;
    let before = account.stored_entries(COSMO).await.len();
    let cookies: Vec<(String, String)> = browsers
        .iter()
        .map(|login| {
            let access = &login.cookies["access_token_cookie"];
            let csrf = login.cookies["csrf_access_token"].clone();
            (format!("access_token_cookie={access}"), csrf)
        })
        .collect();
    let (cookie, _) = &cookies[0];
    let (_, other_csrf) = &cookies[1];
    let other_session = account.stored_sessions(COSMO).await[0].id.clone();
    for csrf in [None, Some(other_csrf.as_str()), Some("")] {
        let mut headers = vec![("cookie", cookie.as_str())];
        if let Some(csrf) = csrf {
            headers.push(("x-csrf-token", csrf));
        }
        for scope in ["global", "others", "local"] {
            let answer = account
                .send(
                    Function::Logout,
                    Method::POST,
                    &format!("/logout?scope={scope}"),
                    &headers,
                    None,
                )
                .await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{scope} {csrf:?}: {answer:?}"
            );
        }
        let answer = account
            .send(
                Function::Sessions,
                Method::DELETE,
                &format!("/sessions/{other_session}"),
                &headers,
                None,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{csrf:?}: {answer:?}"
        );
    }
    assert_eq!(account.stored_sessions(COSMO).await.len(), 2);
    assert_eq!(account.stored_entries(COSMO).await.len(), before);
}

//! What a user sees of their account (issue 30), end to end through the handlers, over both
//! stores: their sessions (`GET /sessions`), ending one (`DELETE /sessions/{id}`), and their
//! activity log (`GET /account/activity`). Logins, refreshes and logouts go through their own
//! functions, and the account's routes through the sessions function, each with a state of its
//! own over the same stores and clock, as each Lambda has; the requests come as API Gateway's
//! events do (the route's key, its path parameters, the source address, the user agent). Over
//! DynamoDB the sessions function reaches the tables through a proxy that records each
//! operation, checked against its IAM policy in `template.yaml`: a listing is a Query, never a
//! Scan.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use auth_admin::UserAdmin;
use auth_core::{
    AppState, Function, Stores,
    activity::{Activity, ActivityEvent, ActivityLog, ActivityOutcome, InMemoryActivityLog},
    clock::Clock,
    metrics::{Event, MetricSink, Metrics},
    sessions::InMemorySessionStore,
    users::InMemoryUserStore,
};
use auth_testkit::{
    dynamodb_endpoint, fresh_dynamodb_activity, fresh_dynamodb_sessions, fresh_dynamodb_store,
    payload_of, request, settings_with, user_with_password,
};
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
    three_logins_list_three_sessions_newest_first_one_of_them_current,
    ending_another_session_refuses_its_tokens_from_the_next_request,
    another_users_session_is_not_found_and_goes_on,
    an_unknown_a_malformed_or_an_ended_session_is_the_same_404,
    a_caller_may_end_its_own_session,
    many_sessions_list_a_page_at_a_time_without_duplicates,
    a_bad_limit_or_cursor_is_a_400_in_json,
    a_token_profile_refuses_is_refused_at_every_route,
    a_scripted_story_is_in_the_activity_log_newest_first,
    the_activity_log_lists_a_page_at_a_time,
    nothing_of_a_hostile_user_agent_is_shown_but_known_names_and_digits,
    in_cookie_mode_a_listing_needs_no_csrf_value_and_ending_a_session_does,
    a_password_change_lists_the_session_it_kept_and_none_it_ended,
);

const COSMO: &str = "cosmo";
const WANDA: &str = "wanda";
const HOME: &str = "198.51.100.7";
const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const CURL: &str = "curl/8.5.0";
const NOT_FOUND: &str = "Session not found";
const NEW_PASSWORD: &str = "violet lantern orbit";
const ROTATION: [(&str, &str); 2] = [
    ("JWT_REFRESH_TOKEN_ROTATION", "true"),
    ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
];

/// The security events the sessions function counted.
#[derive(Debug, Default)]
struct Counted(Mutex<Vec<Event>>);

impl MetricSink for Counted {
    fn write_line(&self, _: Function, event: Event, _: &str) {
        self.0.lock().unwrap().push(event);
    }
}

/// An answer: its status, its body (`null` for none), and the headers the routes promise.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: Value,
    cache_control: Option<String>,
    text: String,
}

impl Answer {
    fn token(&self, name: &str) -> String {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
            .to_owned()
    }

    fn is(&self, status: StatusCode, msg: &str) -> bool {
        self.status == status && self.body == json!({ "msg": msg })
    }

    /// The sessions of a listing's answer.
    fn sessions(&self) -> &Vec<Value> {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.body["sessions"]
            .as_array()
            .unwrap_or_else(|| panic!("no sessions in {self:?}"))
    }

    fn events(&self) -> &Vec<Value> {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.body["events"]
            .as_array()
            .unwrap_or_else(|| panic!("no events in {self:?}"))
    }
}

/// A session's tokens, and its id.
struct Login {
    access: String,
    refresh: String,
    session: String,
}

/// The service: the token functions' state and the sessions function's, over the same stores
/// and clock, with two users, cosmo and wanda.
struct Account {
    functions: AppState,
    sessions: AppState,
    /// Over DynamoDB, the operations the sessions function made.
    operations: Option<StoreOperations>,
    counted: Arc<Counted>,
}

impl Account {
    async fn new(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let users = [
            user_with_password(COSMO, PASSWORD, json!({"id": 1})),
            user_with_password(WANDA, PASSWORD, json!({"id": 2})),
        ];
        let (functions, sessions, operations) = match backend {
            Backend::Memory => {
                let (users, sessions) = (
                    Arc::new(InMemoryUserStore::new(users)),
                    Arc::new(InMemorySessionStore::default()),
                );
                // The self-service stores too: a password change is part of a story.
                let stores = Stores::separate(users.clone(), sessions.clone())
                    .with_accounts(users, sessions)
                    .with_activity(Arc::new(InMemoryActivityLog::default()));
                (stores.clone(), stores, None)
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
                (functions, sessions, Some(recorded))
            }
        };
        let settings = settings_with(overrides);
        let clock = Clock::manual_at(Clock::System.now());
        let counted = Arc::new(Counted::default());
        let state = |stores, metrics| {
            AppState::builder(&settings, stores)
                .clock(clock.clone())
                .password_workers(2)
                .metrics(metrics)
                .build()
                .unwrap()
        };
        Self {
            functions: state(functions, Metrics::off()),
            sessions: state(sessions, Metrics::to(Function::Sessions, counted.clone())),
            operations,
            counted,
        }
    }

    /// `method path` of `function`, as API Gateway delivers it: the route's key and path
    /// parameters, the source address, the user agent, and `headers`.
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
        let parameters: std::collections::HashMap<String, String> = route
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
        let text = match response.body() {
            Body::Text(text) => text.clone(),
            Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        let body = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text:?}")),
        };
        let answer = Answer {
            status: response.status(),
            body,
            cache_control: response
                .headers()
                .get("cache-control")
                .map(|value| value.to_str().unwrap().to_owned()),
            text,
        };
        if function == Function::Sessions {
            // Where a user signs in from is theirs alone: no cache keeps it.
            assert_eq!(
                answer.cache_control.as_deref(),
                Some("no-store"),
                "{answer:?}"
            );
            if answer.status == StatusCode::NO_CONTENT {
                assert!(answer.text.is_empty(), "{answer:?}");
            } else {
                assert!(answer.body.is_object(), "{answer:?}");
            }
        }
        answer
    }

    /// A route of the sessions function, with `access` as the bearer.
    async fn account(&self, method: Method, path: &str, access: &str) -> Answer {
        let authorization = format!("Bearer {access}");
        self.send(
            Function::Sessions,
            method,
            path,
            &[("authorization", &authorization)],
            None,
        )
        .await
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

    /// The activity log, once every write started so far has ended.
    async fn activity(&self, access: &str) -> Answer {
        self.settled().await;
        self.account(Method::GET, "/account/activity", access).await
    }

    async fn settled(&self) {
        self.functions.activity().settled().await;
        self.sessions.activity().settled().await;
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
        let session = payload_of(&access)["sid"]
            .as_str()
            .expect("a login's token names its session")
            .to_owned();
        Login {
            access,
            refresh: answer.token("refresh_token"),
            session,
        }
    }

    async fn refresh(&self, refresh: &str) -> Answer {
        let authorization = format!("Bearer {refresh}");
        self.send(
            Function::Refresh,
            Method::POST,
            "/refresh",
            &[("authorization", &authorization)],
            None,
        )
        .await
    }

    async fn profile(&self, access: &str) -> Answer {
        let authorization = format!("Bearer {access}");
        self.send(
            Function::Profile,
            Method::GET,
            "/profile",
            &[("authorization", &authorization)],
            None,
        )
        .await
    }

    async fn logout(&self, access: &str) -> Answer {
        let authorization = format!("Bearer {access}");
        self.send(
            Function::Logout,
            Method::POST,
            "/logout",
            &[("authorization", &authorization)],
            None,
        )
        .await
    }

    /// The events the sessions function counted since the last call.
    fn counted(&self) -> Vec<Event> {
        std::mem::take(&mut *self.counted.0.lock().unwrap())
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

async fn three_logins_list_three_sessions_newest_first_one_of_them_current(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let firefox = account.login(COSMO, FIREFOX_ON_LINUX).await;
    account.sessions.clock().advance(Duration::from_secs(5));
    let iphone = account.login(COSMO, SAFARI_ON_IPHONE).await;
    account.sessions.clock().advance(Duration::from_secs(5));
    let curl = account.login(COSMO, CURL).await;
    // Another user's session is not among them.
    account.login(WANDA, CURL).await;

    let listed = account.list(&iphone.access).await;
    let sessions = listed.sessions();
    assert_eq!(
        ids(sessions),
        [
            curl.session.as_str(),
            iphone.session.as_str(),
            firefox.session.as_str()
        ],
        "newest first: {listed:?}"
    );
    assert!(listed.body.get("next_cursor").is_none(), "{listed:?}");
    let current: Vec<&Value> = sessions
        .iter()
        .filter(|session| session["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    assert_eq!(current[0]["id"], iphone.session.as_str());
    let devices: Vec<&Value> = sessions.iter().map(|session| &session["device"]).collect();
    assert_eq!(
        devices,
        [
            &json!({"browser": "curl 8.5", "os": "Unknown"}),
            &json!({"browser": "Safari 17", "os": "iOS"}),
            &json!({"browser": "Firefox 133", "os": "Linux"}),
        ]
    );
    for session in sessions {
        assert_eq!(session["ip_address"], HOME, "{session}");
        assert_eq!(session["amr"], json!(["pwd"]), "{session}");
        assert_eq!(session["last_refreshed_at"], Value::Null, "{session}");
    }
    // The raw user agents are stored, never shown.
    for raw in [FIREFOX_ON_LINUX, SAFARI_ON_IPHONE, "Gecko", "Mozilla"] {
        assert!(!listed.text.contains(raw), "{raw} in {}", listed.text);
    }

    // A refresh is when the session was last refreshed.
    account.sessions.clock().advance(Duration::from_secs(60));
    let refreshed = account.refresh(&firefox.refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{refreshed:?}");
    let listed = account.list(&iphone.access).await;
    let firefox_listed = &listed.sessions()[2];
    assert_eq!(firefox_listed["id"], firefox.session.as_str());
    assert!(
        firefox_listed["last_refreshed_at"].is_string(),
        "{listed:?}"
    );
    assert!(account.counted().is_empty());
}

async fn ending_another_session_refuses_its_tokens_from_the_next_request(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let kept = account.login(COSMO, FIREFOX_ON_LINUX).await;
    let ended = account.login(COSMO, SAFARI_ON_IPHONE).await;
    assert_eq!(account.profile(&ended.access).await.status, StatusCode::OK);

    let answer = account.end(&ended.session, &kept.access).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    assert_eq!(account.counted(), [Event::SessionEnded]);

    assert!(
        account
            .refresh(&ended.refresh)
            .await
            .is(StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    assert!(
        account
            .profile(&ended.access)
            .await
            .is(StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    assert!(
        account
            .list(&ended.access)
            .await
            .is(StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    // The caller's own session goes on, and lists itself alone.
    assert_eq!(account.profile(&kept.access).await.status, StatusCode::OK);
    assert_eq!(account.refresh(&kept.refresh).await.status, StatusCode::OK);
    assert_eq!(
        ids(account.list(&kept.access).await.sessions()),
        [kept.session.as_str()]
    );

    // Its activity log says who ended which session, from where.
    let activity = account.activity(&kept.access).await;
    let entry = activity
        .events()
        .iter()
        .find(|entry| entry["event"] == "session_ended")
        .unwrap_or_else(|| panic!("no session_ended in {activity:?}"));
    assert_eq!(entry["outcome"], "success");
    assert_eq!(entry["detail"], "by_user");
    assert_eq!(entry["session_id"], ended.session.as_str());
    assert_eq!(entry["ip_address"], HOME);
    assert_eq!(
        entry["device"],
        json!({"browser": "curl 8.5", "os": "Unknown"})
    );
}

async fn another_users_session_is_not_found_and_goes_on(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let cosmo = account.login(COSMO, FIREFOX_ON_LINUX).await;
    let wanda = account.login(WANDA, CURL).await;
    let unknown = account
        .end("00000000-0000-4000-8000-0000000000e1", &cosmo.access)
        .await;
    assert!(unknown.is(StatusCode::NOT_FOUND, NOT_FOUND), "{unknown:?}");

    let across = account.end(&wanda.session, &cosmo.access).await;
    // The same answer as an unknown id's, byte for byte: nothing tells them apart.
    assert_eq!(
        (across.status, &across.text),
        (unknown.status, &unknown.text)
    );
    assert!(account.counted().is_empty());
    assert_eq!(account.profile(&wanda.access).await.status, StatusCode::OK);
    assert_eq!(account.refresh(&wanda.refresh).await.status, StatusCode::OK);
    assert_eq!(
        ids(account.list(&wanda.access).await.sessions()),
        [wanda.session.as_str()]
    );
    // Nothing was logged for either of them.
    for login in [&cosmo, &wanda] {
        let activity = account.activity(&login.access).await;
        assert!(
            activity
                .events()
                .iter()
                .all(|entry| entry["event"] != "session_ended"),
            "{activity:?}"
        );
    }
}

async fn an_unknown_a_malformed_or_an_ended_session_is_the_same_404(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let caller = account.login(COSMO, FIREFOX_ON_LINUX).await;
    let other = account.login(COSMO, CURL).await;
    assert_eq!(
        account.end(&other.session, &caller.access).await.status,
        StatusCode::NO_CONTENT
    );
    let logged_out = account.login(COSMO, CURL).await;
    assert_eq!(
        account.logout(&logged_out.refresh).await.status,
        StatusCode::OK
    );
    let long = "a".repeat(2_000);
    for id in [
        other.session.as_str(),
        logged_out.session.as_str(),
        "00000000-0000-4000-8000-0000000000e1",
        "not-a-session",
        "%2E%2E",
        "a%2Fb",
        "%00",
        "token%23x",
        long.as_str(),
    ] {
        let answer = account.end(id, &caller.access).await;
        assert!(
            answer.is(StatusCode::NOT_FOUND, NOT_FOUND),
            "{id}: {answer:?}"
        );
    }
    assert_eq!(account.counted(), [Event::SessionEnded]);
}

async fn a_caller_may_end_its_own_session(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let caller = account.login(COSMO, FIREFOX_ON_LINUX).await;
    let answer = account.end(&caller.session, &caller.access).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    for refused in [
        account.profile(&caller.access).await,
        account.refresh(&caller.refresh).await,
        account.list(&caller.access).await,
    ] {
        assert!(
            refused.is(StatusCode::UNAUTHORIZED, "Token has been revoked"),
            "{refused:?}"
        );
    }
}

async fn many_sessions_list_a_page_at_a_time_without_duplicates(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let mut started = Vec::new();
    for n in 0..25 {
        // Some in one second, some a second apart: pages end inside a second too.
        if n % 4 == 0 {
            account.sessions.clock().advance(Duration::from_secs(1));
        }
        started.push(account.login(COSMO, CURL).await);
    }
    account.operations().await;
    let caller = &started[24];
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/sessions?limit=10".to_owned(),
            Some(cursor) => format!("/sessions?limit=10&cursor={cursor}"),
        };
        let page = account.account(Method::GET, &path, &caller.access).await;
        pages.push(page.sessions().len());
        seen.extend(ids(page.sessions()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages.len() <= 3, "more pages than sessions: {pages:?}");
    }
    assert_eq!(pages, [10, 10, 5]);
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), 25, "a session listed twice: {seen:?}");
    let mut all: Vec<String> = started.iter().map(|login| login.session.clone()).collect();
    all.sort();
    seen.sort();
    assert_eq!(seen, all);

    // Over DynamoDB: one user's sessions are read from their index, never by a Scan.
    let operations = account.operations().await;
    if backend == Backend::DynamoDb {
        assert!(operations.contains(&"Query".to_owned()), "{operations:?}");
        assert!(!operations.contains(&"Scan".to_owned()), "{operations:?}");
    }
}

async fn a_bad_limit_or_cursor_is_a_400_in_json(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let caller = account.login(COSMO, CURL).await;
    let invalid_limit = "limit must be a whole number from 1 to 100";
    let sessions_cursor = {
        let page = account
            .account(Method::GET, "/sessions?limit=1", &caller.access)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        // One session: no next page, so make one of two.
        account.login(COSMO, CURL).await;
        let page = account
            .account(Method::GET, "/sessions?limit=1", &caller.access)
            .await;
        page.token("next_cursor")
    };
    for path in ["/sessions", "/account/activity"] {
        for (query, message) in [
            ("limit=0", invalid_limit),
            ("limit=101", invalid_limit),
            ("limit=-1", invalid_limit),
            ("limit=ten", invalid_limit),
            ("limit=", invalid_limit),
            ("limit=1&limit=2", invalid_limit),
            ("cursor=not-a-cursor", "Invalid cursor"),
            ("cursor=", "Invalid cursor"),
            ("cursor=%7B%22t%22%3A1%7D", "Invalid cursor"),
        ] {
            let answer = account
                .account(Method::GET, &format!("{path}?{query}"), &caller.access)
                .await;
            assert!(
                answer.is(StatusCode::BAD_REQUEST, message),
                "{path}?{query}: {answer:?}"
            );
        }
    }
    // A cursor of one listing is none of the other's.
    let answer = account
        .account(
            Method::GET,
            &format!("/account/activity?cursor={sessions_cursor}"),
            &caller.access,
        )
        .await;
    assert!(
        answer.is(StatusCode::BAD_REQUEST, "Invalid cursor"),
        "{answer:?}"
    );
    assert!(account.counted().is_empty());
}

async fn a_token_profile_refuses_is_refused_at_every_route(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let caller = account.login(COSMO, CURL).await;
    let other = account.login(COSMO, CURL).await;
    let logged_out = account.login(COSMO, CURL).await;
    assert_eq!(
        account.logout(&logged_out.access).await.status,
        StatusCode::OK
    );
    let routes = [
        (Method::GET, "/sessions".to_owned()),
        (Method::GET, "/account/activity".to_owned()),
        (Method::DELETE, format!("/sessions/{}", other.session)),
    ];
    for (method, path) in routes {
        let with_refresh = account
            .account(method.clone(), &path, &caller.refresh)
            .await;
        let at_profile = account
            .send(
                Function::Profile,
                Method::GET,
                "/profile",
                &[("authorization", &format!("Bearer {}", caller.refresh))],
                None,
            )
            .await;
        assert_eq!(
            (with_refresh.status, &with_refresh.body),
            (at_profile.status, &at_profile.body),
            "{method} {path}"
        );
        assert!(
            with_refresh.is(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Only non-refresh tokens are allowed"
            ),
            "{with_refresh:?}"
        );
        let revoked = account
            .account(method.clone(), &path, &logged_out.access)
            .await;
        assert!(
            revoked.is(StatusCode::UNAUTHORIZED, "Token has been revoked"),
            "{method} {path}: {revoked:?}"
        );
        let none = account
            .send(Function::Sessions, method.clone(), &path, &[], None)
            .await;
        assert!(
            none.is(StatusCode::UNAUTHORIZED, "Missing Authorization Header"),
            "{method} {path}: {none:?}"
        );
    }
    // Nothing was ended by any of them.
    assert_eq!(account.profile(&other.access).await.status, StatusCode::OK);
    assert_eq!(
        account.counted(),
        [Event::RevokedTokenPresented; 3],
        "a revoked token is counted, as at /profile"
    );
}

/// The acceptance story: a failed login, a login, a refresh, the reuse of the refresh token it
/// spent (rotation on), and a logout. Depends on login, refresh and logout writing the log.
async fn a_scripted_story_is_in_the_activity_log_newest_first(backend: Backend) {
    let account = Account::new(backend, &ROTATION).await;
    let failed = account
        .try_login(COSMO, "space-cat", FIREFOX_ON_LINUX)
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{failed:?}");
    let first = account.login(COSMO, FIREFOX_ON_LINUX).await;
    let refreshed = account.refresh(&first.refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{refreshed:?}");
    let replayed = account.refresh(&first.refresh).await;
    assert!(
        replayed.is(StatusCode::UNAUTHORIZED, "Token has been revoked"),
        "{replayed:?}"
    );
    let second = account.login(COSMO, CURL).await;
    let logged_out = account.logout(&second.access).await;
    assert_eq!(logged_out.status, StatusCode::OK, "{logged_out:?}");

    // Read with a session of its own: the story's are over.
    let reader = account.login(COSMO, CURL).await;
    let activity = account.activity(&reader.access).await;
    let told: Vec<(String, String, Option<String>)> = activity
        .events()
        .iter()
        .map(|entry| {
            (
                entry["event"].as_str().unwrap().to_owned(),
                entry["outcome"].as_str().unwrap().to_owned(),
                entry["detail"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let entry = |event: &str, outcome: &str, detail: Option<&str>| {
        (
            event.to_owned(),
            outcome.to_owned(),
            detail.map(str::to_owned),
        )
    };
    assert_eq!(
        told,
        [
            entry("login", "success", None),
            entry("logout", "success", Some("local")),
            entry("login", "success", None),
            entry("refresh", "blocked", Some("reuse_detected")),
            entry("refresh", "success", None),
            entry("login", "success", None),
            entry("login", "failure", Some("wrong_password")),
        ],
        "{activity:?}"
    );
    let events = activity.events();
    let session_of = |index: usize| events[index]["session_id"].as_str().map(str::to_owned);
    assert_eq!(session_of(0), Some(reader.session.clone()));
    assert_eq!(session_of(2), Some(second.session.clone()));
    assert_eq!(session_of(5), Some(first.session.clone()));
    assert_eq!(session_of(6), None, "a failed login has no session");
    assert_eq!(
        events[6]["device"],
        json!({"browser": "Firefox 133", "os": "Linux"})
    );
    assert_eq!(events[6]["ip_address"], HOME);

    // What the user reads holds no password, no token, no user agent as it was sent.
    let listed = account.list(&reader.access).await;
    let secrets = [
        PASSWORD,
        "space-cat",
        first.access.as_str(),
        first.refresh.as_str(),
        second.access.as_str(),
        second.refresh.as_str(),
        reader.access.as_str(),
        FIREFOX_ON_LINUX,
    ];
    for answer in [&activity, &listed] {
        for secret in secrets {
            assert!(!answer.text.contains(secret), "{secret} in {}", answer.text);
        }
    }
}

async fn the_activity_log_lists_a_page_at_a_time(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let caller = account.login(COSMO, CURL).await;
    account.settled().await;
    // Entries of cosmo's written as the functions write them, and one of wanda's.
    let recorder = account.sessions.activity();
    for n in 0..24 {
        let outcome = match n % 2 {
            0 => ActivityOutcome::Failed,
            _ => ActivityOutcome::Succeeded,
        };
        recorder.record(COSMO, ActivityEvent::Login, outcome, Activity::default());
    }
    recorder.record(
        WANDA,
        ActivityEvent::Login,
        ActivityOutcome::Succeeded,
        Activity::default(),
    );
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/account/activity?limit=10".to_owned();
    account.settled().await;
    loop {
        let page = account.account(Method::GET, &path, &caller.access).await;
        let events = page.events();
        pages.push(events.len());
        seen.extend(
            events
                .iter()
                .map(|entry| entry["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("/account/activity?limit=10&cursor={next}"),
            None => break,
        }
        assert!(pages.len() <= 3, "more pages than entries: {pages:?}");
    }
    // Cosmo's 24 and his login's: none of wanda's.
    assert_eq!(pages, [10, 10, 5]);
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    // The default page holds 20.
    let first = account
        .account(Method::GET, "/account/activity", &caller.access)
        .await;
    assert_eq!(first.events().len(), 20);
    assert!(first.body["next_cursor"].is_string());
    let operations = account.operations().await;
    if backend == Backend::DynamoDb {
        assert!(!operations.contains(&"Scan".to_owned()), "{operations:?}");
    }
}

/// Log injection through user agents: a client's header reaches no answer but as the name of
/// a product this service knows and its digits.
async fn nothing_of_a_hostile_user_agent_is_shown_but_known_names_and_digits(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    // In the order of the logins: the last is no text (a header's bytes past ASCII), which
    // is stored as no user agent at all.
    let hostile = [
        "Firefox/133.0 <script>alert(1)</script>",
        "curl/8.5.0\", \"current\": true, \"x\": \"",
        "Mozilla/5.0 (Windows NT 10.0; ../../etc/passwd) Chrome/131.0.0.0 ${jndi:ldap://x}",
        "<img src=x onerror=alert(1)>",
        "Mozilla/5.0 \u{202e}gnp.exe\u{202d} Chrome/131.0.0.0",
    ];
    let mut caller = None;
    for agent in hostile {
        account.sessions.clock().advance(Duration::from_secs(1));
        caller = Some(account.login(COSMO, agent).await);
    }
    let caller = caller.unwrap();
    let listed = account.list(&caller.access).await;
    let activity = account.activity(&caller.access).await;
    let browsers: Vec<&str> = listed
        .sessions()
        .iter()
        .map(|session| session["device"]["browser"].as_str().unwrap())
        .collect();
    assert_eq!(
        browsers,
        [
            "Unknown",
            "Unknown",
            "Chrome 131",
            "curl 8.5",
            "Firefox 133"
        ]
    );
    let devices: Vec<&Value> = listed
        .sessions()
        .iter()
        .chain(activity.events())
        .map(|item| &item["device"])
        .collect();
    assert_eq!(devices.len(), 10, "{listed:?} {activity:?}");
    for device in devices {
        for part in ["browser", "os"] {
            let shown = device[part].as_str().unwrap();
            assert!(
                shown
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-')),
                "{device}"
            );
        }
    }
    for answer in [&listed, &activity] {
        for fragment in [
            "<script",
            "<img",
            "onerror",
            "\u{202e}",
            "passwd",
            "jndi",
            "\\\"current",
        ] {
            assert!(
                !answer.text.contains(fragment),
                "{fragment} in {}",
                answer.text
            );
        }
    }
}

async fn in_cookie_mode_a_listing_needs_no_csrf_value_and_ending_a_session_does(backend: Backend) {
    let account = Account::new(backend, &[("JWT_TOKEN_LOCATION", "cookies")]).await;
    let other = account.login_with_cookies().await;
    let caller = account.login_with_cookies().await;
    let cookie = format!("access_token_cookie={}", caller.access);
    let listed = account
        .send(
            Function::Sessions,
            Method::GET,
            "/sessions",
            &[("cookie", &cookie)],
            None,
        )
        .await;
    let sessions = listed.sessions().clone();
    assert_eq!(sessions.len(), 2, "{listed:?}");
    let other_id = sessions
        .iter()
        .find(|session| session["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/sessions/{other_id}");
    let without = account
        .send(
            Function::Sessions,
            Method::DELETE,
            &path,
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert!(
        without.is(StatusCode::UNAUTHORIZED, "Missing CSRF token"),
        "{without:?}"
    );
    let wrong = account
        .send(
            Function::Sessions,
            Method::DELETE,
            &path,
            &[("cookie", &cookie), ("x-csrf-token", &other.csrf)],
            None,
        )
        .await;
    assert!(
        wrong.is(
            StatusCode::UNAUTHORIZED,
            "CSRF double submit tokens do not match"
        ),
        "{wrong:?}"
    );
    let ended = account
        .send(
            Function::Sessions,
            Method::DELETE,
            &path,
            &[("cookie", &cookie), ("x-csrf-token", &caller.csrf)],
            None,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{ended:?}");
    assert_eq!(account.counted(), [Event::SessionEnded]);
}

/// A password change ends every session of the user but the caller's, which it keeps: the
/// listing shows that one, current, and none of the others.
async fn a_password_change_lists_the_session_it_kept_and_none_it_ended(backend: Backend) {
    let account = Account::new(backend, &[]).await;
    let ended = account.login(COSMO, SAFARI_ON_IPHONE).await;
    account.sessions.clock().advance(Duration::from_secs(1));
    let caller = account.login(COSMO, FIREFOX_ON_LINUX).await;
    account.sessions.clock().advance(Duration::from_secs(1));
    let authorization = format!("Bearer {}", caller.access);
    let changed = account
        .send(
            Function::ChangePassword,
            Method::POST,
            "/password",
            &[("authorization", &authorization)],
            Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert!(
        account
            .profile(&ended.access)
            .await
            .is(StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    let listed = account.list(&caller.access).await;
    assert_eq!(
        ids(listed.sessions()),
        [caller.session.as_str()],
        "{listed:?}"
    );
    assert_eq!(listed.sessions()[0]["current"], true);
    // A session started after the change is listed beside it, newest first.
    account.sessions.clock().advance(Duration::from_secs(1));
    let later = account.login_with(COSMO, NEW_PASSWORD, CURL).await;
    let listed = account.list(&caller.access).await;
    assert_eq!(
        ids(listed.sessions()),
        [later.session.as_str(), caller.session.as_str()],
        "{listed:?}"
    );
}

/// A browser's session: its access cookie's token and CSRF value.
struct CookieLogin {
    access: String,
    csrf: String,
}

impl Account {
    async fn login_with_cookies(&self) -> CookieLogin {
        let text = json!({"username": COSMO, "password": PASSWORD}).to_string();
        let request = request(
            "POST",
            "/login",
            &[
                ("content-type", "application/json"),
                ("user-agent", FIREFOX_ON_LINUX),
            ],
            Some(&text),
        );
        let response = login::handle(&self.functions, request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookies = auth_testkit::set_cookies(&response);
        let value = |name: &str| {
            cookies
                .iter()
                .find_map(|cookie| {
                    let pair = cookie.split(';').next()?;
                    let (key, value) = pair.split_once('=')?;
                    (key == name).then(|| value.to_owned())
                })
                .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
        };
        CookieLogin {
            access: value("access_token_cookie"),
            csrf: value("csrf_access_token"),
        }
    }
}

/// Without API Gateway's route key and path parameters (a request as a test builds it), the
/// route and the session come from the request's own path; the end is logged once its write,
/// which the answer does not wait for, settles.
#[tokio::test]
async fn a_request_without_a_route_key_ends_the_session_its_path_names_and_logs_it() {
    let log = Arc::new(InMemoryActivityLog::default());
    let stores = Stores::separate(
        Arc::new(InMemoryUserStore::new([user_with_password(
            COSMO,
            PASSWORD,
            json!({"id": 1}),
        )])),
        Arc::new(InMemorySessionStore::default()),
    )
    .with_activity(log.clone());
    let state = AppState::builder(&settings_with(&[]), stores)
        .password_workers(2)
        .build()
        .unwrap();
    let body = json!({"username": COSMO, "password": PASSWORD}).to_string();
    let login = |agent: &'static str| {
        let state = &state;
        let body = body.clone();
        async move {
            let request = request(
                "POST",
                "/login",
                &[("content-type", "application/json"), ("user-agent", agent)],
                Some(&body),
            );
            auth_testkit::json_body(&login::handle(state, request).await.unwrap())
        }
    };
    let caller = login(CURL).await;
    let other = login(FIREFOX_ON_LINUX).await;
    let other_session = payload_of(other["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = request(
        "DELETE",
        &format!("/sessions/{other_session}"),
        &[
            (
                "authorization",
                &format!("Bearer {}", caller["access_token"].as_str().unwrap()),
            ),
            ("user-agent", CURL),
        ],
        None,
    );
    let response = sessions::handle(&state, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    state.activity().settled().await;
    let page = log
        .list(COSMO, 10, None, state.clock().unix_secs())
        .await
        .unwrap();
    let ended: Vec<_> = page
        .entries
        .iter()
        .filter(|entry| entry.event == ActivityEvent::SessionEnded)
        .collect();
    assert_eq!(ended.len(), 1, "{page:?}");
    assert_eq!(ended[0].session.as_deref(), Some(other_session.as_str()));
    assert_eq!(ended[0].detail.as_deref(), Some("by_user"));
    // Bounded as stored; shown parsed.
    assert_eq!(ended[0].user_agent.as_deref(), Some(CURL));
}

/// The real server over HTTP: its routing hands the sessions function the route's key, the
/// `{id}` of `/sessions/{id}` and a page's query, as API Gateway does; the activity log is in
/// memory without `ACTIVITY_TABLE`.
#[test]
fn the_real_server_lists_a_page_at_a_time_and_ends_a_session_over_http() {
    let server = crate::binary::start_server_with(&[("ACTIVITY_TABLE", "")]);
    let agent = crate::binary::agent();
    let url = &server.url;
    let send = |request: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        let mut response = request.expect("the server answers");
        let status = response.status().as_u16();
        let cache_control = response
            .headers()
            .get("cache-control")
            .map(|value| value.to_str().unwrap().to_owned());
        let text = response.body_mut().read_to_string().unwrap();
        let body: Value = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text).unwrap(),
        };
        (status, body, cache_control)
    };
    let login = |agent_header: &str| {
        let (status, body, _) = send(
            agent
                .post(format!("{url}/login"))
                .header("content-type", "application/json")
                .header("user-agent", agent_header)
                .send(r#"{"username": "cosmo", "password": "space-corgi"}"#),
        );
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    };
    let other = login(SAFARI_ON_IPHONE);
    // A second on: the caller's is the newest.
    std::thread::sleep(Duration::from_millis(1_100));
    let caller = login(FIREFOX_ON_LINUX);
    let bearer = format!("Bearer {caller}");
    let get = |path: &str| {
        send(
            agent
                .get(format!("{url}{path}"))
                .header("authorization", &bearer)
                .call(),
        )
    };

    let (status, first, cache_control) = get("/sessions?limit=1");
    assert_eq!(
        (status, cache_control.as_deref()),
        (200, Some("no-store")),
        "{first}"
    );
    assert_eq!(first["sessions"][0]["current"], true, "{first}");
    assert_eq!(first["sessions"][0]["device"]["browser"], "Firefox 133");
    assert_eq!(first["sessions"][0]["ip_address"], "127.0.0.1");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (status, second, _) = get(&format!("/sessions?limit=1&cursor={cursor}"));
    assert_eq!(status, 200, "{second}");
    assert!(second.get("next_cursor").is_none(), "{second}");
    let other_id = second["sessions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(payload_of(&other)["sid"].as_str(), Some(other_id.as_str()));

    let (status, body, cache_control) = send(
        agent
            .delete(format!("{url}/sessions/{other_id}"))
            .header("authorization", &bearer)
            .call(),
    );
    assert_eq!(
        (status, &body, cache_control.as_deref()),
        (204, &Value::Null, Some("no-store"))
    );
    let (status, body, _) = send(
        agent
            .get(format!("{url}/profile"))
            .header("authorization", format!("Bearer {other}"))
            .call(),
    );
    assert_eq!(
        (status, body),
        (401, json!({"msg": "Token has been revoked"}))
    );
    // API Gateway's answers for what is no route: a path under /sessions/{id} is one segment.
    for (method, path) in [
        ("DELETE", "/sessions"),
        ("DELETE", "/sessions/a/b"),
        ("GET", "/sessions/abc"),
    ] {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{url}{path}"))
            .header("authorization", &bearer)
            .body(())
            .unwrap();
        let (status, body, _) = send(agent.run(request));
        assert_eq!(
            (status, body),
            (404, json!({"message": "Not Found"})),
            "{method} {path}"
        );
    }

    // The log is written beside the answer: it shows a moment later.
    let mut events = Value::Null;
    for _ in 0..50 {
        let (status, activity, _) = get("/account/activity");
        assert_eq!(status, 200, "{activity}");
        events = activity["events"].clone();
        if events[0]["event"] == "session_ended" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(events[0]["event"], "session_ended", "{events}");
    assert_eq!(events[0]["session_id"], other_id.as_str());
}

//! Issue 30's story through the release bootstraps, each function the binary `sam build`
//! packages, configured as `template.yaml` and `local-env.json` configure it (refresh-token
//! rotation on, without a grace), over DynamoDB on moto, on the real clock. Three logins from
//! three browsers are three sessions, one of them the caller's; ending another kills its
//! refresh token at once and its access token at `/profile` and at the authorizer from the next
//! request; another user's session, an unknown one and an ended one are the same 404, and end
//! nothing; logout's `others` leaves the caller's session alone, `global` none. The activity
//! log lists the story in order, with its outcomes; no log line, stored item or answer holds a
//! password or a token.

use std::time::{Duration, Instant};

use auth_testkit::payload_of;
use lambda_emulator::Reply;
use serde_json::{Value, json};

use crate::accounts::Deployment;

const PASSWORD: &str = "space-corgi";
const WRONG_PASSWORD: &str = "not-the-password";
const WANDA_PASSWORD: &str = "orchard teapot lantern";

/// Where a request comes from: what the session's record and the log keep of it.
#[derive(Clone, Copy)]
struct Client {
    user_agent: &'static str,
    source_ip: &'static str,
}

const FIREFOX_ON_LINUX: Client = Client {
    user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    source_ip: "192.0.2.1",
};
const SAFARI_ON_IPHONE: Client = Client {
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    source_ip: "192.0.2.2",
};
const CHROME_ON_WINDOWS: Client = Client {
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/131.0.0.0 Safari/537.36",
    source_ip: "192.0.2.3",
};
/// Another user's browser.
const WANDAS: Client = Client {
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) Version/17.5 Safari/605.1.15",
    source_ip: "198.51.100.7",
};

/// A request of the HTTP API as API Gateway sends it: `method path` at `route` (its routeKey),
/// from `client`, with a bearer `token`, a JSON `body` and the query `query` (`a=b&c=d`), made
/// from the event `like` of `events/`.
struct Call<'a> {
    like: &'a str,
    method: &'a str,
    route: &'a str,
    path: &'a str,
    query: &'a str,
    token: Option<&'a str>,
    body: Option<Value>,
    client: Client,
}

impl Call<'_> {
    fn event(&self, deployment: &Deployment) -> Value {
        let mut event = deployment.event(self.like).event.clone();
        event["routeKey"] = json!(self.route);
        event["rawPath"] = json!(self.path);
        event["rawQueryString"] = json!(self.query);
        let parameters: serde_json::Map<String, Value> = self
            .query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), json!(value)))
            .collect();
        match parameters.is_empty() {
            true => event
                .as_object_mut()
                .unwrap()
                .remove("queryStringParameters"),
            false => event
                .as_object_mut()
                .unwrap()
                .insert("queryStringParameters".into(), json!(parameters)),
        };
        if let Some(id) = self.path.strip_prefix("/sessions/") {
            event["pathParameters"] = json!({ "id": id });
        }
        let context = &mut event["requestContext"];
        context["routeKey"] = json!(self.route);
        context["http"]["method"] = json!(self.method);
        context["http"]["path"] = json!(self.path);
        context["http"]["sourceIp"] = json!(self.client.source_ip);
        context["http"]["userAgent"] = json!(self.client.user_agent);
        let headers = event["headers"].as_object_mut().unwrap();
        headers.insert("user-agent".into(), json!(self.client.user_agent));
        match self.token {
            Some(token) => headers.insert("authorization".into(), json!(format!("Bearer {token}"))),
            None => headers.remove("authorization"),
        };
        match &self.body {
            Some(body) => {
                headers.insert("content-type".into(), json!("application/json"));
                event["body"] = json!(body.to_string());
            }
            None => {
                event.as_object_mut().unwrap().remove("body");
            }
        }
        event
    }
}

/// The service as a client reaches it, each answer checked to hold no token but where one is
/// given out (a login's, a refresh's).
struct Story {
    deployment: Deployment,
    /// Every password and token of the story: no log line, stored item or listing may hold one.
    secrets: Vec<String>,
}

/// A session's tokens.
struct Session {
    access: String,
    refresh: String,
    /// Its id: the tokens' `sid`.
    id: String,
}

fn text(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

impl Story {
    async fn call(&mut self, function: &'static str, call: Call<'_>) -> (u64, Value) {
        let event = call.event(&self.deployment);
        self.deployment.respond(function, &event).await
    }

    async fn login(&mut self, username: &str, password: &str, client: Client) -> (u64, Value) {
        let body = json!({"username": username, "password": password});
        let function = "LoginFunction";
        self.call(
            function,
            Call {
                like: "login-ok.json",
                method: "POST",
                route: "POST /login",
                path: "/login",
                query: "",
                token: None,
                body: Some(body),
                client,
            },
        )
        .await
    }

    /// A login that succeeds: its session.
    async fn sign_in(&mut self, username: &str, password: &str, client: Client) -> Session {
        let (status, tokens) = self.login(username, password, client).await;
        assert_eq!(status, 200, "{tokens}");
        let session = Session {
            access: text(&tokens, "access_token"),
            refresh: text(&tokens, "refresh_token"),
            id: payload_of(&text(&tokens, "access_token"))["sid"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        self.secrets
            .extend([session.access.clone(), session.refresh.clone()]);
        session
    }

    async fn refresh(&mut self, refresh: &str, client: Client) -> (u64, Value) {
        let (status, body) = self
            .call(
                "RefreshFunction",
                Call {
                    like: "refresh-ok.json",
                    method: "POST",
                    route: "POST /refresh",
                    path: "/refresh",
                    query: "",
                    token: Some(refresh),
                    body: None,
                    client,
                },
            )
            .await;
        for name in ["access_token", "refresh_token"] {
            self.secrets.extend(body[name].as_str().map(str::to_owned));
        }
        (status, body)
    }

    async fn profile(&mut self, access: &str) -> (u64, Value) {
        self.call(
            "ProfileFunction",
            Call {
                like: "profile-ok.json",
                method: "GET",
                route: "GET /profile",
                path: "/profile",
                query: "",
                token: Some(access),
                body: None,
                client: FIREFOX_ON_LINUX,
            },
        )
        .await
    }

    /// The authorizer's answer to another API's request with `access` (its event of
    /// `events/authorizer/`, with this token): whether it is allowed.
    async fn authorizes(&mut self, access: &str) -> bool {
        let path = crate::bootstraps::root().join("events/authorizer/http-api-allow.json");
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event.as_object_mut().unwrap().remove("expected");
        let bearer = format!("Bearer {access}");
        event["identitySource"] = json!([bearer]);
        event["headers"]["authorization"] = json!(bearer);
        let reply = self.deployment.invoke("AuthorizerFunction", &event).await;
        let Reply::Response(reply) = reply else {
            panic!("the authorizer failed: {reply:?}");
        };
        reply["isAuthorized"]
            .as_bool()
            .unwrap_or_else(|| panic!("{reply}"))
    }

    async fn sessions(&mut self, access: &str, client: Client) -> (u64, Value) {
        self.call(
            "SessionsFunction",
            Call {
                like: "profile-ok.json",
                method: "GET",
                route: "GET /sessions",
                path: "/sessions",
                query: "",
                token: Some(access),
                body: None,
                client,
            },
        )
        .await
    }

    /// The live sessions `access`'s user has, as GET /sessions lists them.
    async fn listed(&mut self, access: &str, client: Client) -> Vec<Value> {
        let (status, body) = self.sessions(access, client).await;
        assert_eq!(status, 200, "{body}");
        self.assert_no_secret_in(&body);
        assert!(body.get("next_cursor").is_none(), "one page: {body}");
        body["sessions"].as_array().unwrap().clone()
    }

    async fn end_session(&mut self, access: &str, id: &str) -> (u64, Value) {
        let path = format!("/sessions/{id}");
        self.call(
            "SessionsFunction",
            Call {
                like: "profile-ok.json",
                method: "DELETE",
                route: "DELETE /sessions/{id}",
                path: &path,
                query: "",
                token: Some(access),
                body: None,
                client: FIREFOX_ON_LINUX,
            },
        )
        .await
    }

    async fn logout(&mut self, access: &str, scope: &str, client: Client) -> (u64, Value) {
        let query = format!("scope={scope}");
        self.call(
            "LogoutFunction",
            Call {
                like: "logout-access-token.json",
                method: "POST",
                route: "POST /logout",
                path: "/logout",
                query: &query,
                token: Some(access),
                body: None,
                client,
            },
        )
        .await
    }

    async fn activity_page(&mut self, access: &str, query: &str) -> Value {
        let (status, body) = self
            .call(
                "SessionsFunction",
                Call {
                    like: "profile-ok.json",
                    method: "GET",
                    route: "GET /account/activity",
                    path: "/account/activity",
                    query,
                    token: Some(access),
                    body: None,
                    client: FIREFOX_ON_LINUX,
                },
            )
            .await;
        assert_eq!(status, 200, "{body}");
        self.assert_no_secret_in(&body);
        body
    }

    /// `access`'s user's whole log, newest first, read `page_size` entries at a time.
    async fn activity(&mut self, access: &str, page_size: usize) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut query = format!("limit={page_size}");
        loop {
            let page = self.activity_page(access, &query).await;
            let events = page["events"].as_array().unwrap();
            assert!(events.len() <= page_size, "{page}");
            entries.extend(events.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("limit={page_size}&cursor={cursor}"),
                None => return entries,
            }
        }
    }

    fn assert_no_secret_in(&self, body: &Value) {
        let text = body.to_string();
        for secret in &self.secrets {
            assert!(!text.contains(secret.as_str()), "{secret} in {text}");
        }
    }
}

/// The ids of `sessions`, sorted.
fn ids(sessions: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = sessions.iter().map(|session| text(session, "id")).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// An entry's `(event, outcome, detail)`, the detail "" when absent.
fn shape(entry: &Value) -> (String, String, String) {
    (
        text(entry, "event"),
        text(entry, "outcome"),
        entry["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn sessions_and_activity_through_the_bootstraps() {
    let mut deployment = Deployment::new().await;
    deployment.set("JWT_REFRESH_TOKEN_ROTATION", "true");
    deployment.set("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0");
    deployment.add_user("wanda", WANDA_PASSWORD).await;
    let mut story = Story {
        deployment,
        secrets: vec![
            PASSWORD.to_owned(),
            WRONG_PASSWORD.to_owned(),
            WANDA_PASSWORD.to_owned(),
        ],
    };

    // A wrong password, then three logins from three browsers: three sessions, newest first,
    // the caller's the one current, each with where and how it signed in.
    let (status, _) = story.login("cosmo", WRONG_PASSWORD, FIREFOX_ON_LINUX).await;
    assert_eq!(status, 401);
    let firefox = story.sign_in("cosmo", PASSWORD, FIREFOX_ON_LINUX).await;
    let iphone = story.sign_in("cosmo", PASSWORD, SAFARI_ON_IPHONE).await;
    let windows = story.sign_in("cosmo", PASSWORD, CHROME_ON_WINDOWS).await;
    let listed = story.listed(&firefox.access, FIREFOX_ON_LINUX).await;
    assert_eq!(
        ids(&listed),
        sorted(&[&firefox.id, &iphone.id, &windows.id])
    );
    let started: Vec<&str> = listed
        .iter()
        .map(|session| session["started_at"].as_str().unwrap())
        .collect();
    assert!(
        started.windows(2).all(|pair| pair[0] >= pair[1]),
        "{started:?}"
    );
    let current: Vec<String> = listed
        .iter()
        .filter(|session| session["current"] == true)
        .map(|session| text(session, "id"))
        .collect();
    assert_eq!(current, sorted(&[&firefox.id]), "exactly one current");
    for (session, client) in [
        (&firefox, FIREFOX_ON_LINUX),
        (&iphone, SAFARI_ON_IPHONE),
        (&windows, CHROME_ON_WINDOWS),
    ] {
        let shown = listed
            .iter()
            .find(|shown| shown["id"] == *session.id)
            .unwrap();
        assert_eq!(shown["ip_address"], client.source_ip, "{shown}");
        assert_eq!(shown["amr"], json!(["pwd"]), "{shown}");
        assert!(shown["last_refreshed_at"].is_null(), "{shown}");
        // Parsed for a person, never the raw header.
        assert!(shown["device"]["browser"].is_string(), "{shown}");
        assert!(!shown.to_string().contains(client.user_agent), "{shown}");
    }
    let firefox_shown = listed
        .iter()
        .find(|shown| shown["id"] == *firefox.id)
        .unwrap();
    assert!(
        text(&firefox_shown["device"], "browser").starts_with("Firefox"),
        "{firefox_shown}"
    );
    assert_eq!(firefox_shown["device"]["os"], "Linux", "{firefox_shown}");
    let devices: std::collections::BTreeSet<String> = listed
        .iter()
        .map(|session| session["device"].to_string())
        .collect();
    assert_eq!(devices.len(), 3, "three browsers: {devices:?}");

    // A refresh is shown on its session (and rotates its refresh token).
    let (status, refreshed) = story.refresh(&windows.refresh, CHROME_ON_WINDOWS).await;
    assert_eq!(status, 200, "{refreshed}");
    let windows_spent = windows.refresh.clone();
    let windows_refresh = text(&refreshed, "refresh_token");
    // The refresh writes it without its answer waiting: it is listed once it is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let listed = story.listed(&firefox.access, FIREFOX_ON_LINUX).await;
        let shown = listed
            .iter()
            .find(|shown| shown["id"] == *windows.id)
            .unwrap()
            .clone();
        if shown["last_refreshed_at"].is_string() || Instant::now() >= deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(shown["last_refreshed_at"].is_string(), "{shown}");

    // Ending another session: its refresh token is refused at once, its access token at
    // /profile and at the authorizer (warm, having allowed it a moment before) from the next
    // request.
    assert!(story.authorizes(&iphone.access).await);
    let (status, body) = story.end_session(&firefox.access, &iphone.id).await;
    assert_eq!(status, 204, "{body}");
    let answer = story.refresh(&iphone.refresh, SAFARI_ON_IPHONE).await;
    assert_eq!(answer, (401, json!({"msg": "Token has been revoked"})));
    let (status, body) = story.profile(&iphone.access).await;
    assert_eq!(status, 401, "{body}");
    assert!(!story.authorizes(&iphone.access).await, "the authorizer");
    assert!(
        story.authorizes(&firefox.access).await,
        "the others live on"
    );
    let listed = story.listed(&firefox.access, FIREFOX_ON_LINUX).await;
    assert_eq!(ids(&listed), sorted(&[&firefox.id, &windows.id]));

    // Another user's session, an unknown one and an ended one: the same 404, and nothing ends.
    let wanda = story.sign_in("wanda", WANDA_PASSWORD, WANDAS).await;
    let not_found = (404, json!({"msg": "Session not found"}));
    let unknown = "00000000-0000-4000-8000-00000000dead";
    for (caller, id) in [
        (wanda.access.as_str(), windows.id.as_str()),
        (&firefox.access, unknown),
        (&firefox.access, &iphone.id),
        (&wanda.access, &firefox.id),
    ] {
        assert_eq!(story.end_session(caller, id).await, not_found, "{id}");
    }
    let (status, refreshed) = story.refresh(&windows_refresh, CHROME_ON_WINDOWS).await;
    assert_eq!(status, 200, "{refreshed}");
    let windows_refresh = text(&refreshed, "refresh_token");
    assert_eq!(story.profile(&windows.access).await.0, 200);
    assert_eq!(
        ids(&story.listed(&wanda.access, WANDAS).await),
        sorted(&[&wanda.id]),
        "wanda sees hers alone"
    );

    // A spent refresh token presented again: theft, and its session ends.
    let (status, _) = story.refresh(&windows_spent, CHROME_ON_WINDOWS).await;
    assert_eq!(status, 401);
    let (status, _) = story.refresh(&windows_refresh, CHROME_ON_WINDOWS).await;
    assert_eq!(status, 401, "the session the reuse ended");

    // Logout, others: the caller's session alone lives on.
    let tablet = story.sign_in("cosmo", PASSWORD, SAFARI_ON_IPHONE).await;
    let laptop = story.sign_in("cosmo", PASSWORD, CHROME_ON_WINDOWS).await;
    let listed = story.listed(&firefox.access, FIREFOX_ON_LINUX).await;
    assert_eq!(ids(&listed), sorted(&[&firefox.id, &tablet.id, &laptop.id]));
    let (status, body) = story
        .logout(&firefox.access, "others", FIREFOX_ON_LINUX)
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = story.listed(&firefox.access, FIREFOX_ON_LINUX).await;
    assert_eq!(ids(&listed), sorted(&[&firefox.id]));
    assert_eq!(
        story.refresh(&tablet.refresh, SAFARI_ON_IPHONE).await.0,
        401
    );
    assert_eq!(story.profile(&laptop.access).await.0, 401);
    assert!(!story.authorizes(&laptop.access).await);
    assert_eq!(story.profile(&wanda.access).await.0, 200, "another user's");

    // Logout, global: none, the caller's included.
    let (status, body) = story
        .logout(&firefox.access, "global", FIREFOX_ON_LINUX)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(story.profile(&firefox.access).await.0, 401);
    assert_eq!(
        story.refresh(&firefox.refresh, FIREFOX_ON_LINUX).await.0,
        401
    );
    let (status, _) = story.sessions(&firefox.access, FIREFOX_ON_LINUX).await;
    assert_eq!(status, 401);
    let after = story.sign_in("cosmo", PASSWORD, FIREFOX_ON_LINUX).await;
    let listed = story.listed(&after.access, FIREFOX_ON_LINUX).await;
    assert_eq!(ids(&listed), sorted(&[&after.id]), "none of before");
    assert_eq!(story.profile(&wanda.access).await.0, 200, "another user's");

    // The log, newest first, read two entries a page: the story in order, with its outcomes
    // (its writes are not waited for: they are read once they are all there).
    let story_so_far = [
        ("login", "failure", "wrong_password"),
        ("login", "success", ""),
        ("login", "success", ""),
        ("login", "success", ""),
        ("refresh", "success", ""),
        ("session_ended", "success", "by_user"),
        ("refresh", "success", ""),
        ("refresh", "blocked", "reuse_detected"),
        ("login", "success", ""),
        ("login", "success", ""),
        ("logout", "success", "others"),
        ("logout", "success", "global"),
        ("login", "success", ""),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut entries = story.activity(&after.access, 2).await;
    while entries.len() < story_so_far.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        entries = story.activity(&after.access, 2).await;
    }
    let mut oldest_first: Vec<Value> = entries.clone();
    oldest_first.reverse();
    let shapes: Vec<(String, String, String)> = oldest_first.iter().map(shape).collect();
    let expected: Vec<(String, String, String)> = story_so_far
        .iter()
        .map(|(event, outcome, detail)| {
            (
                (*event).to_owned(),
                (*outcome).to_owned(),
                (*detail).to_owned(),
            )
        })
        .collect();
    assert_eq!(shapes, expected, "{entries:#?}");
    let at: Vec<&str> = oldest_first
        .iter()
        .map(|entry| entry["at"].as_str().unwrap())
        .collect();
    assert!(at.windows(2).all(|pair| pair[0] <= pair[1]), "{at:?}");
    // Where each came from, and of which session; nothing of wanda's.
    assert_eq!(oldest_first[1]["ip_address"], FIREFOX_ON_LINUX.source_ip);
    assert_eq!(oldest_first[2]["ip_address"], SAFARI_ON_IPHONE.source_ip);
    assert_eq!(oldest_first[1]["session_id"], json!(firefox.id));
    assert_eq!(
        oldest_first[5]["session_id"],
        json!(iphone.id),
        "the session ended"
    );
    assert!(
        entries
            .iter()
            .all(|entry| entry["ip_address"] != WANDAS.source_ip),
        "{entries:#?}"
    );
    // Read in one page, the same.
    assert_eq!(story.activity(&after.access, 100).await, entries);

    // No stored item holds a password or a token (the users' hashes are no password).
    let stored = story.deployment.stored_items().await;
    for secret in &story.secrets {
        assert!(!stored.contains(secret.as_str()), "{secret} is stored");
    }
    let Story {
        deployment,
        secrets,
    } = story;
    deployment.stop_and_check_logs(&secrets).await;
}

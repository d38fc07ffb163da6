//! `openapi.yaml` tells the truth: it has exactly the routes of `local_api::ROUTES`, and the
//! handlers' real answers match it. Every event of `events/`, `events/rs256/` and
//! `events/cookies/` is replayed through its handler (as `events.rs` does), and so are answers
//! no event documents (a throttled login, a store past the deadline, rotation and a replay, a
//! browser's cookie session, a body over the limit): each answer's status must be documented
//! for its operation, with its content type, every header the description requires (each
//! `Set-Cookie` matching its pattern), and a body its JSON Schema accepts (the `jsonschema`
//! crate, draft 2020-12, the dialect of OpenAPI 3.1). The examples must match their schemas
//! too. `scripts/schemathesis` fuzzes the running server against the same file.

use std::{collections::BTreeSet, fs, path::PathBuf, time::Duration};

use crate::common::{Backend, PASSWORD, Service, Setup};
use auth_core::{AppState, clock::Clock};
use auth_testkit::{bearer_request, json_body, request, state_builder, state_with};
use lambda_emulator::events::{self, EventFile};
use lambda_http::{Body, Request, Response, http::Method};
use local_api::{function_for, invoke};
use serde_json::{Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `openapi.yaml`, as JSON.
struct Description {
    document: Value,
}

/// One answer, as the checks see it.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn of(response: &Response<Body>) -> Self {
        Answer {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        value.to_str().unwrap_or("<not visible ASCII>").to_owned(),
                    )
                })
                .collect(),
            body: json_body(response),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A JSON pointer's escaping of one path segment (RFC 6901).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Description {
    fn load() -> Self {
        let text = fs::read_to_string(root().join("openapi.yaml")).expect("openapi.yaml");
        let document: Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
        assert_eq!(document["openapi"], "3.1.0", "an OpenAPI 3.1 description");
        Description { document }
    }

    /// Every `(METHOD, path)` the description has.
    fn routes(&self) -> BTreeSet<(String, String)> {
        let paths = self.document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                METHODS
                    .iter()
                    .filter(|method| item.get(**method).is_some())
                    .map(|method| (method.to_uppercase(), path.clone()))
            })
            .collect()
    }

    /// `pointer`'s value, following a `$ref` to the components if it is one: the pointer it
    /// ends at and the value.
    fn resolve(&self, pointer: String) -> (String, &Value) {
        let value = self
            .document
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("openapi.yaml has nothing at {pointer}"));
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{pointer}: only local references, not {reference}"));
                self.resolve(target.to_owned())
            }
            None => (pointer, value),
        }
    }

    /// A validator for the schema at `pointer`, whose references resolve in the whole file.
    fn validator(&self, pointer: &str) -> jsonschema::Validator {
        let mut schema = self.document.clone();
        let object = schema.as_object_mut().unwrap();
        object.insert("$ref".into(), Value::String(format!("#{pointer}")));
        jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|error| panic!("the schema at {pointer} is not valid: {error}"))
    }

    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator(pointer)
            .iter_errors(instance)
            .map(|error| format!("{error} (at {})", error.instance_path()))
            .collect();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "{instance} does not match {pointer}: {}",
                errors.join("; ")
            )),
        }
    }

    /// Checks `answer` against what the description says `method path` answers.
    fn check(&self, method: &str, path: &str, answer: &Answer) -> Result<(), String> {
        let operation = format!("/paths/{}/{}", escape(path), method.to_lowercase());
        if self.document.pointer(&operation).is_none() {
            return Err(format!("{method} {path} is not in openapi.yaml"));
        }
        let status = answer.status.to_string();
        let range = format!("{}XX", &status[..1]);
        let (response, documented) = [status.as_str(), range.as_str(), "default"]
            .iter()
            .map(|key| format!("{operation}/responses/{key}"))
            .find(|pointer| self.document.pointer(pointer).is_some())
            .map(|pointer| self.resolve(pointer))
            .ok_or_else(|| {
                format!(
                    "{method} {path}: status {status} is not documented (body {})",
                    answer.body
                )
            })?;
        let content_type = answer.header("content-type").unwrap_or("");
        let media = documented["content"].get(content_type).ok_or_else(|| {
            format!("{method} {path} {status}: content type {content_type:?} is not documented")
        })?;
        assert!(media.get("schema").is_some(), "{response}: no schema");
        let schema = format!("{response}/content/{}/schema", escape(content_type));
        self.validate(&schema, &answer.body)
            .map_err(|why| format!("{method} {path} {status}: {why}"))?;
        let headers = documented
            .get("headers")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for name in headers.keys() {
            let (header, definition) = self.resolve(format!("{response}/headers/{}", escape(name)));
            // Every one of them: Set-Cookie comes once per cookie.
            let values: Vec<&str> = answer
                .headers
                .iter()
                .filter(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
                .collect();
            if values.is_empty() && definition["required"] == true {
                return Err(format!("{method} {path} {status}: no {name} header"));
            }
            for value in values {
                self.validate(&format!("{header}/schema"), &json!(value))
                    .map_err(|why| format!("{method} {path} {status}: header {name}: {why}"))?;
            }
        }
        Ok(())
    }
}

#[test]
fn the_description_has_every_route_of_the_server_and_no_other() {
    let described = Description::load().routes();
    let served: BTreeSet<(String, String)> = local_api::ROUTES
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(
        described, served,
        "openapi.yaml's routes and local_api::ROUTES"
    );
}

#[test]
fn every_operation_has_an_id_and_every_link_reaches_one() {
    let description = Description::load();
    let mut ids = BTreeSet::new();
    for (method, path) in description.routes() {
        let operation = &description.document["paths"][&path][method.to_lowercase()];
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
    }
    for (method, path) in description.routes() {
        let operation = &description.document["paths"][&path][method.to_lowercase()];
        for (status, response) in operation["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap_or_default();
                assert!(
                    ids.contains(target),
                    "{method} {path} {status}: link {name} to unknown operation {target:?}"
                );
            }
        }
    }
}

/// Every `example` and `examples.*.value` of a request or response body matches its schema:
/// what a reader copies from the description is a real body.
#[test]
fn every_example_matches_its_schema() {
    let description = Description::load();
    let mut pointers = Vec::new();
    collect_media(&description.document, String::new(), &mut pointers);
    assert!(pointers.len() >= 10, "{} media types", pointers.len());
    let mut examples = 0;
    for pointer in pointers {
        let media = description.document.pointer(&pointer).unwrap();
        let schema = format!("{pointer}/schema");
        let mut found: Vec<&Value> = media.get("example").into_iter().collect();
        for example in media["examples"].as_object().into_iter().flatten() {
            found.push(&example.1["value"]);
        }
        for example in found {
            description.validate(&schema, example).unwrap();
            examples += 1;
        }
    }
    assert!(examples >= 10, "{examples} examples");
}

/// The pointers of every media type object (`.../content/<type>`) under `value`.
fn collect_media(value: &Value, pointer: String, found: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        return;
    };
    for (key, child) in object {
        let child_pointer = format!("{pointer}/{}", escape(key));
        if key == "content"
            && let Some(media) = child.as_object()
        {
            found.extend(
                media
                    .keys()
                    .map(|media| format!("{child_pointer}/{}", escape(media))),
            );
        } else {
            collect_media(child, child_pointer, found);
        }
    }
}

/// The state `env_file` (an `--env-vars` file of `sam local invoke`) configures.
fn state_of(env_file: &str) -> AppState {
    auth_testkit::state_from_env_file(&root().join(env_file))
}

/// Replays `files` with `state`, and checks every answer against the description: the
/// answers that failed, and the statuses seen.
async fn check_events(
    description: &Description,
    state: &AppState,
    files: Vec<EventFile>,
) -> (Vec<String>, BTreeSet<u16>) {
    let mut failures = Vec::new();
    let mut statuses = BTreeSet::new();
    for file in files {
        let request = lambda_http::request::from_str(&file.text)
            .unwrap_or_else(|e| panic!("{}: not an API Gateway event: {e}", file.name));
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let answer = answer(state, request).await;
        statuses.insert(answer.status);
        if let Err(why) = description.check(method.as_str(), &path, &answer) {
            failures.push(format!("{}: {why}", file.name));
        }
    }
    (failures, statuses)
}

async fn answer(state: &AppState, request: Request) -> Answer {
    let function = function_for(request.method(), request.uri().path())
        .unwrap_or_else(|| panic!("no function serves {} {}", request.method(), request.uri()));
    Answer::of(&invoke(state, function, request).await.unwrap())
}

#[tokio::test]
async fn every_events_answer_matches_the_description() {
    let description = Description::load();
    let files = events::load(&root().join("events")).unwrap();
    assert!(files.len() >= 20, "{} events", files.len());
    let (failures, statuses) = check_events(&description, &state_of("local-env.json"), files).await;
    assert_eq!(failures, Vec::<String>::new());
    // The events reach every status of the contract that takes no store failure or flood.
    assert_eq!(
        statuses,
        BTreeSet::from([200, 400, 401, 404, 415, 422]),
        "the statuses of events/"
    );
}

#[tokio::test]
async fn every_rs256_events_answer_matches_the_description() {
    let description = Description::load();
    let files = events::load(&root().join("events/rs256")).unwrap();
    let (failures, statuses) =
        check_events(&description, &state_of("local-env-rs256.json"), files).await;
    assert_eq!(failures, Vec::<String>::new());
    assert!(statuses.contains(&200), "{statuses:?}");
}

#[tokio::test]
async fn every_cookie_events_answer_matches_the_description() {
    let description = Description::load();
    let files = events::load(&root().join("events/cookies")).unwrap();
    assert!(files.len() >= 6, "{} cookie-mode events", files.len());
    let (failures, statuses) =
        check_events(&description, &state_of("local-env-cookies.json"), files).await;
    assert_eq!(failures, Vec::<String>::new());
    assert!(
        statuses.contains(&200) && statuses.contains(&401),
        "{statuses:?}"
    );
}

/// Checks `answer` for `method path` and returns it.
fn checked(description: &Description, method: Method, path: &str, answer: Answer) -> Answer {
    if let Err(why) = description.check(method.as_str(), path, &answer) {
        panic!("{why}");
    }
    answer
}

fn login_request(password: &str) -> Request {
    let body = json!({"username": "cosmo", "password": password}).to_string();
    request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        Some(&body),
    )
}

#[tokio::test]
async fn a_throttled_login_matches_the_description() {
    let description = Description::load();
    let state = state_with(&[("LOGIN_MAX_FAILURES", "1")]);
    let first = answer(&state, login_request("wrong")).await;
    checked(&description, Method::POST, "/login", first);
    let throttled = answer(&state, login_request(PASSWORD)).await;
    let throttled = checked(&description, Method::POST, "/login", throttled);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
}

#[tokio::test]
async fn rotation_and_a_replay_match_the_description() {
    let description = Description::load();
    let state = state_builder(&[("JWT_REFRESH_TOKEN_ROTATION", "true")])
        .clock(Clock::manual())
        .build()
        .unwrap();
    let login = answer(&state, login_request(PASSWORD)).await;
    let login = checked(&description, Method::POST, "/login", login);
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();
    for expected in [200, 200, 401] {
        // The second is a retry within the grace; the third is a replay after it.
        if expected == 401 {
            state.clock().advance(Duration::from_secs(60));
        }
        let refreshed = answer(&state, bearer_request("POST", "/refresh", &refresh_token)).await;
        let refreshed = checked(&description, Method::POST, "/refresh", refreshed);
        assert_eq!(refreshed.status, expected, "{}", refreshed.body);
        if expected == 200 {
            assert!(
                refreshed.body.get("refresh_token").is_some(),
                "{}",
                refreshed.body
            );
        }
    }
    // The session is over: its access token too.
    let access_token = login.body["access_token"].as_str().unwrap();
    let profile = answer(&state, bearer_request("GET", "/profile", access_token)).await;
    let profile = checked(&description, Method::GET, "/profile", profile);
    assert_eq!(profile.status, 401, "{}", profile.body);
}

/// A store slower than the request's budget: 503 with `Retry-After` at every route that uses
/// it, `error` at login and `msg` elsewhere.
#[tokio::test]
async fn a_store_past_the_deadline_matches_the_description() {
    let description = Description::load();
    let fast = Service::new(Backend::Memory, &[]).await;
    let (access, refresh) = fast.login().await;
    let slow = Service::with(
        Backend::Memory,
        Setup {
            store_delay: Some(Duration::from_millis(300)),
            request_budget: Some(Duration::from_millis(50)),
            ..Setup::default()
        },
    )
    .await;
    let logout_body = json!({"refresh_token": refresh}).to_string();
    let requests = [
        (Method::POST, "/login", login_request(PASSWORD)),
        (
            Method::POST,
            "/refresh",
            bearer_request("POST", "/refresh", &refresh),
        ),
        (
            Method::GET,
            "/profile",
            bearer_request("GET", "/profile", &access),
        ),
        (
            Method::POST,
            "/logout",
            request(
                "POST",
                "/logout",
                &[
                    ("content-type", "application/json"),
                    ("authorization", &format!("Bearer {access}")),
                ],
                Some(&logout_body),
            ),
        ),
    ];
    for (method, path, request) in requests {
        let unavailable = answer(&slow.state, request).await;
        let unavailable = checked(&description, method, path, unavailable);
        assert_eq!(unavailable.status, 503, "{path}: {}", unavailable.body);
    }
}

/// A body over the server's limit is refused before any handler, by the server itself.
#[test]
fn a_body_over_the_limit_matches_the_description() {
    let description = Description::load();
    let server = crate::binary::start_server();
    let agent = crate::binary::agent();
    let body = vec![b' '; local_api::MAX_BODY_BYTES + 1];
    for (method, path) in [("POST", "/login"), ("POST", "/logout"), ("GET", "/profile")] {
        let url = format!("{}{path}", server.url);
        let request = lambda_http::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .unwrap();
        let mut response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
            .collect();
        let body: Value = response.body_mut().read_json().unwrap();
        let answer = Answer {
            status,
            headers,
            body,
        };
        let answer = checked(&description, method.parse().unwrap(), path, answer);
        assert_eq!(answer.status, 413, "{path}: {}", answer.body);
    }
}

/// The checks can fail: an answer the description does not allow is refused.
#[test]
fn answers_the_description_does_not_allow_are_refused() {
    let description = Description::load();
    let answer = |status: u16, headers: &[(&str, &str)], body: Value| Answer {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        body,
    };
    let json = ("content-type", "application/json");
    let bearer = ("www-authenticate", "Bearer");
    let refused = [
        // Login's errors are `error`, not `msg`.
        (
            "POST",
            "/login",
            answer(
                401,
                &[json, bearer],
                json!({"msg": "Bad username or password"}),
            ),
        ),
        // A 401 without WWW-Authenticate.
        (
            "GET",
            "/profile",
            answer(401, &[json], json!({"msg": "Missing Authorization Header"})),
        ),
        // A status the route does not answer.
        ("GET", "/profile", answer(418, &[json], json!({"msg": "x"}))),
        // A 503 without Retry-After.
        (
            "POST",
            "/refresh",
            answer(503, &[json], json!({"msg": "Service unavailable"})),
        ),
        // A body that is not JSON's content type.
        (
            "POST",
            "/logout",
            answer(
                200,
                &[("content-type", "text/plain")],
                json!({"msg": "Successfully logged out"}),
            ),
        ),
        // A token pair with one more field.
        (
            "POST",
            "/login",
            answer(
                200,
                &[json],
                json!({"access_token": "a.b.c", "refresh_token": "a.b.c", "password": "x"}),
            ),
        ),
        // A JWK with a private part.
        (
            "GET",
            "/.well-known/jwks.json",
            answer(
                200,
                &[json, ("cache-control", "public, max-age=3600")],
                json!({"keys": [{"kty": "OKP", "kid": "k", "use": "sig", "alg": "EdDSA",
                    "crv": "Ed25519", "x": "x", "d": "private"}]}),
            ),
        ),
        // A route that is not there.
        ("GET", "/admin", answer(200, &[json], json!({}))),
    ];
    for (method, path, answer) in refused {
        assert!(
            description.check(method, path, &answer).is_err(),
            "{method} {path} {} {} was accepted",
            answer.status,
            answer.body
        );
    }
    // And the same shapes, right, are accepted.
    let accepted = answer(
        401,
        &[json, bearer],
        json!({"error": "Bad username or password"}),
    );
    assert_eq!(description.check("POST", "/login", &accepted), Ok(()));
}

/// The `name=value` of every `Set-Cookie` of `answer`.
fn set_cookies(answer: &Answer) -> Vec<(String, String)> {
    answer
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .map(|(_, value)| {
            let pair = value.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn cookie_of<'a>(cookies: &'a [(String, String)], name: &str) -> &'a str {
    &cookies
        .iter()
        .find(|(key, _)| key == name)
        .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
        .1
}

/// A browser's session in cookie mode, every answer checked: the cookies login sets, a GET
/// without a CSRF value, a POST without it or with the wrong one, a refresh that sets a new
/// access cookie, a logout that clears them all.
#[tokio::test]
async fn cookie_mode_matches_the_description() {
    let description = Description::load();
    let state = state_with(&[
        ("JWT_TOKEN_LOCATION", "cookies"),
        ("JWT_COOKIE_DOMAIN", "example.com"),
    ]);
    let call = async |method: Method, path: &str, headers: &[(&str, &str)]| {
        let request = request(method.as_str(), path, headers, None);
        let answer = answer(&state, request).await;
        checked(&description, method, path, answer)
    };
    let login = answer(&state, login_request(PASSWORD)).await;
    let login = checked(&description, Method::POST, "/login", login);
    assert_eq!(login.body, json!({"msg": "Login successful"}));
    let cookies = set_cookies(&login);
    // The tokens' four and the device proof's.
    assert_eq!(cookies.len(), 5, "{cookies:?}");
    let access = format!(
        "access_token_cookie={}",
        cookie_of(&cookies, "access_token_cookie")
    );
    let refresh = format!(
        "refresh_token_cookie={}",
        cookie_of(&cookies, "refresh_token_cookie")
    );
    let access_csrf = cookie_of(&cookies, "csrf_access_token").to_owned();
    let refresh_csrf = cookie_of(&cookies, "csrf_refresh_token").to_owned();

    let profile = call(Method::GET, "/profile", &[("cookie", &access)]).await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    let no_csrf = call(Method::POST, "/refresh", &[("cookie", &refresh)]).await;
    assert_eq!(no_csrf.body, json!({"msg": "Missing CSRF token"}));
    let refreshed = call(
        Method::POST,
        "/refresh",
        &[("cookie", &refresh), ("x-csrf-token", &refresh_csrf)],
    )
    .await;
    assert_eq!(refreshed.body, json!({"msg": "Token refreshed"}));
    assert!(!set_cookies(&refreshed).is_empty());
    let wrong_csrf = call(
        Method::POST,
        "/logout",
        &[("cookie", &access), ("x-csrf-token", &refresh_csrf)],
    )
    .await;
    assert_eq!(
        wrong_csrf.body,
        json!({"msg": "CSRF double submit tokens do not match"})
    );
    let logout = call(
        Method::POST,
        "/logout",
        &[("cookie", &access), ("x-csrf-token", &access_csrf)],
    )
    .await;
    assert_eq!(logout.status, 200, "{}", logout.body);
    assert_eq!(set_cookies(&logout).len(), 4, "{:?}", logout.headers);
    let after = call(Method::GET, "/profile", &[("cookie", &access)]).await;
    assert_eq!(after.status, 401, "{}", after.body);
    let none = call(Method::GET, "/profile", &[]).await;
    assert_eq!(
        none.body,
        json!({"msg": "Missing cookie \"access_token_cookie\""})
    );
}

/// Both locations: a login answers the tokens and sets the cookies; a header token put in a
/// cookie has no CSRF claim to prove; no token at all names both places.
#[tokio::test]
async fn both_locations_match_the_description() {
    let description = Description::load();
    let state = state_with(&[("JWT_TOKEN_LOCATION", "headers,cookies")]);
    let header_state = state_with(&[]);
    let login = answer(&state, login_request(PASSWORD)).await;
    let login = checked(&description, Method::POST, "/login", login);
    assert_eq!(set_cookies(&login).len(), 5, "{:?}", login.headers);
    assert!(login.body.get("access_token").is_some(), "{}", login.body);
    let header_login = answer(&header_state, login_request(PASSWORD)).await;
    let header_refresh = header_login.body["refresh_token"].as_str().unwrap();
    let cookie = format!("refresh_token_cookie={header_refresh}");
    let in_a_cookie = request(
        "POST",
        "/refresh",
        &[("cookie", &cookie), ("x-csrf-token", "anything")],
        None,
    );
    let no_claim = checked(
        &description,
        Method::POST,
        "/refresh",
        answer(&state, in_a_cookie).await,
    );
    assert_eq!(no_claim.body, json!({"msg": "Missing claim: csrf"}));
    let nothing = answer(&state, request("GET", "/profile", &[], None)).await;
    let nothing = checked(&description, Method::GET, "/profile", nothing);
    assert_eq!(nothing.status, 401, "{}", nothing.body);
}

//! `openapi.yaml` tells the truth: it has exactly the routes of `local_api::ROUTES`, and the
//! handlers' real answers match it. Every event of `events/`, `events/rs256/` and
//! `events/cookies/` is replayed through its handler (as `events.rs` does), and so are answers
//! no event documents (a throttled login, a store past the deadline, rotation and a replay, a
//! browser's cookie session, a body over the limit; the self-service routes' whole story, from
//! a sign-up and its mailed token to a reset, every refusal of each, their per-address limits,
//! a mail service and a store that are down): each answer's status must be documented
//! for its operation, with its content type, every header the description requires (each
//! `Set-Cookie` matching its pattern), and a body its JSON Schema accepts (the `jsonschema`
//! crate, draft 2020-12, the dialect of OpenAPI 3.1). The examples must match their schemas
//! too. `scripts/schemathesis` fuzzes the running server against the same file.

use std::{collections::BTreeSet, fs, path::PathBuf, sync::Arc, time::Duration};

use crate::common::{Backend, PASSWORD, Service, Setup};
use auth_core::{
    AppState, Stores,
    accounts::mail::Mailer,
    clock::Clock,
    sessions::InMemorySessionStore,
    settings::{Settings, accounts::MIN_ANSWER_TIME_VAR},
    users::InMemoryUserStore,
};
use auth_testkit::{
    bearer_request, json_body,
    mail::{DownMailer, Outbox},
    payload_of, request, settings_with, state_builder, state_with,
};
use lambda_emulator::events::{self, EventFile};
use lambda_http::{Body, Request, Response, http::Method};
use local_api::{function_for, invoke, route_for};
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
            // A 204 has no body; every other answer's is JSON.
            body: match response.body().as_ref().is_empty() {
                true => Value::Null,
                false => json_body(response),
            },
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

/// A JSON pointer as a URI fragment (RFC 6901 section 6): what a fragment may not hold
/// (a path parameter's braces, `/sessions/{id}`) percent-encoded.
fn fragment(pointer: &str) -> String {
    let mut encoded = String::new();
    for byte in pointer.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => encoded.push(char::from(byte)),
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+'
            | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?' => encoded.push(char::from(byte)),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
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
        object.insert(
            "$ref".into(),
            Value::String(format!("#{}", fragment(pointer))),
        );
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
        // An answer documented without content (a 204) has no body and no content type.
        if documented.get("content").is_none() {
            if answer.body != Value::Null || !content_type.is_empty() {
                return Err(format!(
                    "{method} {path} {status}: documented without content, answered {content_type:?} {}",
                    answer.body
                ));
            }
        } else {
            let media = documented["content"].get(content_type).ok_or_else(|| {
                format!("{method} {path} {status}: content type {content_type:?} is not documented")
            })?;
            assert!(media.get("schema").is_some(), "{response}: no schema");
            let schema = format!("{response}/content/{}/schema", escape(content_type));
            self.validate(&schema, &answer.body)
                .map_err(|why| format!("{method} {path} {status}: {why}"))?;
        }
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

/// The state `env_file` (an `--env-vars` file of `sam local invoke`) configures, as a
/// deployment has it: the demo user over the in-memory stores, the self-service ones included,
/// and a mailer (an outbox); answers that must not tell addresses apart are not held back.
fn state_of(env_file: &str) -> AppState {
    let text = fs::read_to_string(root().join(env_file)).expect("the env file");
    let env: Value = serde_json::from_str(&text).expect("an --env-vars file is JSON");
    let parameters = env["Parameters"].as_object().expect("Parameters").clone();
    let settings = Settings::from_lookup(|name| match parameters.get(name) {
        Some(value) => value.as_str().map(str::to_owned),
        None => (name == MIN_ANSWER_TIME_VAR).then(|| "0".to_owned()),
    })
    .expect("the env file's settings are valid");
    AppState::builder(&settings, memory_stores())
        .mailer(Arc::new(Outbox::new()))
        .build()
        .unwrap()
}

/// The demo user over the in-memory stores, with the self-service routes' records.
fn memory_stores() -> Stores {
    Stores::in_memory(
        Arc::new(InMemoryUserStore::demo()),
        Arc::new(InMemorySessionStore::default()),
    )
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
        let method = request.method().clone();
        let path = described_path(&method, request.uri().path());
        let answer = answer(state, request).await;
        statuses.insert(answer.status);
        if let Err(why) = description.check(method.as_str(), &path, &answer) {
            failures.push(format!("{}: {why}", file.name));
        }
    }
    (failures, statuses)
}

/// The path the description has for a request's `path`: its route's (`/sessions/{id}`).
fn described_path(method: &Method, path: &str) -> String {
    route_for(method, path)
        .unwrap_or_else(|| panic!("no route of {method} {path}"))
        .path
        .to_owned()
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
        BTreeSet::from([200, 400, 401, 404, 409, 415, 422]),
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
        // A sign-up that answers tokens, or anything but `{}`.
        (
            "POST",
            "/signup",
            answer(
                200,
                &[json],
                json!({"access_token": "a.b.c", "refresh_token": "a.b.c"}),
            ),
        ),
        // A 401 of /password without WWW-Authenticate.
        (
            "POST",
            "/password",
            answer(401, &[json], json!({"msg": "Fresh token required"})),
        ),
        // A per-address 429 without Retry-After.
        (
            "POST",
            "/recover",
            answer(
                429,
                &[json],
                json!({"error": "Too many requests: try again later"}),
            ),
        ),
        // A status the route does not answer: /recover tells no address apart.
        (
            "POST",
            "/recover",
            answer(404, &[json], json!({"error": "Unknown address"})),
        ),
        // A second factor's secret that a cache may keep.
        (
            "POST",
            "/mfa/totp",
            answer(
                200,
                &[json],
                json!({"secret": "JBSWY3DPEHPK3PXP", "otpauth_uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
                    "qr_svg": "<?xml version=\"1.0\"?><svg ></svg>"}),
            ),
        ),
        // Nine recovery codes.
        (
            "POST",
            "/mfa/totp/confirm",
            answer(
                200,
                &[json, ("cache-control", "no-store")],
                json!({"recovery_codes": (1..=9).map(|n| format!("7k2m-9qxd-4hw{n}")).collect::<Vec<_>>()}),
            ),
        ),
        // A login's mfa_required with tokens beside it.
        (
            "POST",
            "/login",
            answer(
                403,
                &[json],
                json!({"error": "mfa_required", "mfa_token": "S1onlUj5wrGdoP-2DyD1tkPxkJWrWTUF6pLTVJRDhsA",
                    "access_token": "a.b.c"}),
            ),
        ),
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

const ANN: &str = "ann@example.com";
const ANN_PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "violet lantern orbit";

/// A deployment with sign-up open over the in-memory stores (the self-service ones included),
/// its mail sent to `mailer`, on a clock the test moves, and the `overrides`.
fn accounts_state(overrides: &[(&str, &str)], mailer: Arc<dyn Mailer>) -> AppState {
    // The first of a name counts: the overrides, then these.
    let mut all = overrides.to_vec();
    all.extend([
        ("SIGNUP", "open"),
        ("APP_URL", "https://app.example/welcome"),
        (MIN_ANSWER_TIME_VAR, "0"),
    ]);
    AppState::builder(&settings_with(&all), memory_stores())
        .mailer(mailer)
        .clock(Clock::manual_at(Clock::System.now()))
        .password_workers(2)
        .build()
        .unwrap()
}

/// `POST path` with `body` and `headers` as they are, its answer checked against the
/// description.
async fn post_raw(
    description: &Description,
    state: &AppState,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let answer = answer(state, request("POST", path, headers, Some(body))).await;
    checked(description, Method::POST, path, answer)
}

/// A cookie-mode route that logs in (`path` with `body`): refused with 415 while its body is not
/// declared JSON (login CSRF), then `{"msg": "Login successful"}` and the four cookies (each
/// token and its CSRF value), which it answers, every answer checked against the description.
async fn cookie_login(
    description: &Description,
    state: &AppState,
    path: &str,
    body: &Value,
) -> Vec<(String, String)> {
    let body = body.to_string();
    let undeclared = post_raw(description, state, path, &[], &body).await;
    assert_eq!(undeclared.status, 415, "{}", undeclared.body);
    let declared = [("content-type", "application/json")];
    let signed_in = post_raw(description, state, path, &declared, &body).await;
    assert_eq!(signed_in.body, json!({"msg": "Login successful"}));
    let cookies = set_cookies(&signed_in);
    assert_eq!(cookies.len(), 4, "{cookies:?}");
    cookies
}

/// `POST path` with a JSON body (and `headers`), its answer checked; `status` expected.
async fn post(
    description: &Description,
    state: &AppState,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
    status: u16,
) -> Answer {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    let answer = post_raw(description, state, path, &all, &body.to_string()).await;
    assert_eq!(answer.status, status, "POST {path} {body}: {}", answer.body);
    answer
}

/// The message of an error body, under either key.
fn message(answer: &Answer) -> &str {
    answer.body["error"]
        .as_str()
        .or_else(|| answer.body["msg"].as_str())
        .unwrap_or_else(|| panic!("no message in {}", answer.body))
}

/// Every self-service route's story, each answer checked: a sign-up and every way its body is
/// refused, a login before the address is confirmed, the confirmation (a login's tokens) and
/// its replay, a password change with every refusal, a recovery, its link checked, refused
/// tokens and passwords, and the reset; `/resend` and `/recover` of addresses known or not.
#[tokio::test]
async fn the_self_service_routes_answers_match_the_description() {
    let description = Description::load();
    let outbox = Outbox::new();
    let state = accounts_state(&[], Arc::new(outbox.clone()));
    let post = async |path: &str, headers: &[(&str, &str)], body: Value, status: u16| {
        post(&description, &state, path, headers, body, status).await
    };

    let signup = json!({"email": ANN, "password": ANN_PASSWORD});
    assert_eq!(
        post("/signup", &[], signup.clone(), 200).await.body,
        json!({})
    );
    let long = "x".repeat(1025);
    for refused in [
        json!({"email": "not-an-address", "password": ANN_PASSWORD}),
        json!({"email": "ännä@example.com", "password": ANN_PASSWORD}),
        json!({"email": ANN, "password": "password"}),
        json!({"email": ANN, "password": long}),
        json!({"email": 7, "password": null, "extra": true}),
        json!({}),
        json!(["email"]),
        json!("text"),
    ] {
        let answer = post("/signup", &[], refused, 400).await;
        assert!(answer.body["error"].is_object(), "{}", answer.body);
    }
    let not_json = post_raw(
        &description,
        &state,
        "/signup",
        &[("content-type", "application/json")],
        "{\"email\":",
    )
    .await;
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    let text = post_raw(
        &description,
        &state,
        "/signup",
        &[("content-type", "text/plain")],
        "{}",
    )
    .await;
    assert_eq!(text.status, 415, "{}", text.body);

    let login = json!({"username": ANN, "password": ANN_PASSWORD});
    let unconfirmed = post("/login", &[], login.clone(), 403).await;
    assert_eq!(unconfirmed.body, json!({"error": "Email not confirmed"}));

    let token = outbox.last_token_to(ANN);
    let bad_type = post(
        "/verify",
        &[],
        json!({"type": "magiclink", "token": token}),
        400,
    )
    .await;
    assert_eq!(
        bad_type.body,
        json!({"error": {"type": ["Must be one of: signup, recovery."]}})
    );
    post("/verify", &[], json!({"type": "signup"}), 400).await;
    let wrong = post(
        "/verify",
        &[],
        json!({"type": "recovery", "token": token}),
        400,
    )
    .await;
    assert_eq!(message(&wrong), "Token is invalid or has expired");
    let confirmed = post(
        "/verify",
        &[],
        json!({"type": "signup", "token": token, "password": ANN_PASSWORD}),
        200,
    )
    .await;
    let access = confirmed.body["access_token"].as_str().unwrap().to_owned();
    let refresh = confirmed.body["refresh_token"].as_str().unwrap().to_owned();
    post(
        "/verify",
        &[],
        json!({"type": "signup", "token": token, "password": ANN_PASSWORD}),
        400,
    )
    .await;

    // /password: the token's errors first, then freshness, then the body.
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let bearer = format!("Bearer {access}");
    let no_token = post("/password", &[], change(ANN_PASSWORD, NEW_PASSWORD), 401).await;
    assert_eq!(message(&no_token), "Missing Authorization Header");
    post(
        "/password",
        &[("authorization", "Bearer not a token")],
        change(ANN_PASSWORD, NEW_PASSWORD),
        422,
    )
    .await;
    post(
        "/password",
        &[("authorization", "Bearer not.a.token")],
        change(ANN_PASSWORD, NEW_PASSWORD),
        422,
    )
    .await;
    let refreshed = answer(&state, bearer_request("POST", "/refresh", &refresh)).await;
    let stale = format!(
        "Bearer {}",
        refreshed.body["access_token"].as_str().unwrap()
    );
    let not_fresh = post(
        "/password",
        &[("authorization", &stale)],
        change(ANN_PASSWORD, NEW_PASSWORD),
        401,
    )
    .await;
    assert_eq!(not_fresh.body, json!({"msg": "Fresh token required"}));
    let wrong = post(
        "/password",
        &[("authorization", &bearer)],
        change("not my password", NEW_PASSWORD),
        401,
    )
    .await;
    assert_eq!(
        wrong.body,
        json!({"error": "Current password is incorrect"})
    );
    let weak = post(
        "/password",
        &[("authorization", &bearer)],
        change(ANN_PASSWORD, "12345678"),
        400,
    )
    .await;
    assert!(
        weak.body["error"]["new_password"].is_array(),
        "{}",
        weak.body
    );
    post(
        "/password",
        &[("authorization", &bearer)],
        json!({"new_password": 1}),
        400,
    )
    .await;
    let text = post_raw(
        &description,
        &state,
        "/password",
        &[("authorization", &bearer), ("content-type", "text/plain")],
        "{}",
    )
    .await;
    assert_eq!(text.status, 415, "{}", text.body);
    post(
        "/password",
        &[("authorization", &bearer)],
        change(ANN_PASSWORD, NEW_PASSWORD),
        200,
    )
    .await;

    // /recover and /resend: 200 whatever the address; 400 for what is no address.
    state.clock().advance(Duration::from_secs(61));
    for body in [
        json!({"email": "nobody@example.com"}),
        json!({"email": ANN}),
    ] {
        assert_eq!(post("/recover", &[], body, 200).await.body, json!({}));
    }
    post("/recover", &[], json!({"email": "ann@example"}), 400).await;
    post("/recover", &[], json!({"address": ANN}), 400).await;
    for kind in ["signup", "recovery"] {
        post("/resend", &[], json!({"type": kind, "email": ANN}), 200).await;
        post(
            "/resend",
            &[],
            json!({"type": kind, "email": "nobody@example.com"}),
            200,
        )
        .await;
    }
    post("/resend", &[], json!({"type": "reset", "email": ANN}), 400).await;
    post(
        "/resend",
        &[],
        json!({"type": "signup", "email": "@example.com"}),
        400,
    )
    .await;

    // The reset: the link checked, refused tokens and passwords, then the new password.
    let token = outbox.last_token_to(ANN);
    let checked_link = post(
        "/verify",
        &[],
        json!({"type": "recovery", "token": token}),
        200,
    )
    .await;
    assert_eq!(checked_link.body, json!({}));
    let reset = |token: &str, new: &str| json!({"token": token, "new_password": new});
    let unknown = post(
        "/password/reset",
        &[],
        reset(
            "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M",
            "lunar kettle quilt",
        ),
        400,
    )
    .await;
    assert_eq!(
        unknown.body,
        json!({"error": "Token is invalid or has expired"})
    );
    let weak = post("/password/reset", &[], reset(&token, "short"), 400).await;
    assert!(
        weak.body["error"]["new_password"].is_array(),
        "{}",
        weak.body
    );
    post("/password/reset", &[], json!({"token": token}), 400).await;
    post(
        "/password/reset",
        &[],
        reset(&token, "lunar kettle quilt"),
        200,
    )
    .await;
    post(
        "/password/reset",
        &[],
        reset(&token, "lunar kettle quilt"),
        400,
    )
    .await;
    let login = json!({"username": ANN, "password": "lunar kettle quilt"});
    post("/login", &[], login, 200).await;
}

/// Refusals of the self-service routes that take a deployment of their own: sign-up off or
/// for other domains (403), a route over its per-address limit (429 with `Retry-After`, `msg`
/// at `/password`, which takes a token), too many wrong current passwords (the login
/// throttle's 429), a mail service that is down (503 at a sign-up) and a store that is (503
/// at every route).
#[tokio::test]
async fn the_self_service_routes_refusals_match_the_description() {
    let description = Description::load();
    let signup = json!({"email": ANN, "password": ANN_PASSWORD});
    let outbox = || Arc::new(Outbox::new()) as Arc<dyn Mailer>;

    let off = accounts_state(&[("SIGNUP", "off")], outbox());
    let disabled = post(&description, &off, "/signup", &[], signup.clone(), 403).await;
    assert_eq!(disabled.body, json!({"error": "Sign-up is disabled"}));
    let corporate = accounts_state(&[("SIGNUP", "example.org")], outbox());
    let domain = post(
        &description,
        &corporate,
        "/signup",
        &[],
        signup.clone(),
        403,
    )
    .await;
    assert_eq!(
        domain.body,
        json!({"error": "Sign-up is not open to addresses of this domain"})
    );

    let limited = accounts_state(
        &[
            ("LOGIN_IP_LIMIT", "1/1h"),
            ("SIGNUP_IP_LIMIT", "1/1h"),
            ("VERIFY_IP_LIMIT", "1/1h"),
            ("RECOVER_IP_LIMIT", "1/1h"),
            ("RESEND_IP_LIMIT", "1/1h"),
            ("PASSWORD_IP_LIMIT", "1/1h"),
        ],
        outbox(),
    );
    let verify = json!({"type": "signup", "token": "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M", "password": ANN_PASSWORD});
    let change = json!({"current_password": ANN_PASSWORD, "new_password": NEW_PASSWORD});
    // `/password` and `/password/reset` share one allowance: the reset is over it at once.
    for (path, body, first) in [
        (
            "/login",
            json!({"username": "cosmo", "password": PASSWORD}),
            Some(200),
        ),
        ("/signup", signup.clone(), Some(200)),
        ("/verify", verify, Some(400)),
        ("/recover", json!({"email": ANN}), Some(200)),
        (
            "/resend",
            json!({"type": "signup", "email": ANN}),
            Some(200),
        ),
        ("/password", change.clone(), Some(401)),
        (
            "/password/reset",
            json!({"token": "t", "new_password": NEW_PASSWORD}),
            None,
        ),
    ] {
        if let Some(status) = first {
            post(&description, &limited, path, &[], body.clone(), status).await;
        }
        let over = post(&description, &limited, path, &[], body, 429).await;
        assert_eq!(
            message(&over),
            "Too many requests: try again later",
            "{path}"
        );
        assert!(over.header("retry-after").is_some(), "{path}");
    }

    let strict = accounts_state(&[("LOGIN_MAX_FAILURES", "1")], outbox());
    let login = answer(&strict, login_request(PASSWORD)).await;
    let bearer = format!("Bearer {}", login.body["access_token"].as_str().unwrap());
    let wrong = json!({"current_password": "not my password", "new_password": NEW_PASSWORD});
    post(
        &description,
        &strict,
        "/password",
        &[("authorization", &bearer)],
        wrong.clone(),
        401,
    )
    .await;
    let throttled = post(
        &description,
        &strict,
        "/password",
        &[("authorization", &bearer)],
        wrong,
        429,
    )
    .await;
    assert_eq!(
        throttled.body,
        json!({"error": "Too many failed login attempts"})
    );

    let mail_down = accounts_state(&[], Arc::new(DownMailer));
    let unsent = post(
        &description,
        &mail_down,
        "/signup",
        &[],
        signup.clone(),
        503,
    )
    .await;
    assert_eq!(unsent.body, json!({"error": "Service unavailable"}));

    // A store that is down: DynamoDB at a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = auth_dynamodb::client::client_at(&endpoint).await;
    let settings = settings_with(&[
        ("SIGNUP", "open"),
        ("APP_URL", "https://app.example/welcome"),
        (MIN_ANSWER_TIME_VAR, "0"),
    ]);
    let down = AppState::builder(
        &settings,
        auth_dynamodb::stores(client, "users", "sessions"),
    )
    .mailer(outbox())
    .build()
    .unwrap();
    // A fresh token of the same secret, from a deployment that is up.
    let up = accounts_state(&[], outbox());
    let login = answer(&up, login_request(PASSWORD)).await;
    let bearer = format!("Bearer {}", login.body["access_token"].as_str().unwrap());
    let requests = [
        (
            "/login",
            vec![],
            json!({"username": "cosmo", "password": PASSWORD}),
        ),
        ("/signup", vec![], signup),
        (
            "/verify",
            vec![],
            json!({"type": "signup", "token": "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M", "password": ANN_PASSWORD}),
        ),
        ("/recover", vec![], json!({"email": ANN})),
        ("/resend", vec![], json!({"type": "recovery", "email": ANN})),
        (
            "/password",
            vec![("authorization", bearer.as_str())],
            change,
        ),
        (
            "/password/reset",
            vec![],
            json!({"token": "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M", "new_password": NEW_PASSWORD}),
        ),
    ];
    let answers =
        futures_util::future::join_all(requests.iter().map(|(path, headers, body)| {
            post(&description, &down, path, headers, body.clone(), 503)
        }))
        .await;
    for ((path, _, _), answer) in requests.iter().zip(answers) {
        let key = if *path == "/password" { "msg" } else { "error" };
        assert_eq!(answer.body, json!({key: "Service unavailable"}), "{path}");
    }
}

/// The self-service routes of a browser's deployment: a confirmation sets the session's
/// cookies as a login does (and needs its body declared JSON), `/password` takes the access
/// cookie with its CSRF value.
#[tokio::test]
async fn the_self_service_routes_in_cookie_mode_match_the_description() {
    let description = Description::load();
    let outbox = Outbox::new();
    let state = accounts_state(
        &[("JWT_TOKEN_LOCATION", "cookies")],
        Arc::new(outbox.clone()),
    );
    let signup = json!({"email": ANN, "password": ANN_PASSWORD});
    post(&description, &state, "/signup", &[], signup, 200).await;
    let verify =
        json!({"type": "signup", "token": outbox.last_token_to(ANN), "password": ANN_PASSWORD});
    let cookies = cookie_login(&description, &state, "/verify", &verify).await;
    let access = format!(
        "access_token_cookie={}",
        cookie_of(&cookies, "access_token_cookie")
    );
    let csrf = cookie_of(&cookies, "csrf_access_token").to_owned();
    let change = json!({"current_password": ANN_PASSWORD, "new_password": NEW_PASSWORD});
    let no_csrf = post(
        &description,
        &state,
        "/password",
        &[("cookie", &access)],
        change.clone(),
        401,
    )
    .await;
    assert_eq!(no_csrf.body, json!({"msg": "Missing CSRF token"}));
    let headers = [("cookie", access.as_str()), ("x-csrf-token", csrf.as_str())];
    post(&description, &state, "/password", &headers, change, 200).await;
    let none = post(&description, &state, "/password", &[], json!({}), 401).await;
    assert_eq!(
        none.body,
        json!({"msg": "Missing cookie \"access_token_cookie\""})
    );
}

/// A key of these tests' own for the second factor's secrets (32 bytes in base64).
const MFA_KEY: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

/// One call of `method path` (a JSON body when given, and `headers`), its answer checked
/// against the description and its status asserted; a `/mfa`, `/sessions` or `/account`
/// answer must also say `Cache-Control: no-store`.
async fn call(
    description: &Description,
    state: &AppState,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
    status: u16,
) -> Answer {
    let text = body.as_ref().map(Value::to_string);
    let mut all = headers.to_vec();
    if text.is_some() && !headers.iter().any(|(name, _)| *name == "content-type") {
        all.push(("content-type", "application/json"));
    }
    let answer = answer(state, request(method.as_str(), path, &all, text.as_deref())).await;
    // The description's path: the route's (`/sessions/{id}`), without the query.
    let described = described_path(&method, path.split('?').next().unwrap_or(path));
    let answer = checked(description, method.clone(), &described, answer);
    assert_eq!(
        answer.status, status,
        "{method} {path} {text:?}: {}",
        answer.body
    );
    let stays_out_of_caches = ["/mfa", "/sessions", "/account"];
    if stays_out_of_caches
        .iter()
        .any(|prefix| path.starts_with(prefix))
    {
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
    }
    answer
}

/// The code an authenticator app shows now for `enrolment`'s secret, on `state`'s clock.
fn code_now(state: &AppState, enrolment: &Answer) -> String {
    let secret = enrolment.body["secret"].as_str().unwrap();
    let app = auth_mfa::Authenticator::from_base32(secret, "cosmo", "an app").unwrap();
    app.code_at(state.clock().unix_secs() as u64)
}

/// The second factor's whole story, every answer checked: each `/mfa` route's refusals (no
/// token, a bad one, a refreshed one, a bad body, no factor to act on, a wrong code) and its
/// success; a login that answers 403 `mfa_required` and its second step with a code, a code
/// used already, a recovery code, a wrong `mfa_token`; new recovery codes; the factor off.
#[tokio::test]
async fn the_second_factors_answers_match_the_description() {
    let description = Description::load();
    let state = accounts_state(
        &[(auth_core::mfa::key::KEY_VAR, MFA_KEY)],
        Arc::new(Outbox::new()),
    );
    let call = async |method: Method,
                      path: &str,
                      headers: &[(&str, &str)],
                      body: Option<Value>,
                      status: u16| {
        call(&description, &state, method, path, headers, body, status).await
    };
    let login_body = json!({"username": "cosmo", "password": PASSWORD});

    let login = call(Method::POST, "/login", &[], Some(login_body.clone()), 200).await;
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(payload_of(&access)["amr"], json!(["pwd"]));
    let bearer = format!("Bearer {access}");
    let fresh: &[(&str, &str)] = &[("authorization", &bearer)];

    // The token first, then the body.
    let none = call(Method::POST, "/mfa/totp", &[], None, 401).await;
    assert_eq!(none.body, json!({"msg": "Missing Authorization Header"}));
    call(
        Method::POST,
        "/mfa/totp",
        &[("authorization", "Bearer not.a.token")],
        None,
        422,
    )
    .await;
    let refreshed = answer(&state, bearer_request("POST", "/refresh", &refresh)).await;
    let stale = format!(
        "Bearer {}",
        refreshed.body["access_token"].as_str().unwrap()
    );
    for (method, path) in [
        (Method::POST, "/mfa/totp"),
        (Method::POST, "/mfa/totp/confirm"),
        (Method::DELETE, "/mfa/totp"),
        (Method::POST, "/mfa/recovery-codes"),
    ] {
        let not_fresh = call(
            method,
            path,
            &[("authorization", &stale)],
            Some(json!({"code": "123456"})),
            401,
        )
        .await;
        assert_eq!(not_fresh.body, json!({"msg": "Fresh token required"}));
    }
    let unknown = call(Method::POST, "/mfa/totp", fresh, Some(json!({"x": 1})), 400).await;
    assert_eq!(unknown.body, json!({"error": {"x": ["Unknown field."]}}));
    let text = call(
        Method::POST,
        "/mfa/totp/confirm",
        &[("authorization", &bearer), ("content-type", "text/plain")],
        Some(json!({"code": "123456"})),
        415,
    )
    .await;
    assert_eq!(text.body["error"], "Content-Type must be application/json");

    // Nothing to act on yet.
    let not_on = call(
        Method::POST,
        "/mfa/totp/confirm",
        fresh,
        Some(json!({"code": "123456"})),
        409,
    )
    .await;
    assert_eq!(not_on.body, json!({"error": "No second factor to act on"}));
    for (method, path) in [
        (Method::DELETE, "/mfa/totp"),
        (Method::POST, "/mfa/recovery-codes"),
    ] {
        call(method, path, fresh, Some(json!({"code": "123456"})), 409).await;
    }

    // Enrolment: with no body or `{}`, the second secret replacing the first.
    let first = call(Method::POST, "/mfa/totp", fresh, None, 200).await;
    let enrolment = call(Method::POST, "/mfa/totp", fresh, Some(json!({})), 200).await;
    assert_ne!(first.body["secret"], enrolment.body["secret"]);
    let secret = enrolment.body["secret"].as_str().unwrap();
    assert!(
        enrolment.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .contains(&format!("secret={secret}")),
        "{}",
        enrolment.body
    );
    let old_code = code_now(&state, &first);
    let code = code_now(&state, &enrolment);
    for refused in [
        json!({}),
        json!({"recovery_code": "7k2m-9qxd-4hwe"}),
        json!([]),
    ] {
        let invalid = call(Method::POST, "/mfa/totp/confirm", fresh, Some(refused), 400).await;
        assert!(invalid.body["error"].is_object(), "{}", invalid.body);
    }
    if old_code != code {
        let wrong = call(
            Method::POST,
            "/mfa/totp/confirm",
            fresh,
            Some(json!({"code": old_code})),
            401,
        )
        .await;
        assert_eq!(wrong.body, json!({"error": "Invalid code"}));
    }
    let confirmed = call(
        Method::POST,
        "/mfa/totp/confirm",
        fresh,
        Some(json!({"code": code})),
        200,
    )
    .await;
    let recovery_codes: Vec<String> =
        serde_json::from_value(confirmed.body["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery_codes.len(), 10);
    let already = call(Method::POST, "/mfa/totp", fresh, None, 409).await;
    assert_eq!(
        already.body,
        json!({"error": "A second factor is already on: remove it first"})
    );
    call(
        Method::POST,
        "/mfa/totp/confirm",
        fresh,
        Some(json!({"code": code})),
        409,
    )
    .await;

    // A login now: 403 mfa_required, then its second step.
    let second_step = async |body: Value, status: u16| {
        call(Method::POST, "/login/mfa", &[], Some(body), status).await
    };
    let required = call(Method::POST, "/login", &[], Some(login_body.clone()), 403).await;
    assert_eq!(required.body["error"], "mfa_required");
    let mfa_token = required.body["mfa_token"].as_str().unwrap().to_owned();
    assert_eq!(mfa_token.len(), 43);
    for refused in [
        json!({"mfa_token": mfa_token}),
        json!({"mfa_token": mfa_token, "code": "1", "recovery_code": "2"}),
        json!({"code": "123456"}),
        json!("text"),
    ] {
        let invalid = second_step(refused, 400).await;
        assert!(invalid.body["error"].is_object(), "{}", invalid.body);
    }
    let unknown = second_step(
        json!({"mfa_token": "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M", "code": code}),
        401,
    )
    .await;
    assert_eq!(
        unknown.body,
        json!({"error": "MFA token is invalid or has expired"})
    );
    // The confirmation spent this step's code.
    let used = second_step(json!({"mfa_token": mfa_token, "code": code}), 401).await;
    assert_eq!(used.body, json!({"error": "Invalid code"}));
    state.clock().advance(Duration::from_secs(30));
    let code = code_now(&state, &enrolment);
    let signed_in = second_step(json!({"mfa_token": mfa_token, "code": code}), 200).await;
    let access = signed_in.body["access_token"].as_str().unwrap();
    assert_eq!(payload_of(access)["amr"], json!(["pwd", "otp", "mfa"]));
    // The token went with its success.
    second_step(json!({"mfa_token": mfa_token, "code": code}), 401).await;

    // A recovery code, in a login and for new codes; each works once.
    let required = call(Method::POST, "/login", &[], Some(login_body.clone()), 403).await;
    let signed_in = second_step(
        json!({"mfa_token": required.body["mfa_token"], "recovery_code": recovery_codes[0]}),
        200,
    )
    .await;
    let access = signed_in.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(payload_of(&access)["amr"], json!(["pwd", "mfa"]));
    let bearer = format!("Bearer {access}");
    let fresh: &[(&str, &str)] = &[("authorization", &bearer)];
    let used = call(
        Method::POST,
        "/mfa/recovery-codes",
        fresh,
        Some(json!({"recovery_code": recovery_codes[0]})),
        401,
    )
    .await;
    assert_eq!(used.body, json!({"error": "Invalid code"}));
    let renewed = call(
        Method::POST,
        "/mfa/recovery-codes",
        fresh,
        Some(json!({"recovery_code": recovery_codes[1]})),
        200,
    )
    .await;
    let renewed: Vec<String> =
        serde_json::from_value(renewed.body["recovery_codes"].clone()).unwrap();
    assert!(renewed.iter().all(|code| !recovery_codes.contains(code)));
    // The codes of before are dead.
    call(
        Method::DELETE,
        "/mfa/totp",
        fresh,
        Some(json!({"recovery_code": recovery_codes[2]})),
        401,
    )
    .await;

    // Off, with a code of a step not spent yet; a login takes the password alone again.
    call(
        Method::DELETE,
        "/mfa/totp",
        fresh,
        Some(json!({"code": code, "recovery_code": recovery_codes[3]})),
        400,
    )
    .await;
    state.clock().advance(Duration::from_secs(30));
    let off = call(
        Method::DELETE,
        "/mfa/totp",
        fresh,
        Some(json!({"code": code_now(&state, &enrolment)})),
        200,
    )
    .await;
    assert_eq!(off.body, json!({}));
    call(
        Method::DELETE,
        "/mfa/totp",
        fresh,
        Some(json!({"code": "1"})),
        409,
    )
    .await;
    call(Method::POST, "/login", &[], Some(login_body), 200).await;
}

/// The second factor's refusals that take a deployment of their own: the factor locked
/// after `MFA_MAX_FAILURES` wrong codes (429 with `Retry-After`, at `/mfa` and at
/// `/login/mfa`), and a route over `MFA_IP_LIMIT` (`msg` at `/mfa`, `error` at `/login/mfa`).
#[tokio::test]
async fn the_second_factors_refusals_match_the_description() {
    let description = Description::load();
    let strict = accounts_state(
        &[
            (auth_core::mfa::key::KEY_VAR, MFA_KEY),
            ("MFA_MAX_FAILURES", "1"),
        ],
        Arc::new(Outbox::new()),
    );
    let login_body = json!({"username": "cosmo", "password": PASSWORD});
    let login = call(
        &description,
        &strict,
        Method::POST,
        "/login",
        &[],
        Some(login_body.clone()),
        200,
    )
    .await;
    let bearer = format!("Bearer {}", login.body["access_token"].as_str().unwrap());
    let fresh: &[(&str, &str)] = &[("authorization", &bearer)];
    let enrolment = call(
        &description,
        &strict,
        Method::POST,
        "/mfa/totp",
        fresh,
        None,
        200,
    )
    .await;
    let code = code_now(&strict, &enrolment);
    call(
        &description,
        &strict,
        Method::POST,
        "/mfa/totp/confirm",
        fresh,
        Some(json!({"code": code})),
        200,
    )
    .await;
    let required = call(
        &description,
        &strict,
        Method::POST,
        "/login",
        &[],
        Some(login_body),
        403,
    )
    .await;
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = json!({"mfa_token": required.body["mfa_token"], "code": wrong_code});
    for status in [401, 429] {
        let answer = call(
            &description,
            &strict,
            Method::POST,
            "/login/mfa",
            &[],
            Some(wrong.clone()),
            status,
        )
        .await;
        if status == 429 {
            assert_eq!(
                answer.body,
                json!({"error": "Too many wrong codes: try again later"})
            );
            assert!(answer.header("retry-after").is_some());
        }
    }
    let locked = call(
        &description,
        &strict,
        Method::POST,
        "/mfa/recovery-codes",
        fresh,
        Some(json!({"code": wrong_code})),
        429,
    )
    .await;
    assert_eq!(
        locked.body,
        json!({"error": "Too many wrong codes: try again later"})
    );

    let limited = accounts_state(
        &[
            (auth_core::mfa::key::KEY_VAR, MFA_KEY),
            ("MFA_IP_LIMIT", "1/1h"),
        ],
        Arc::new(Outbox::new()),
    );
    let login = answer(&limited, login_request(PASSWORD)).await;
    let bearer = format!("Bearer {}", login.body["access_token"].as_str().unwrap());
    let body =
        json!({"mfa_token": "n56TBiPPD55krFDdTn4e66yU_yiiodhICuLatZwM88M", "code": "123456"});
    // `/login/mfa` and the `/mfa` routes share one allowance.
    call(
        &description,
        &limited,
        Method::POST,
        "/login/mfa",
        &[],
        Some(body.clone()),
        401,
    )
    .await;
    let over = call(
        &description,
        &limited,
        Method::POST,
        "/login/mfa",
        &[],
        Some(body),
        429,
    )
    .await;
    assert_eq!(
        over.body,
        json!({"error": "Too many requests: try again later"})
    );
    let over = call(
        &description,
        &limited,
        Method::POST,
        "/mfa/totp",
        &[("authorization", &bearer)],
        None,
        429,
    )
    .await;
    assert_eq!(
        over.body,
        json!({"msg": "Too many requests: try again later"})
    );
    assert!(over.header("retry-after").is_some());
}

/// The second factor in a browser's deployment: the `/mfa` routes take the access cookie with
/// its CSRF value, and the second step of a login, whose body must be declared JSON, sets the
/// session's cookies as a login does.
#[tokio::test]
async fn the_second_factor_in_cookie_mode_matches_the_description() {
    let description = Description::load();
    let state = accounts_state(
        &[
            (auth_core::mfa::key::KEY_VAR, MFA_KEY),
            ("JWT_TOKEN_LOCATION", "cookies"),
        ],
        Arc::new(Outbox::new()),
    );
    let call = async |method: Method,
                      path: &str,
                      headers: &[(&str, &str)],
                      body: Option<Value>,
                      status: u16| {
        call(&description, &state, method, path, headers, body, status).await
    };
    let login_body = json!({"username": "cosmo", "password": PASSWORD});
    let login = call(Method::POST, "/login", &[], Some(login_body.clone()), 200).await;
    let cookies = set_cookies(&login);
    let access = format!(
        "access_token_cookie={}",
        cookie_of(&cookies, "access_token_cookie")
    );
    let csrf = cookie_of(&cookies, "csrf_access_token").to_owned();
    let no_csrf = call(Method::POST, "/mfa/totp", &[("cookie", &access)], None, 401).await;
    assert_eq!(no_csrf.body, json!({"msg": "Missing CSRF token"}));
    let headers = [("cookie", access.as_str()), ("x-csrf-token", csrf.as_str())];
    let enrolment = call(Method::POST, "/mfa/totp", &headers, None, 200).await;
    let code = code_now(&state, &enrolment);
    call(
        Method::POST,
        "/mfa/totp/confirm",
        &headers,
        Some(json!({"code": code})),
        200,
    )
    .await;
    let required = call(Method::POST, "/login", &[], Some(login_body), 403).await;
    assert!(set_cookies(&required).is_empty(), "{:?}", required.headers);
    state.clock().advance(Duration::from_secs(30));
    let body =
        json!({"mfa_token": required.body["mfa_token"], "code": code_now(&state, &enrolment)});
    let cookies = cookie_login(&description, &state, "/login/mfa", &body).await;
    let access = cookie_of(&cookies, "access_token_cookie");
    assert_eq!(payload_of(access)["amr"], json!(["pwd", "otp", "mfa"]));
}

/// The account's own routes, every answer checked: two logins from two devices, their sessions
/// listed (a page at a time: its `next_cursor`), one ended (`204`, no body) and ended again
/// (`404`), an unknown id, the activity log, and each route's refusals (no token, a refresh
/// token, a bad `limit` or `cursor`); then the logout scopes, and one that is none.
#[tokio::test]
async fn the_accounts_sessions_and_activity_match_the_description() {
    let description = Description::load();
    let state = accounts_state(&[], Arc::new(Outbox::new()));
    let call = async |method: Method,
                      path: &str,
                      headers: &[(&str, &str)],
                      body: Option<Value>,
                      status: u16| {
        call(&description, &state, method, path, headers, body, status).await
    };
    let login_body = json!({"username": "cosmo", "password": PASSWORD});
    let firefox = [(
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    )];
    let curl = [("user-agent", "curl/8.5.0")];
    let first = call(
        Method::POST,
        "/login",
        &firefox,
        Some(login_body.clone()),
        200,
    )
    .await;
    // A second later: the newest is listed first.
    state.clock().advance(Duration::from_secs(1));
    let second = call(Method::POST, "/login", &curl, Some(login_body), 200).await;
    let bearer = format!("Bearer {}", second.body["access_token"].as_str().unwrap());
    let authorized: &[(&str, &str)] = &[("authorization", &bearer)];

    let listed = call(Method::GET, "/sessions", authorized, None, 200).await;
    let sessions = listed.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{}", listed.body);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["device"]["browser"], "curl 8.5");
    assert_eq!(sessions[1]["device"]["browser"], "Firefox 133");
    let page = call(Method::GET, "/sessions?limit=1", authorized, None, 200).await;
    let next = page.body["next_cursor"].as_str().unwrap().to_owned();
    let last = call(
        Method::GET,
        &format!("/sessions?limit=1&cursor={next}"),
        authorized,
        None,
        200,
    )
    .await;
    assert!(last.body.get("next_cursor").is_none(), "{}", last.body);

    let other = format!("/sessions/{}", sessions[1]["id"].as_str().unwrap());
    let ended = call(Method::DELETE, &other, authorized, None, 204).await;
    assert_eq!(ended.body, Value::Null);
    let again = call(Method::DELETE, &other, authorized, None, 404).await;
    assert_eq!(again.body, json!({"msg": "Session not found"}));
    call(
        Method::DELETE,
        "/sessions/no-such-session",
        authorized,
        None,
        404,
    )
    .await;

    state.activity().settled().await;
    let activity = call(Method::GET, "/account/activity", authorized, None, 200).await;
    assert_eq!(activity.body["events"][0]["event"], "session_ended");

    // The refusals.
    for path in ["/sessions", "/account/activity"] {
        call(Method::GET, path, &[], None, 401).await;
        let refresh = format!("Bearer {}", first.body["refresh_token"].as_str().unwrap());
        call(Method::GET, path, &[("authorization", &refresh)], None, 422).await;
        for query in [
            "limit=0",
            "limit=101",
            "limit=x",
            "cursor=bad",
            "limit=1&limit=2",
        ] {
            let bad = call(
                Method::GET,
                &format!("{path}?{query}"),
                authorized,
                None,
                400,
            )
            .await;
            assert!(bad.body["msg"].is_string(), "{}", bad.body);
        }
    }
    call(Method::DELETE, &other, &[], None, 401).await;

    // The logout scopes: others keeps the caller's session; an unknown scope is refused.
    let unknown = call(
        Method::POST,
        "/logout?scope=everything",
        authorized,
        None,
        400,
    )
    .await;
    assert!(unknown.body["msg"].is_string(), "{}", unknown.body);
    call(Method::POST, "/logout?scope=others", authorized, None, 200).await;
    call(Method::GET, "/sessions", authorized, None, 200).await;
    call(Method::POST, "/logout?scope=global", authorized, None, 200).await;
    call(Method::GET, "/sessions", authorized, None, 401).await;
}

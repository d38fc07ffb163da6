//! One execution environment: a `bootstrap` process and the Runtime API it polls.

use std::{
    collections::{BTreeMap, HashMap},
    io,
    net::SocketAddr,
    path::Path,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path as UrlPath, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    net::TcpListener,
    process::Child,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use crate::cpu_share::CpuLimit;

const API: &str = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// What Lambda runs a function with, as `template.yaml` declares it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The function's logical id in the template, used as its name.
    pub name: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// `AWS_LAMBDA_LOG_FORMAT`, from the template's `LoggingConfig`.
    pub log_format: Option<String>,
    /// The template's `Environment.Variables`, resolved.
    pub variables: BTreeMap<String, String>,
}

/// What the function answered an invocation with.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `POST /invocation/{id}/response`: the handler's result.
    Response(Value),
    /// `POST /invocation/{id}/error`: the runtime reported a failed invocation.
    Error { error_type: String, body: Value },
}

/// One answered invocation, with the instants that time it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub reply: Reply,
    /// When `GET /invocation/next` handed the event to the function.
    pub delivered_at: Instant,
    /// When the reply arrived.
    pub replied_at: Instant,
}

/// What a function posted to `/init/error`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitError {
    pub error_type: String,
    pub body: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the function exited ({status}) without replying; init error: {init_error:?}")]
    Exited {
        status: ExitStatus,
        init_error: Option<InitError>,
    },
    #[error("no reply within {0:?}")]
    TimedOut(Duration),
    #[error("could not wait for the function: {0}")]
    Io(#[from] io::Error),
}

struct Queued {
    request_id: String,
    event: Bytes,
}

struct Answer {
    reply: Reply,
    delivered_at: Instant,
    replied_at: Instant,
}

/// The Runtime API's side of the conversation, shared by its request handlers.
struct RuntimeState {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    delivered: Mutex<HashMap<String, Instant>>,
    first_poll_at: OnceLock<Instant>,
    init_error: Mutex<Option<InitError>>,
    function_arn: String,
    timeout: Duration,
}

/// A running `bootstrap` and its Runtime API. Dropping it kills the process.
pub struct ExecutionEnvironment {
    child: Child,
    state: Arc<RuntimeState>,
    events: mpsc::UnboundedSender<Queued>,
    server: JoinHandle<()>,
    spawned_at: Instant,
    output: Arc<Mutex<Vec<u8>>>,
    /// The tasks reading the process's stdout and stderr into `output`.
    readers: Vec<JoinHandle<()>>,
    pid: Option<u32>,
}

impl ExecutionEnvironment {
    /// Starts the Runtime API on a free loopback port, then spawns `bootstrap` with a clean
    /// environment: the variables Lambda reserves, `config.variables`, and `aws` (credentials,
    /// region and endpoints, what the execution role and the service would provide).
    pub async fn start(
        bootstrap: &Path,
        config: &FunctionConfig,
        aws: &BTreeMap<String, String>,
    ) -> io::Result<Self> {
        Self::start_with_cpu_limit(bootstrap, config, aws, None).await
    }

    /// [`start`](Self::start), with the process moved into `cpu_limit` as soon as it exists.
    pub async fn start_with_cpu_limit(
        bootstrap: &Path,
        config: &FunctionConfig,
        aws: &BTreeMap<String, String>,
        cpu_limit: Option<&CpuLimit>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let (events, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            events: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::default(),
            delivered: Mutex::default(),
            first_poll_at: OnceLock::new(),
            init_error: Mutex::default(),
            function_arn: format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                config.name
            ),
            timeout: config.timeout,
        });
        let server = tokio::spawn({
            let app = router(Arc::clone(&state));
            async move {
                let _ = axum::serve(listener, app).await;
            }
        });

        let mut command = crate::machine::command_for(bootstrap)?;
        command
            .env_clear()
            .envs(reserved_variables(config, address))
            .envs(aws)
            .envs(&config.variables)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = command.spawn()?;
        if let (Some(limit), Some(pid)) = (cpu_limit, child.id()) {
            limit.add(pid)?;
        }
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(collect(stdout, Arc::clone(&output)));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(collect(stderr, Arc::clone(&output)));
        }
        let pid = child.id();
        Ok(Self {
            child,
            state,
            events,
            server,
            spawned_at,
            output,
            readers,
            pid,
        })
    }

    /// When the process was spawned.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// When the function first asked for an event: the end of its init phase.
    pub fn first_poll_at(&self) -> Option<Instant> {
        self.state.first_poll_at.get().copied()
    }

    /// What the function reported to `/init/error`, if anything.
    pub fn init_error(&self) -> Option<InitError> {
        self.state.init_error.lock().unwrap().clone()
    }

    /// Everything the function wrote to stdout and stderr so far (Lambda's log stream).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// The process's peak resident set size (`VmHWM`), in KiB, while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Sends `event` and waits for the function's reply, its exit, or `timeout`.
    pub async fn invoke(
        &mut self,
        event: &Value,
        timeout: Duration,
    ) -> Result<Invocation, InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (answer_sender, answer) = oneshot::channel();
        self.state
            .waiting
            .lock()
            .unwrap()
            .insert(request_id.clone(), answer_sender);
        let event = Bytes::from(serde_json::to_vec(event).expect("a JSON value serializes"));
        self.events
            .send(Queued { request_id, event })
            .expect("the Runtime API lives as long as the environment");
        tokio::select! {
            biased;
            answer = answer => {
                let answer = answer.expect("every waiting invocation gets an answer");
                Ok(Invocation {
                    reply: answer.reply,
                    delivered_at: answer.delivered_at,
                    replied_at: answer.replied_at,
                })
            }
            status = self.child.wait() => Err(InvokeError::Exited {
                status: status?,
                init_error: self.init_error(),
            }),
            () = tokio::time::sleep(timeout) => Err(InvokeError::TimedOut(timeout)),
        }
    }

    /// Waits for the process to end by itself, as a failed init must.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Result<ExitStatus, InvokeError> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => Err(InvokeError::TimedOut(timeout)),
        }
    }

    /// Kills the process (Lambda's shutdown) and waits for it to be gone.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Stops the process and gives everything it wrote: its output is read to the end first,
    /// so no line written before the stop is missing (what `logs` cannot promise while the
    /// readers may still be behind).
    pub async fn stop_and_read_logs(mut self) -> String {
        let _ = self.child.kill().await;
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.await;
        }
        self.logs()
    }
}

impl Drop for ExecutionEnvironment {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

/// What Lambda sets in every execution environment of a `provided.al2023` function.
fn reserved_variables(config: &FunctionConfig, api: SocketAddr) -> Vec<(String, String)> {
    let mut variables = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), config.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            config.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", config.name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".into(),
            "2026/11/29/[$LATEST]emulator".into(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("_HANDLER".into(), "bootstrap".into()),
        ("LAMBDA_TASK_ROOT".into(), "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR".into(), "/var/runtime".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("TZ".into(), ":UTC".into()),
        (
            "PATH".into(),
            "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into(),
        ),
    ];
    if let Some(format) = &config.log_format {
        variables.push(("AWS_LAMBDA_LOG_FORMAT".into(), format.clone()));
    }
    variables
}

fn collect(
    mut stream: impl AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buffer = [0u8; 8192];
        while let Ok(read) = stream.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buffer[..read]);
        }
    })
}

fn router(state: Arc<RuntimeState>) -> Router {
    Router::new()
        .route(&format!("{API}/invocation/next"), get(next_invocation))
        .route(
            &format!("{API}/invocation/{{request_id}}/response"),
            post(invocation_response),
        )
        .route(
            &format!("{API}/invocation/{{request_id}}/error"),
            post(invocation_error),
        )
        .route(&format!("{API}/init/error"), post(init_error))
        .with_state(state)
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let polled_at = Instant::now();
    let _ = state.first_poll_at.set(polled_at);
    let Some(queued) = state.events.lock().await.recv().await else {
        return (StatusCode::GONE, "the environment is shutting down").into_response();
    };
    state
        .delivered
        .lock()
        .unwrap()
        .insert(queued.request_id.clone(), Instant::now());
    let deadline = SystemTime::now() + state.timeout;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(
            name,
            HeaderValue::from_str(&value).expect("a valid header value"),
        );
    };
    set("lambda-runtime-aws-request-id", queued.request_id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        state.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, queued.event).into_response()
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(request_id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let reply = Reply::Response(parse_json(&body));
    answer(&state, &request_id, reply)
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(request_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = Reply::Error {
        error_type: error_type(&headers),
        body: parse_json(&body),
    };
    answer(&state, &request_id, reply)
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    *state.init_error.lock().unwrap() = Some(InitError {
        error_type: error_type(&headers),
        body: parse_json(&body),
    });
    accepted()
}

fn answer(state: &RuntimeState, request_id: &str, reply: Reply) -> Response {
    let replied_at = Instant::now();
    let waiting = state.waiting.lock().unwrap().remove(request_id);
    let delivered_at = state.delivered.lock().unwrap().remove(request_id);
    match (waiting, delivered_at) {
        (Some(sender), Some(delivered_at)) => {
            let _ = sender.send(Answer {
                reply,
                delivered_at,
                replied_at,
            });
            accepted()
        }
        _ => json_reply(
            StatusCode::BAD_REQUEST,
            json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}),
        ),
    }
}

fn accepted() -> Response {
    json_reply(StatusCode::ACCEPTED, json!({"status": "OK"}))
}

fn json_reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error_type(headers: &HeaderMap) -> String {
    headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A body that is not JSON is kept as a string, so a test can show what came.
fn parse_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

//! Cold-start benchmark: spawns each function's release `bootstrap` afresh, many times, under
//! the Runtime API emulator, and reports what Lambda bills and users wait for.
//!
//! - init: spawn → the first `GET /invocation/next` (Lambda's "Init Duration");
//! - handler: that event's delivery → its reply (the first request's duration);
//! - first reply: spawn → the reply, what the caller of a cold function waits for;
//! - peak RSS (`VmHWM`) after the first reply; and each binary's size per architecture.
//!
//! Run by `scripts/coldstart`, which builds the binaries and provides the tables.

// A test tool: an emulator or benchmark whose own state breaks fails the run that drives it,
// with the reason, which is what an unwrap, expect or panic does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Parser;
use lambda_emulator::{
    ExecutionEnvironment, Reply, Template,
    cpu_share::{CpuLimit, lambda_cpu_share},
    elf_architecture, events,
    http_message::next_message,
    tls_front::TlsFront,
};
use plotters::prelude::*;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Time the cold start of each function's release bootstrap")]
struct Cli {
    /// Cold starts per function.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// The workspace root (template.yaml, events/, local-env.json, target/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The users table, holding the user of the events.
    #[arg(long)]
    table: String,
    /// The sessions table (revocations, sessions, login counters).
    #[arg(long)]
    sessions_table: String,
    /// The activity log's table, which the functions that record an event write (made by
    /// `users create-activity-table`). Without it they record nothing.
    #[arg(long)]
    activity_table: Option<String>,
    /// Where the timed binaries are, as `<dir>/<binary>/bootstrap` (cargo lambda's layout).
    #[arg(long, default_value = "target/lambda")]
    bootstraps: PathBuf,
    /// Directories of `<binary>/bootstrap` files to report the size of; each file's
    /// architecture is read from its ELF header.
    #[arg(long = "sizes", default_values = ["target/lambda", "target/lambda-arm64"])]
    size_dirs: Vec<PathBuf>,
    /// Also time each function at these Lambda memory sizes, with the CPU share Lambda gives
    /// each (a CPU cgroup; needs root), e.g. 128,512,1024,1769.
    #[arg(long, value_delimiter = ',')]
    memory_sizes: Vec<u32>,
    /// Where to draw the chart.
    #[arg(long, default_value = "docs/coldstart.png")]
    chart: PathBuf,
    /// Reach DynamoDB over HTTPS, through a TLS terminator in front of the server that
    /// `AWS_ENDPOINT_URL_DYNAMODB` names, whose certificate the bootstraps trust: each cold
    /// start pays a real handshake, as in AWS.
    #[arg(long)]
    tls: bool,
    /// The `--env-vars` file the functions are configured by (RS256: `local-env-rs256.json`,
    /// whose events are those of `events/rs256/`).
    #[arg(long, default_value = "local-env.json")]
    env_file: String,
    /// A variable to set (NAME=VALUE) or, with an empty value, to leave out of the env file's:
    /// `--set JWT_PRIVATE_KEY= --set JWT_KMS_KEY_ARN=arn:...` signs in KMS.
    #[arg(long = "set", value_parser = name_and_value)]
    overrides: Vec<(String, String)>,
    /// Time only these functions (LoginFunction, ...); all of `CASES` when none is named.
    #[arg(long, value_delimiter = ',')]
    functions: Vec<String>,
}

/// `NAME=VALUE`.
fn name_and_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// The event each function is timed with: the successful request of its route, or for the
/// authorizer an HTTP API's allowed request (`events/authorizer/`). Not logout: its successful
/// request revokes the token, so every start after the first would time a 401 (and its work, a
/// read and a write of the sessions table, is profile's read plus a write).
///
/// The self-service functions, each with a request that answers the same every time: a
/// sign-up (the untimed first start makes the account and mails it; the timed ones meet a
/// known address, answered alike, its mail within the minute not sent again), a recovery of
/// an unknown address and a resend (`200 {}`, no sooner than `ACCOUNT_MIN_ANSWER_TIME`: their
/// handler time is that floor), a mailed token nobody was sent (looked up and refused), and a
/// password change with a refresh's token (the user read, then refused). None can succeed
/// twice, as logout cannot. The second factor's: an `mfa_token` no login answered (looked up
/// and refused), and an enrolment with a refresh's token (refused before the user is read).
/// The account's: a listing of sessions with a cursor it did not make (the token and its user
/// checked, then refused), the same every time, where a listing's answer grows with the
/// logins timed before it.
const CASES: [(&str, &str); 13] = [
    ("LoginFunction", "login-ok.json"),
    ("RefreshFunction", "refresh-ok.json"),
    ("ProfileFunction", "profile-ok.json"),
    ("AuthorizerFunction", "authorizer/http-api-allow.json"),
    ("SignupFunction", "signup-ok.json"),
    ("VerifyFunction", "verify-unknown-token.json"),
    ("RecoverFunction", "recover-unknown-address.json"),
    ("ResendFunction", "resend-ok.json"),
    ("ChangePasswordFunction", "password-not-fresh.json"),
    ("ResetPasswordFunction", "password-reset-unknown-token.json"),
    ("LoginMfaFunction", "login-mfa-unknown-token.json"),
    ("MfaFunction", "mfa-totp-not-fresh.json"),
    ("SessionsFunction", "sessions-list-bad-cursor.json"),
];

/// `event` as if from the `request`th source address: every route counts its requests per
/// address (`*_IP_LIMIT`, on in the template: 10 sign-ups an hour), and a benchmark of many
/// starts from one address would time its 429s. Each request still pays for its count.
fn from_source_address(event: &Value, request: u32) -> Value {
    let mut event = event.clone();
    if let Some(http) = event
        .get_mut("requestContext")
        .and_then(|context| context.get_mut("http"))
        .filter(|http| http.get("sourceIp").is_some())
    {
        let [_, a, b, c] = request.to_be_bytes();
        http["sourceIp"] = json!(format!("10.{a}.{b}.{c}"));
    }
    event
}

/// Whether a reply is the right one, and if not why.
type ReplyCheck = Box<dyn Fn(&Value) -> Result<(), String>>;

/// An event to time and how to tell its reply is right.
struct Case {
    event: Value,
    check: ReplyCheck,
}

/// `events/{name}`: an API Gateway event checked as the tests check it, or an authorizer event
/// whose reply must be the one it documents.
fn case(root: &Path, all: &[events::EventFile], name: &str) -> Result<Case, String> {
    if let Some(event) = all.iter().find(|event| event.name == name) {
        let expected = event.expected.clone();
        return Ok(Case {
            event: event.event.clone(),
            check: Box::new(move |reply| {
                expected.check_gateway_reply(reply, events::ADDED_BY_DYNAMODB)
            }),
        });
    }
    let text = std::fs::read_to_string(root.join("events").join(name))
        .map_err(|error| format!("events/{name}: {error}"))?;
    let mut event: Value =
        serde_json::from_str(&text).map_err(|error| format!("events/{name}: {error}"))?;
    let expected = event
        .as_object_mut()
        .and_then(|event| event.remove("expected"))
        .ok_or_else(|| format!("events/{name}: no expected reply"))?;
    Ok(Case {
        event,
        check: Box::new(move |reply| match reply == &expected["reply"] {
            true => Ok(()),
            false => Err(format!("{reply}, expected {}", expected["reply"])),
        }),
    })
}

const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

struct Measured {
    function: String,
    binary: String,
    init_ms: Vec<f64>,
    handler_ms: Vec<f64>,
    first_reply_ms: Vec<f64>,
    warm_ms: Vec<f64>,
    peak_rss_kib: Vec<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let template = Template::load(&cli.root.join("template.yaml"))?;
    let env_vars = env_vars(&cli)?;
    // The events of the env file's algorithm: RS256's are in events/rs256/.
    let events_dir = match cli.env_file.as_str() {
        "local-env-rs256.json" => cli.root.join("events").join("rs256"),
        _ => cli.root.join("events"),
    };
    let all_events = events::load(&events_dir)?;
    let mut aws = aws_environment();
    let mut front = None;
    let certificates = std::env::temp_dir().join(format!("coldstart-tls-{}", std::process::id()));
    if cli.tls {
        let plain = aws
            .get("AWS_ENDPOINT_URL_DYNAMODB")
            .ok_or("--tls needs AWS_ENDPOINT_URL_DYNAMODB, the server to put TLS in front of")?;
        let upstream = plain
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        std::fs::create_dir_all(&certificates)?;
        let front_started = TlsFront::start(&upstream, &certificates).await?;
        // The bootstraps trust what they would anyway (the bundle of SSL_CERT_FILE, whose
        // reading is part of every cold start) and the terminator's certificate.
        let mut bundle = match aws.get("SSL_CERT_FILE") {
            Some(file) => std::fs::read(file)?,
            None => Vec::new(),
        };
        bundle.extend(std::fs::read(&front_started.certificate)?);
        let trusted = certificates.join("bundle.pem");
        std::fs::write(&trusted, bundle)?;
        aws.insert(
            "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
            front_started.url.clone(),
        );
        aws.insert("SSL_CERT_FILE".to_owned(), trusted.display().to_string());
        front = Some(front_started);
    }

    let mut results = Vec::new();
    let mut by_memory = Vec::new();
    for (function, event_name) in CASES {
        if !cli.functions.is_empty() && !cli.functions.iter().any(|named| named == function) {
            continue;
        }
        // An RS256 deployment's events (events/rs256/) are of login, refresh and profile: the
        // others are timed with local-env.json's, unless named.
        let of_this_configuration = event_name.starts_with("authorizer/")
            || all_events.iter().any(|event| event.name == event_name);
        if !of_this_configuration && cli.functions.is_empty() {
            println!(
                "{function}: not timed, {} has no {event_name}",
                events_dir.display()
            );
            continue;
        }
        let event = case(&cli.root, &all_events, event_name)?;
        let config = template.function(function, &env_vars)?;
        let binary = template
            .binary(function)
            .ok_or_else(|| format!("{function} has no BuildProperties.Binary"))?;
        let bootstrap = cli
            .root
            .join(&cli.bootstraps)
            .join(&binary)
            .join("bootstrap");
        if !bootstrap.is_file() {
            return Err(format!(
                "{} is missing: run cargo lambda build --release",
                bootstrap.display()
            )
            .into());
        }
        let bootstrap_and_event = (bootstrap.as_path(), &event);
        let measured = measure(
            &cli,
            function,
            &binary,
            bootstrap_and_event,
            &config,
            &aws,
            None,
        )
        .await?;
        for &memory_mb in &cli.memory_sizes {
            let mut config = config.clone();
            config.memory_mb = memory_mb;
            let limit = CpuLimit::new(lambda_cpu_share(memory_mb))?;
            let at_size = measure(
                &cli,
                function,
                &binary,
                bootstrap_and_event,
                &config,
                &aws,
                Some(&limit),
            )
            .await?;
            by_memory.push((memory_mb, at_size));
        }
        results.push(measured);
    }

    let sizes = binary_sizes(&cli.root, &cli.size_dirs)?;
    if let Some(front) = &front {
        use std::sync::atomic::Ordering;
        println!(
            "\nDynamoDB over TLS: {} handshakes for {} store requests",
            front.handshakes.load(Ordering::Relaxed),
            front.requests.load(Ordering::Relaxed)
        );
        let _ = std::fs::remove_dir_all(&certificates);
    }
    print_table(&results, &sizes, cli.runs);
    if !cli.tls {
        let endpoint = aws
            .get("AWS_ENDPOINT_URL_DYNAMODB")
            .ok_or("no AWS_ENDPOINT_URL_DYNAMODB to time")?;
        let (median, min, max) =
            spread(&store_floor_ms(endpoint, &cli.table, &cli.sessions_table).await?);
        println!(
            "\nThe store alone: the server answers refresh's and profile's BatchGetItem, from a \
             client of its own over a new connection each time, in {median:.1} [{min:.1}-{max:.1}] ms \
             ({STORE_FLOOR_CALLS} calls): the floor under each of their requests here."
        );
    }
    if !by_memory.is_empty() {
        print_memory_table(&by_memory, cli.runs);
    }
    let store = if cli.tls {
        "DynamoDB over TLS"
    } else {
        "DynamoDB over HTTP"
    };
    draw_chart(&cli.chart, &results, cli.runs, store)?;
    println!("\nchart: {}", cli.chart.display());
    Ok(())
}

/// `cli.runs` cold starts of `function` (after an untimed one), each answering `event` right.
async fn measure(
    cli: &Cli,
    function: &str,
    binary: &str,
    (bootstrap, case): (&Path, &Case),
    config: &lambda_emulator::runtime_api::FunctionConfig,
    aws: &BTreeMap<String, String>,
    cpu_limit: Option<&CpuLimit>,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let mut measured = Measured {
        function: function.to_owned(),
        binary: binary.to_owned(),
        init_ms: Vec::new(),
        handler_ms: Vec::new(),
        first_reply_ms: Vec::new(),
        warm_ms: Vec::new(),
        peak_rss_kib: Vec::new(),
    };
    // One untimed start first: it pays for reading the binary from disk.
    for run in 0..=cli.runs {
        let mut environment =
            ExecutionEnvironment::start_with_cpu_limit(bootstrap, config, aws, cpu_limit).await?;
        let requests = next_source_addresses();
        let invocation = environment
            .invoke(
                &from_source_address(&case.event, requests),
                Duration::from_secs(30),
            )
            .await?;
        let Reply::Response(reply) = &invocation.reply else {
            return Err(format!("{function}: {:?}", invocation.reply).into());
        };
        (case.check)(reply).map_err(|why| format!("{function} answered wrongly: {why}"))?;
        let polled = environment
            .first_poll_at()
            .ok_or("a reply before any poll")?;
        // The same request again, warm: what the first one paid for being first.
        let warm = environment
            .invoke(
                &from_source_address(&case.event, requests + 1),
                Duration::from_secs(30),
            )
            .await?;
        let rss = environment.peak_rss_kib().ok_or("no VmHWM")?;
        let spawned = environment.spawned_at();
        environment.stop().await;
        if run == 0 {
            continue;
        }
        measured.init_ms.push(ms(polled - spawned));
        measured
            .handler_ms
            .push(ms(invocation.replied_at - invocation.delivered_at));
        measured
            .first_reply_ms
            .push(ms(invocation.replied_at - spawned));
        measured
            .warm_ms
            .push(ms(warm.replied_at - warm.delivered_at));
        measured.peak_rss_kib.push(rss);
    }
    Ok(measured)
}

/// Two source addresses not used yet (`from_source_address`): the first of them.
fn next_source_addresses() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(2, Ordering::Relaxed)
}

/// Calls timed by `store_floor_ms`.
const STORE_FLOOR_CALLS: usize = 100;

/// How long the server at `endpoint` (plain HTTP) takes to answer the `BatchGetItem` refresh and
/// profile make (the user, a token and a session), each call over a connection of its own, as
/// moto closes every connection: what a warm request here waits for the store, whatever the
/// function does.
async fn store_floor_ms(
    endpoint: &str,
    users_table: &str,
    sessions_table: &str,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    use tokio::{io::AsyncWriteExt, net::TcpStream};
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let body = json!({"RequestItems": {
        users_table: {"Keys": [{"username": {"S": "cosmo"}}], "ConsistentRead": true},
        sessions_table: {"Keys": [{"pk": {"S": "token#floor"}}, {"pk": {"S": "session#floor"}}],
                         "ConsistentRead": true},
    }})
    .to_string();
    // moto reads the region and service from the credential scope; it checks no signature.
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {address}\r\nx-amz-target: DynamoDB_20120810.BatchGetItem\r\n\
         content-type: application/x-amz-json-1.0\r\nauthorization: AWS4-HMAC-SHA256 \
         Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, \
         Signature=0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut timings = Vec::with_capacity(STORE_FLOOR_CALLS);
    for _ in 0..=STORE_FLOOR_CALLS {
        let started = std::time::Instant::now();
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(request.as_bytes()).await?;
        let answer = next_message(&mut stream, &mut Vec::new())
            .await?
            .ok_or("the store closed the connection without an answer")?;
        let elapsed = started.elapsed();
        if !answer.starts_with(b"HTTP/1.1 200") && !answer.starts_with(b"HTTP/1.0 200") {
            return Err(format!(
                "the store refused the timed BatchGetItem: {}",
                String::from_utf8_lossy(&answer)
            )
            .into());
        }
        timings.push(ms(elapsed));
    }
    // The first call warms the server's code paths, as the untimed start does the binaries'.
    timings.remove(0);
    Ok(timings)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn env_vars(cli: &Cli) -> Result<Value, Box<dyn std::error::Error>> {
    let mut env_vars: Value =
        serde_json::from_str(&std::fs::read_to_string(cli.root.join(&cli.env_file))?)?;
    let parameters = env_vars["Parameters"]
        .as_object_mut()
        .ok_or("the env file has no Parameters")?;
    parameters.insert("USERS_TABLE".to_owned(), json!(cli.table));
    parameters.insert("SESSIONS_TABLE".to_owned(), json!(cli.sessions_table));
    // An empty variable is an unset one to the functions: no activity log.
    let activity_table = cli.activity_table.as_deref().unwrap_or_else(|| {
        println!("no --activity-table: the functions record no activity");
        ""
    });
    parameters.insert("ACTIVITY_TABLE".to_owned(), json!(activity_table));
    for (name, value) in &cli.overrides {
        match value.is_empty() {
            true => parameters.remove(name),
            false => parameters.insert(name.clone(), json!(value)),
        };
    }
    Ok(env_vars)
}

/// What the execution role and the region give a deployed function: here the caller's region,
/// credentials and DynamoDB endpoint (and KMS's and SES's, for the functions that sign or mail).
fn aws_environment() -> BTreeMap<String, String> {
    [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_SESV2",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ]
    .into_iter()
    .filter_map(|name| Some((name.to_owned(), std::env::var(name).ok()?)))
    .collect()
}

/// (median, min, max)
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    };
    (median, sorted[0], sorted[sorted.len() - 1])
}

/// Size in bytes by (binary, architecture), of every bootstrap found in `directories`.
fn binary_sizes(
    root: &Path,
    directories: &[PathBuf],
) -> std::io::Result<BTreeMap<(String, &'static str), u64>> {
    let mut sizes = BTreeMap::new();
    for directory in directories {
        let Ok(entries) = std::fs::read_dir(root.join(directory)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path().join("bootstrap");
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Some(architecture) = elf_architecture(&bytes) {
                let binary = entry.file_name().to_string_lossy().into_owned();
                sizes.insert((binary, architecture), bytes.len() as u64);
            }
        }
    }
    Ok(sizes)
}

fn print_table(results: &[Measured], sizes: &BTreeMap<(String, &'static str), u64>, runs: usize) {
    println!("\nCold starts: {runs} per function, median [min-max], milliseconds\n");
    println!(
        "| function | init (spawn → first /next) | first request (handler) | spawn → first reply | warm request | peak RSS | size x86_64 | size arm64 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for measured in results {
        let cell = |values: &[f64]| {
            let (median, min, max) = spread(values);
            format!("{median:.1} [{min:.1}-{max:.1}]")
        };
        let peak_mb = *measured.peak_rss_kib.iter().max().unwrap_or(&0) as f64 / 1024.0;
        let sizes: Vec<String> = ARCHITECTURES
            .iter()
            .map(
                |architecture| match sizes.get(&(measured.binary.clone(), *architecture)) {
                    Some(bytes) => format!("{:.2} MB", *bytes as f64 / 1_000_000.0),
                    None => "not built".to_owned(),
                },
            )
            .collect();
        println!(
            "| {} | {} | {} | {} | {} | {:.1} MiB | {} | {} |",
            measured.function,
            cell(&measured.init_ms),
            cell(&measured.handler_ms),
            cell(&measured.first_reply_ms),
            cell(&measured.warm_ms),
            peak_mb,
            sizes[0],
            sizes[1],
        );
    }
}

/// Spawn → first reply per function and memory size (with its CPU share).
fn print_memory_table(by_memory: &[(u32, Measured)], runs: usize) {
    println!(
        "\nCold starts at Lambda's CPU share per memory size ({runs} each), median [min-max], ms\n"
    );
    println!(
        "| function | memory | CPU share | init | first request | spawn → first reply | warm request |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (memory_mb, measured) in by_memory {
        let cell = |values: &[f64]| {
            let (median, min, max) = spread(values);
            format!("{median:.1} [{min:.1}-{max:.1}]")
        };
        println!(
            "| {} | {memory_mb} MB | {:.0} % | {} | {} | {} | {} |",
            measured.function,
            lambda_cpu_share(*memory_mb) * 100.0,
            cell(&measured.init_ms),
            cell(&measured.handler_ms),
            cell(&measured.first_reply_ms),
            cell(&measured.warm_ms),
        );
    }
}

/// Per function, two bars: init and spawn → first reply (medians), with min-max whiskers.
fn draw_chart(
    path: &Path,
    results: &[Measured],
    runs: usize,
    store: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    register_font()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Room for each function's two bars and its name: wider with the self-service ten.
    let width = (100 + 130 * results.len() as u32).max(900);
    let root = BitMapBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let highest = results
        .iter()
        .flat_map(|measured| measured.first_reply_ms.iter().copied())
        .fold(0.0, f64::max);
    let count = results.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Cold start per function, {store} ({runs} runs; median, min-max)"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..count, 0.0..highest * 1.15)?;
    // `Login`, not `LoginFunction`: every one is a function.
    let names: Vec<String> = results
        .iter()
        .map(|measured| {
            let name = measured.function.as_str();
            name.strip_suffix("Function").unwrap_or(name).to_owned()
        })
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(results.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let index = x.floor() as usize;
            if (x.fract() - 0.5).abs() < 1e-9 {
                names.get(index).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("milliseconds")
        .light_line_style(WHITE)
        .label_style(("sans-serif", 16))
        .draw()?;

    let series = [
        ("init: spawn → first /next", BLUE.mix(0.7)),
        ("spawn → first reply", RED.mix(0.7)),
    ];
    for (offset, (label, color)) in series.into_iter().enumerate() {
        let values = |measured: &Measured| match offset {
            0 => spread(&measured.init_ms),
            _ => spread(&measured.first_reply_ms),
        };
        let left = |index: usize| index as f64 + 0.12 + offset as f64 * 0.4;
        chart
            .draw_series(results.iter().enumerate().map(|(index, measured)| {
                let (median, _, _) = values(measured);
                Rectangle::new(
                    [(left(index), 0.0), (left(index) + 0.36, median)],
                    color.filled(),
                )
            }))?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
        chart.draw_series(results.iter().enumerate().map(|(index, measured)| {
            let (median, min, max) = values(measured);
            ErrorBar::new_vertical(left(index) + 0.18, min, median, max, BLACK.filled(), 6)
        }))?;
        chart.draw_series(results.iter().enumerate().map(|(index, measured)| {
            let (median, _, _) = values(measured);
            Text::new(
                format!("{median:.1}"),
                (left(index), median + highest * 0.06),
                ("sans-serif", 15),
            )
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}

/// plotters draws text with a font it is given: DejaVu Sans (Debian's fonts-dejavu-core).
fn register_font() -> Result<(), Box<dyn std::error::Error>> {
    const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let bytes = std::fs::read(FONT)
        .map_err(|error| format!("{FONT}: {error} (apt-get install fonts-dejavu-core)"))?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
        .map_err(|_| format!("{FONT} is not a font plotters can read"))?;
    Ok(())
}

//! Clients that never finish their request cannot hold the real binary open: an unfinished
//! head is closed, an unfinished body answered `408` JSON and closed, both within the read
//! timeout (`READ_TIMEOUT`, 1 s here); connections over the cap are closed as they come; the
//! server serves others meanwhile, and its memory comes back once the slow clients are gone.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use local_api::connections::MAX_CONNECTIONS;

use crate::binary::{Server, agent, start_server_with};

/// Long enough that only a server that never closes makes a read wait it out.
const CLIENT_PATIENCE: Duration = Duration::from_secs(30);

fn server() -> Server {
    start_server_with(&[("READ_TIMEOUT", "1s")])
}

fn connect(server: &Server) -> TcpStream {
    let address = server.url.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(CLIENT_PATIENCE)).unwrap();
    stream
}

/// Everything the server sends until it closes the connection.
fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => String::from_utf8_lossy(&answer).into_owned(),
        // Reset by the server: closed too.
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            String::from_utf8_lossy(&answer).into_owned()
        }
        Err(error) => panic!("the server held the connection open: {error}"),
    }
}

fn logs_in(server: &Server) -> bool {
    agent()
        .post(&format!("{}/login", server.url))
        .header("content-type", "application/json")
        .send(r#"{"username": "cosmo", "password": "space-corgi"}"#)
        .map(|response| response.status() == 200)
        .unwrap_or(false)
}

fn resident_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn an_unfinished_head_is_closed_and_others_are_served_meanwhile() {
    let server = server();
    let mut slow = connect(&server);
    slow.write_all(b"GET /profile HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")
        .unwrap();
    assert!(logs_in(&server), "served while a head is unfinished");
    let answer = until_closed(&mut slow);
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[test]
fn an_unfinished_body_gets_408_json_and_the_connection_closes() {
    let server = server();
    let mut slow = connect(&server);
    slow.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"usern",
    )
    .unwrap();
    assert!(logs_in(&server), "served while a body is unfinished");
    let answer = until_closed(&mut slow);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    assert!(
        answer.ends_with(r#"{"message":"Request Timeout"}"#),
        "{answer}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_read_timeout() {
    let server = server();
    let mut client = connect(&server);
    client
        .write_all(b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    // Answered (404: HS256 publishes no keys), then the connection waits for nothing.
    let answer = until_closed(&mut client);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

/// Every slot held by a client that sends half a head and waits; one more is closed at once;
/// then each held one is closed by the server.
fn hold_every_slot(server: &Server) {
    let mut held: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|_| {
            let mut stream = connect(server);
            stream.write_all(b"GET /profile HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    let mut over = connect(server);
    assert_eq!(until_closed(&mut over), "", "a connection over the cap");
    for stream in &mut held {
        until_closed(stream);
    }
}

/// The server's open descriptors: its listener and one per open connection, besides its own.
fn open_descriptors(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .unwrap()
        .count()
}

/// That the server holds no more descriptors than the `idle` it held before the slow clients
/// (fewer when a client's keep-alive connection of then has been closed since): every
/// connection's task has ended and closed its socket. A task ends just after its client sees
/// the close, so this waits for the count to fall, at most `CLIENT_PATIENCE`.
fn assert_no_descriptor_left(server: &Server, idle: usize) {
    let started = std::time::Instant::now();
    let mut open = open_descriptors(server);
    while open > idle && started.elapsed() < CLIENT_PATIENCE {
        std::thread::sleep(Duration::from_millis(100));
        open = open_descriptors(server);
    }
    assert!(
        open <= idle,
        "{open} descriptors open, {idle} before: some left open"
    );
}

#[test]
fn connections_over_the_cap_are_closed_and_the_memory_comes_back() {
    let server = server();
    assert!(logs_in(&server));
    let idle = open_descriptors(&server);
    let round = || {
        hold_every_slot(&server);
        assert!(logs_in(&server), "served once the slow clients are gone");
    };
    round();
    round();
    assert_no_descriptor_left(&server, idle);
    let settled = resident_kib(&server);
    for _ in 0..6 {
        round();
    }
    assert_no_descriptor_left(&server, idle);
    // The allocator keeps what a round freed for the next, more so when the machine is busy
    // (up to ~9 MiB seen beside the whole test suite). A connection's read buffer (8 KiB) left
    // behind would be 4 MiB a round, 24 MiB over six.
    let after = resident_kib(&server);
    assert!(
        after < settled + 16 * 1024,
        "resident {settled} KiB after two rounds of {MAX_CONNECTIONS} slow clients, {after} KiB \
         after six more"
    );
}

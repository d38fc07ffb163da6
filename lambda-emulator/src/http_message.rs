//! HTTP/1.1 messages framed by their `content-length`, as moto and the SDK send them: enough
//! for the TLS terminator to relay requests and answers, and for the benchmark to read an answer
//! without waiting for the server to close the connection.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The next whole message (head and `content-length` body) from `stream`, whose bytes read
/// ahead stay in `buffered`; `None` once the peer has closed the connection.
pub async fn next_message(
    stream: &mut (impl AsyncRead + Unpin),
    buffered: &mut Vec<u8>,
) -> io::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(head_end) = find(buffered, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffered[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            let end = head_end + 4 + length;
            if buffered.len() >= end {
                return Ok(Some(buffered.drain(..end).collect()));
            }
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffered.extend_from_slice(&chunk[..read]);
    }
}

/// Where `needle` first occurs in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

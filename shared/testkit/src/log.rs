//! A log that keeps what it is written, for asserting on log lines.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

/// A log writer that keeps what it is given, for asserting on log lines.
#[derive(Debug, Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// A log that receives every event of this thread while the guard lives, as plain text.
    pub fn install() -> (Self, tracing::dispatcher::DefaultGuard) {
        use lambda_http::tracing::subscriber::{self, util::SubscriberInitExt};
        let captured = Self::default();
        let writer = captured.clone();
        let guard = subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
            .set_default();
        (captured, guard)
    }

    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

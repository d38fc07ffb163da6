//! The requests a store makes, as they leave the client: an SDK interceptor records each one's
//! operation (`X-Amz-Target`) and body, so that a test shows which calls a store makes (a
//! `Query` of an index, never a `Scan`), not only what it answers.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::{
    Client,
    config::{
        ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
    },
};

/// One request: its operation (`Query`, `PutItem`) and its JSON body.
#[derive(Debug, Clone)]
pub struct Request {
    pub operation: String,
    pub body: serde_json::Value,
}

/// The requests made through a recording client, in the order they were sent.
#[derive(Debug, Clone, Default)]
pub struct Recorded(Arc<Mutex<Vec<Request>>>);

impl Recorded {
    /// The requests so far, and forgets them.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Intercept for Recorded {
    fn name(&self) -> &'static str {
        "Recorded"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let body = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or_default();
        self.0.lock().unwrap().push(Request { operation, body });
        Ok(())
    }
}

/// A client of the test server whose every request is recorded.
pub async fn recording_client() -> (Client, Recorded) {
    let _ = auth_testkit::dynamodb_endpoint();
    let recorded = Recorded::default();
    let config = auth_dynamodb::client()
        .await
        .config()
        .to_builder()
        .interceptor(recorded.clone())
        .build();
    (Client::from_conf(config), recorded)
}

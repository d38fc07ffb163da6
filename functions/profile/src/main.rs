use lambda_http::{Error, service_fn, tracing};
use shared::{AppState, http::access_log::logged};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let state = AppState::from_env()
        .await
        .inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    lambda_http::run(service_fn(|request| {
        logged(request, |request| profile::handle(&state, request))
    }))
    .await
}

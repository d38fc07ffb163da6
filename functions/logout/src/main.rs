use lambda_http::{Error, service_fn};
use shared::{AppState, http::access_log::logged, init_error::report_init_error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let state = match AppState::from_env().await {
        Ok(state) => state,
        Err(error) => return Err(report_init_error(error).await),
    };
    lambda_http::run(service_fn(|request| {
        logged(request, |request| logout::handle(&state, request))
    }))
    .await
}

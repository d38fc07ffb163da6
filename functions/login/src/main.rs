use lambda_http::{Error, service_fn};
use shared::{AppState, http::access_log::logged, init_error::report_init_error};

// One thread: Lambda hands a function one event at a time, and a cold start spawning a
// worker per CPU (and reading the cgroup files to count them) pays for threads it never uses.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let state = match AppState::from_env(shared::metrics::Function::Login).await {
        Ok(state) => state,
        Err(error) => return Err(report_init_error(error).await),
    };
    lambda_http::run(service_fn(|request| {
        logged(request, |request| login::handle(&state, request))
    }))
    .await
}

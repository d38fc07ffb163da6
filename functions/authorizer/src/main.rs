use lambda_http::{
    Error,
    lambda_runtime::{self, LambdaEvent, service_fn},
};
use shared::{AppState, init_error::report_init_error};

// One thread: Lambda hands a function one event at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let authorizer = match AppState::from_env(shared::metrics::Function::Authorizer)
        .await
        .map_err(authorizer::AuthorizerError::from)
        .and_then(|state| {
            authorizer::Authorizer::new(std::sync::Arc::new(state), None, |name| {
                std::env::var(name).ok()
            })
        }) {
        Ok(authorizer) => authorizer,
        Err(error) => return Err(report_init_error(error).await),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        authorizer.handle(event.payload)
    }))
    .await
}

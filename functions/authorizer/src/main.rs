use std::sync::Arc;

use auth_core::Function;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

// Not an HTTP function: API Gateway invokes it with authorizer events, answered as JSON.
fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::runtime()?.block_on(async {
        let authorizer = auth_lambda::cold_start(async {
            let state = auth_lambda::state_from_env(Function::Authorizer).await?;
            // Lossy, not `std::env::var(..).ok()`: a value that is not UTF-8 must fail its
            // check (a U+FFFD is no scope-token and no switch), not read as unset, which would
            // drop the requirement it sets.
            authorizer::Authorizer::new(Arc::new(state), None, |name| {
                std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
            })
        })
        .await?;
        lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
            authorizer.handle(event.payload)
        }))
        .await
    })
}

use lambda_http::{Error, service_fn};

// One thread: Lambda hands a function one event at a time (as in functions/*/src/main.rs).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(protected_api_example::handle)).await
}

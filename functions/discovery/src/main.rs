use lambda_http::{Error, service_fn};
use shared::{
    http::access_log::logged, init_error::report_init_error, settings::Settings,
    tokens::TokenService,
};

// One thread: Lambda hands a function one event at a time. No store and no SDK client: the
// answers come from the keys alone.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let tokens = match Settings::from_env()
        .map_err(shared::app::StartupError::from)
        .and_then(|settings| Ok(TokenService::new(&settings)?))
    {
        Ok(tokens) => tokens,
        Err(error) => return Err(report_init_error(error).await),
    };
    lambda_http::run(service_fn(|request| {
        logged(request, |request| discovery::handle(&tokens, request))
    }))
    .await
}

fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::state_from_env(auth_core::Function::Profile),
        |state, request| Box::pin(profile::handle(state, request)),
    )
}

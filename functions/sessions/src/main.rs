fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::state_from_env(auth_core::Function::Sessions),
        |state, request| Box::pin(sessions::handle(state, request)),
    )
}

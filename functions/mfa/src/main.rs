fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::state_from_env(auth_core::Function::Mfa),
        |state, request| Box::pin(mfa::handle(state, request)),
    )
}

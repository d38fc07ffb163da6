fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::mailing_state_from_env(auth_core::Function::Signup),
        |state, request| Box::pin(signup::handle(state, request)),
    )
}

fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::mailing_state_from_env(auth_core::Function::Resend),
        |state, request| Box::pin(resend::handle(state, request)),
    )
}

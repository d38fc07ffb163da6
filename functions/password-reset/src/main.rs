fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::state_from_env(auth_core::Function::ResetPassword),
        |state, request| Box::pin(password_reset::handle(state, request)),
    )
}

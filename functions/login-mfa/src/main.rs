fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(
        auth_lambda::signing_state_from_env(auth_core::Function::LoginMfa),
        |state, request| Box::pin(login_mfa::handle(state, request)),
    )
}

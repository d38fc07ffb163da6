// No store and no SDK client: the answers come from the keys alone.
fn main() -> Result<(), lambda_http::Error> {
    auth_lambda::run(auth_lambda::tokens_from_env(), |tokens, request| {
        Box::pin(discovery::handle(tokens, request))
    })
}

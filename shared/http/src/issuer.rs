//! The token service a request is answered with: in an asymmetric deployment without
//! `JWT_ISSUER`, its issuer is the URL the request reached the API at.

use auth_core::{AppState, tokens::TokenService};
use lambda_http::Request;

use crate::{
    errors::{ApiError, ErrorKey},
    location::request_origin,
};

/// The token service for `request`: with its origin as the issuer when that is how the
/// deployment is configured (`TokenService::for_origin`). A request that does not say where it
/// arrived is answered with `key`'s 500: the deployment needs `JWT_ISSUER`.
pub fn tokens_for(
    state: &AppState,
    request: &Request,
    key: ErrorKey,
) -> Result<TokenService, ApiError> {
    state
        .tokens()
        .for_origin(request_origin(request).as_deref())
        .map_err(|error| ApiError::Signing(key, error.into()))
}

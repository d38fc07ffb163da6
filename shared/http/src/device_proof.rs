//! How a device proof (`auth_core::device_proof`) travels. The client gets it at each
//! successful login in the `Login-Proof` response header (unless cookies are the only
//! location), and in cookie mode in an HttpOnly cookie sent back to `/login` alone; it shows it in the `Login-Proof` request header,
//! or the cookie. The login body stays the seed app's: a client that ignores the header logs in
//! as before, throttled per username.

use lambda_http::{
    Body, Request, Response,
    http::{HeaderName, HeaderValue},
};

use auth_core::settings::browser::CookiePolicy;

use crate::cookies::{CookieWriter, DEVICE_PROOF_COOKIE, request_cookie};

/// The header a proof comes in and goes out in.
pub const DEVICE_PROOF_HEADER: HeaderName = HeaderName::from_static("login-proof");

/// The proof `request` shows: its header's, else (cookie mode) its cookie's.
pub fn presented(request: &Request, cookies: bool) -> Option<String> {
    let headers = request.headers();
    headers
        .get(&DEVICE_PROOF_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .or_else(|| {
            cookies
                .then(|| request_cookie(headers, DEVICE_PROOF_COOKIE))
                .flatten()
        })
}

/// Hands `proof` to the client with `response`: in the header when `in_header` (headers are a
/// token location), and in the cookie when `cookies` (cookie mode's policy) is given.
pub fn deliver(
    request: &Request,
    response: &mut Response<Body>,
    proof: &str,
    in_header: bool,
    cookies: Option<&CookiePolicy>,
) {
    // Our proofs are base64url and dots: always a header value.
    if in_header && let Ok(value) = HeaderValue::from_str(proof) {
        response.headers_mut().insert(DEVICE_PROOF_HEADER, value);
    }
    if let Some(policy) = cookies {
        CookieWriter::for_request(request, policy).set_device_proof(response, proof);
    }
}

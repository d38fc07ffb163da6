//! A request's query parameters, read from its URI: API Gateway's `rawQueryString` (which
//! lambda_http puts there) or the local server's request line, decoded as a browser encodes a
//! form (WHATWG `application/x-www-form-urlencoded`).

use lambda_http::{Request, aws_lambda_events::query_map::QueryMap};

use crate::errors::ApiError;

/// The value of the query parameter `name`, if the request gives it. Given more than once, it
/// is refused with `repeated` (which of the values counts would be a guess), as a `400
/// {"msg": repeated}`.
pub fn single(
    request: &Request,
    name: &str,
    repeated: &'static str,
) -> Result<Option<String>, ApiError> {
    let Some(query) = request.uri().query() else {
        return Ok(None);
    };
    // Infallible: any text is a query, its undecodable bytes replaced.
    let Ok(parameters) = query.parse::<QueryMap>();
    match parameters.all(name).as_deref() {
        None | Some([]) => Ok(None),
        Some([value]) => Ok(Some((*value).to_owned())),
        Some(_) => Err(ApiError::InvalidQuery(repeated)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_testkit::request;

    const REPEATED: &str = "one scope at most";

    fn scope_of(uri: &str) -> Result<Option<String>, ApiError> {
        single(&request("POST", uri, &[], None), "scope", REPEATED)
    }

    #[test]
    fn a_parameter_is_read_decoded_and_absent_when_not_given() {
        assert_eq!(scope_of("/logout").unwrap(), None);
        assert_eq!(scope_of("/logout?other=1").unwrap(), None);
        assert_eq!(
            scope_of("/logout?scope=others").unwrap().as_deref(),
            Some("others")
        );
        assert_eq!(
            scope_of("/logout?scope=a%20b+c").unwrap().as_deref(),
            Some("a b c")
        );
        assert_eq!(scope_of("/logout?scope=").unwrap().as_deref(), Some(""));
    }

    #[test]
    fn a_parameter_given_twice_is_refused_without_echoing_it() {
        let refused = scope_of("/logout?scope=local&scope=global").unwrap_err();
        assert!(
            matches!(refused, ApiError::InvalidQuery(REPEATED)),
            "{refused:?}"
        );
        let response = refused.into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            auth_testkit::json_body(&response),
            serde_json::json!({"msg": REPEATED})
        );
    }
}

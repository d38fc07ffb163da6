//! `Authorization: Bearer <JWT>` extraction, exactly as flask-jwt-extended 4.7 parses it,
//! minus its crash on empty comma-separated fields.

use lambda_http::http::{HeaderMap, header::AUTHORIZATION};

/// Why no token could be taken from the header. `Display` is flask-jwt-extended's `msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthHeaderError {
    #[error("Missing Authorization Header")]
    Missing,
    #[error(
        "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
    )]
    NoBearer,
    #[error("Bad Authorization header. Expected 'Authorization: Bearer <JWT>'")]
    Malformed,
}

/// The token of the one `Bearer` field of the first `Authorization` header.
///
/// The value is trimmed of whitespace, then of commas, and split on commas; exactly one field
/// must start with the word `Bearer` (case-sensitive), and that field must be exactly two words.
/// `Basic x, Bearer <JWT>` is accepted.
pub fn bearer_token(headers: &HeaderMap) -> Result<String, AuthHeaderError> {
    let raw = headers
        .get(AUTHORIZATION)
        // As WSGI (and so Flask) reads header bytes: Latin-1, one character per byte. Read as
        // UTF-8, `Bearer\xC2\xA0<JWT>` would split at a no-break space Flask never sees.
        .map(|value| {
            value
                .as_bytes()
                .iter()
                .map(|&byte| char::from(byte))
                .collect::<String>()
        });
    let value = raw.as_deref().unwrap_or("").trim().trim_matches(',');
    if value.is_empty() {
        return Err(AuthHeaderError::Missing);
    }
    let mut bearer_fields = value
        .split(',')
        .filter(|field| field.split_whitespace().next() == Some("Bearer"));
    let (Some(field), None) = (bearer_fields.next(), bearer_fields.next()) else {
        return Err(AuthHeaderError::NoBearer);
    };
    match field.split_whitespace().collect::<Vec<_>>().as_slice() {
        [_, token] => Ok((*token).to_owned()),
        _ => Err(AuthHeaderError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn parse(value: Option<&str>) -> Result<String, AuthHeaderError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        bearer_token(&headers)
    }

    #[test]
    fn bearer_token_is_extracted() {
        assert_eq!(
            parse(Some("Bearer abc.def.ghi")),
            Ok("abc.def.ghi".to_owned())
        );
    }

    #[test]
    fn missing_or_blank_header_is_missing() {
        for value in [None, Some(""), Some("   "), Some(","), Some(" ,, ")] {
            assert_eq!(parse(value), Err(AuthHeaderError::Missing), "{value:?}");
        }
    }

    #[test]
    fn other_schemes_and_lowercase_bearer_have_no_bearer_type() {
        for value in [
            "Basic abc",
            "bearer abc",
            "BEARER abc",
            "Token abc",
            "abc",
            "Bearerabc",
        ] {
            assert_eq!(
                parse(Some(value)),
                Err(AuthHeaderError::NoBearer),
                "{value}"
            );
        }
    }

    #[test]
    fn two_bearer_fields_are_ambiguous() {
        assert_eq!(
            parse(Some("Bearer a, Bearer b")),
            Err(AuthHeaderError::NoBearer)
        );
    }

    #[test]
    fn bearer_field_must_be_exactly_two_words() {
        for value in ["Bearer", "Bearer  ", "Bearer a b", "Bearer a\tb c"] {
            assert_eq!(
                parse(Some(value)),
                Err(AuthHeaderError::Malformed),
                "{value}"
            );
        }
    }

    #[test]
    fn bearer_among_other_comma_separated_fields_is_accepted() {
        assert_eq!(parse(Some("Basic x, Bearer tok")), Ok("tok".to_owned()));
        assert_eq!(parse(Some("Bearer tok,Basic x")), Ok("tok".to_owned()));
        assert_eq!(parse(Some(" ,Bearer tok, ")), Ok("tok".to_owned()));
    }

    #[test]
    fn empty_fields_that_crash_the_seed_app_are_just_skipped() {
        assert_eq!(parse(Some(", ,Bearer x")), Ok("x".to_owned()));
        assert_eq!(parse(Some("Basic a,, ,Bearer y")), Ok("y".to_owned()));
    }

    #[test]
    fn non_ascii_header_bytes_are_latin_1_as_in_flask() {
        let parse_bytes = |bytes: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_bytes(bytes).unwrap());
            bearer_token(&headers)
        };
        assert_eq!(
            parse_bytes(b"Bearer \xff\xfe"),
            Ok("\u{ff}\u{fe}".to_owned())
        );
        // A UTF-8 no-break space is two Latin-1 characters, the first not a space.
        assert_eq!(
            parse_bytes(b"Bearer\xc2\xa0tok"),
            Err(AuthHeaderError::NoBearer)
        );
    }
}

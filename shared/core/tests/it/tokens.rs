use auth_core::{
    claims::{TokenKind, VerifiedClaims},
    tokens::{SessionClaims, TokenError, TokenService},
};
use auth_testkit::{
    IssueNow, TEST_SECRET as SECRET, settings_with, sign_raw, with_claim as with,
    without_claim as without,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use uuid::Uuid;

const NOW: f64 = 1_800_000_000.5;

fn service_with(overrides: &[(&str, &str)]) -> TokenService {
    TokenService::new(&settings_with(overrides)).unwrap()
}

fn service() -> TokenService {
    service_with(&[])
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn signed(payload: Value) -> String {
    auth_testkit::signed(&payload)
}

fn valid_claims() -> Value {
    json!({"sub": "cosmo", "type": "access", "iat": NOW as i64 - 10, "nbf": NOW as i64 - 10, "exp": NOW as i64 + 900})
}

fn verify_access(token: &str) -> Result<VerifiedClaims, TokenError> {
    service().verify_at(token, TokenKind::Access, NOW)
}

#[test]
fn issued_access_token_verifies_with_its_subject_kind_and_lifetime() {
    let service = service();
    let token = service
        .issue_at(
            TokenKind::Access,
            "cosmo",
            true,
            NOW as i64,
            "id-1",
            Some(SessionClaims {
                id: "session-1",
                started_at: NOW as i64 - 60,
                methods: None,
            }),
        )
        .unwrap();
    let claims = service.verify_at(&token, TokenKind::Access, NOW).unwrap();
    assert_eq!(claims.subject, "cosmo");
    assert_eq!(claims.kind, TokenKind::Access);
    assert_eq!(claims.jti.as_deref(), Some("id-1"));
    assert_eq!(claims.expires_at, NOW as i64 + 900);
    assert_eq!(claims.issued_at, Some(NOW as i64));
    assert_eq!(claims.session_id(), Some("session-1"));
    assert_eq!(claims.auth_time, Some(NOW as i64 - 60));
    assert_eq!(claims.session_started_at(), Some(NOW as i64 - 60));
}

const HOUR: i64 = 3600;

/// Refresh tokens of one hour in sessions of at most two.
fn capped_service() -> TokenService {
    service_with(&[("JWT_SESSION_MAX_AGE", "2h")])
}

fn refresh_in_session(service: &TokenService, started_at: i64, issued_at: i64) -> String {
    let session = SessionClaims {
        id: "s",
        started_at,
        methods: None,
    };
    service
        .issue_at(
            TokenKind::Refresh,
            "cosmo",
            false,
            issued_at,
            "r",
            Some(session),
        )
        .unwrap()
}

#[test]
fn a_refresh_token_never_expires_after_its_sessions_end() {
    let service = capped_service();
    let start = NOW as i64;
    let first = refresh_in_session(&service, start, start);
    let verify = |token: &str, at: i64| service.verify_at(token, TokenKind::Refresh, at as f64);
    assert_eq!(verify(&first, start).unwrap().expires_at, start + HOUR);
    // Issued by a refresh 90 minutes in: it gets what is left of the session, not an hour.
    let late = refresh_in_session(&service, start, start + 90 * 60);
    assert_eq!(
        verify(&late, start + 90 * 60).unwrap().expires_at,
        start + 2 * HOUR
    );
    assert!(verify(&late, start + 2 * HOUR - 1).is_ok());
    assert_eq!(verify(&late, start + 2 * HOUR), Err(TokenError::Expired));
    // Access tokens are not capped: one bought at the last moment lives its full life.
    let access = service
        .issue_at(
            TokenKind::Access,
            "cosmo",
            false,
            start + 2 * HOUR - 1,
            "a",
            Some(SessionClaims {
                id: "s",
                started_at: start,
                methods: None,
            }),
        )
        .unwrap();
    let claims = service
        .verify_at(&access, TokenKind::Access, (start + 2 * HOUR + 60) as f64)
        .unwrap();
    assert_eq!(claims.expires_at, start + 2 * HOUR - 1 + 900);
}

#[test]
fn a_refresh_token_whose_session_is_older_than_the_cap_has_expired_whatever_its_exp_says() {
    let service = capped_service();
    let now = NOW as i64;
    // Signed when the cap was longer, or by flask-jwt-extended (whose session began at its
    // iat at the latest): its exp is far away, but its session began too long ago.
    for (claim, started) in [("auth_time", now - 2 * HOUR), ("iat", now - 3 * HOUR)] {
        let token = signed(json!({
            "type": "refresh", "sub": "cosmo", "iat": now - 3 * HOUR, "exp": now + 86_400,
            claim: started,
        }));
        assert_eq!(
            service.verify_at(&token, TokenKind::Refresh, NOW),
            Err(TokenError::Expired),
            "{claim}"
        );
    }
    // Within the cap from auth_time, though its iat is older.
    let token = signed(json!({
        "type": "refresh", "sub": "cosmo", "iat": now - 3 * HOUR, "exp": now + 60,
        "auth_time": now - HOUR,
    }));
    assert!(service.verify_at(&token, TokenKind::Refresh, NOW).is_ok());
    // An access token is not a session's refresh: its own exp decides.
    let access = signed(json!({
        "type": "access", "sub": "cosmo", "iat": now - 3 * HOUR, "exp": now + 60,
        "auth_time": now - 3 * HOUR,
    }));
    assert!(service.verify_at(&access, TokenKind::Access, NOW).is_ok());
}

/// The cap is a point in time: a session that began exactly its length ago has ended, as a
/// token whose `exp` is now has expired; half a second before, it has not.
#[test]
fn a_session_ends_at_the_exact_second_of_its_cap() {
    let service = capped_service();
    let started = NOW as i64 - 2 * HOUR;
    let token = signed(json!({
        "type": "refresh", "sub": "cosmo", "iat": started, "exp": started + 86_400,
        "auth_time": started,
    }));
    let end = (started + 2 * HOUR) as f64;
    assert_eq!(
        service.verify_at(&token, TokenKind::Refresh, end),
        Err(TokenError::Expired)
    );
    assert!(
        service
            .verify_at(&token, TokenKind::Refresh, end - 0.5)
            .is_ok()
    );
}

#[test]
fn the_record_of_a_session_lasts_until_its_end_and_the_last_access_tokens_life() {
    let service = capped_service();
    let start = NOW as i64;
    let claims = |token: &str| {
        service
            .verify_at(token, TokenKind::Refresh, start as f64)
            .unwrap()
    };
    let first = claims(&refresh_in_session(&service, start, start));
    // Bought by a refresh 90 minutes into the session.
    let later_at = start + 90 * 60;
    let later = service
        .verify_at(
            &refresh_in_session(&service, start, later_at),
            TokenKind::Refresh,
            later_at as f64,
        )
        .unwrap();
    // The same for every token of the session, whenever it was issued.
    assert_eq!(service.session_record_until(&first), start + 2 * HOUR + 900);
    assert_eq!(service.session_record_until(&later), start + 2 * HOUR + 900);
    // A token with no start known is a session as long as itself.
    let token = signed(json!({"type": "refresh", "sub": "cosmo", "exp": start + 60}));
    assert_eq!(
        service.session_record_until(&claims(&token)),
        start + 60 + 900
    );
    // One without auth_time began at its iat at the latest, as the tokens it buys say.
    let token = signed(json!({
        "type": "refresh", "sub": "cosmo", "iat": start - 60, "exp": start + HOUR,
    }));
    assert_eq!(
        service.session_record_until(&claims(&token)),
        start - 60 + 2 * HOUR + 900
    );
}

#[test]
fn revocation_sees_an_expired_token_and_refuses_what_is_not_a_good_token() {
    let service = service();
    let expired = signed(with(valid_claims(), "exp", json!(NOW as i64 - 1)));
    let checked = service.check_revocable_at(&expired, None, NOW).unwrap();
    assert!(checked.expired);
    assert_eq!(checked.claims.subject, "cosmo");
    let live = signed(valid_claims());
    assert!(
        !service
            .check_revocable_at(&live, None, NOW)
            .unwrap()
            .expired
    );
    // The kind is checked, expired or not: an access token is no refresh token to revoke.
    for token in [&live, &expired] {
        assert_eq!(
            service.check_revocable_at(token, Some(TokenKind::Refresh), NOW),
            Err(TokenError::RefreshTokenRequired)
        );
    }
    let forged = sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &with(valid_claims(), "exp", json!(NOW as i64 - 1)).to_string(),
        "another-secret-of-at-least-32-bytes!",
    );
    assert_eq!(
        service.check_revocable_at(&forged, None, NOW),
        Err(TokenError::BadSignature)
    );
    assert_eq!(
        service.check_revocable_at("not.a-token", None, NOW),
        Err(TokenError::NotEnoughSegments)
    );
}

#[test]
fn a_token_without_a_session_is_a_session_of_its_own() {
    let service = service();
    let token = service
        .issue_at(TokenKind::Refresh, "cosmo", false, NOW as i64, "id-9", None)
        .unwrap();
    let claims = service.verify_at(&token, TokenKind::Refresh, NOW).unwrap();
    assert_eq!(claims.session, None);
    assert_eq!(claims.session_id(), Some("id-9"));
}

#[test]
fn issued_refresh_token_lives_one_hour_and_is_never_fresh() {
    let token = service()
        .issue_at(TokenKind::Refresh, "cosmo", true, 1000, "id-2", None)
        .unwrap();
    let payload = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    assert_eq!(payload["exp"], json!(1000 + 3600));
    assert_eq!(payload["fresh"], json!(false));
    assert_eq!(payload["type"], json!("refresh"));
}

#[test]
fn issued_token_has_flask_jwt_extended_claims_and_hs256_header() {
    let token = service().issue(TokenKind::Access, "cosmo", true).unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    assert_eq!(
        header, br#"{"alg":"HS256","typ":"JWT"}"#,
        "PyJWT's header, byte for byte"
    );
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], json!("cosmo"));
    assert_eq!(claims["type"], json!("access"));
    assert_eq!(claims["fresh"], json!(true));
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let jti = Uuid::parse_str(claims["jti"].as_str().unwrap()).unwrap();
    assert_eq!(jti.get_version_num(), 4);
    assert!(claims.get("iss").is_none() && claims.get("aud").is_none());
}

#[test]
fn every_issued_token_gets_a_different_jti() {
    let service = service();
    let first = service.verify(
        &service.issue(TokenKind::Access, "a", true).unwrap(),
        TokenKind::Access,
    );
    let second = service.verify(
        &service.issue(TokenKind::Access, "a", true).unwrap(),
        TokenKind::Access,
    );
    assert_ne!(first.unwrap().jti, second.unwrap().jti);
}

#[test]
fn configured_issuer_and_audience_are_issued_and_required() {
    let service = service_with(&[
        ("JWT_ISSUER", "https://auth.example"),
        ("JWT_AUDIENCE", "api"),
    ]);
    let token = service
        .issue_at(TokenKind::Access, "cosmo", true, NOW as i64, "x", None)
        .unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    assert_eq!(claims["iss"], json!("https://auth.example"));
    assert_eq!(claims["aud"], json!("api"));
    assert!(service.verify_at(&token, TokenKind::Access, NOW).is_ok());

    let plain = signed(valid_claims());
    assert_eq!(
        service.verify_at(&plain, TokenKind::Access, NOW),
        Err(TokenError::MissingClaim("iss"))
    );
    let wrong_issuer = signed(with(valid_claims(), "iss", json!("https://evil.example")));
    assert_eq!(
        service.verify_at(&wrong_issuer, TokenKind::Access, NOW),
        Err(TokenError::WrongIssuer)
    );
    let numeric_issuer = signed(with(valid_claims(), "iss", json!(5)));
    assert_eq!(
        service.verify_at(&numeric_issuer, TokenKind::Access, NOW),
        Err(TokenError::IssuerNotString)
    );
}

#[test]
fn audience_rules_follow_rfc_7519_and_pyjwt() {
    let with_audience = service_with(&[("JWT_AUDIENCE", "api")]);
    let check = |service: &TokenService, aud: Value| {
        service.verify_at(
            &signed(with(valid_claims(), "aud", aud)),
            TokenKind::Access,
            NOW,
        )
    };
    assert_eq!(
        check(&service(), json!("api")),
        Err(TokenError::UnexpectedAudience)
    );
    assert!(
        check(&service(), json!("")).is_ok(),
        "an empty aud is no audience, as in PyJWT"
    );
    assert!(check(&with_audience, json!("api")).is_ok());
    assert!(check(&with_audience, json!(["other", "api"])).is_ok());
    assert_eq!(
        check(&with_audience, json!("other")),
        Err(TokenError::WrongAudience)
    );
    assert_eq!(
        check(&with_audience, json!(["api", 3])),
        Err(TokenError::AudienceFormat)
    );
    assert_eq!(
        check(&with_audience, json!(7)),
        Err(TokenError::AudienceFormat)
    );
    assert_eq!(
        check(&with_audience, json!([])),
        Err(TokenError::MissingClaim("aud"))
    );
    let no_aud = signed(valid_claims());
    assert_eq!(
        with_audience.verify_at(&no_aud, TokenKind::Access, NOW),
        Err(TokenError::MissingClaim("aud"))
    );
    // Python's truth of an object: an empty one is no audience, any other is one.
    assert!(check(&service(), json!({})).is_ok());
    assert_eq!(
        check(&service(), json!({"a": 1})),
        Err(TokenError::UnexpectedAudience)
    );
    assert_eq!(
        check(&with_audience, json!({})),
        Err(TokenError::MissingClaim("aud"))
    );
    assert_eq!(
        check(&with_audience, json!({"a": 1})),
        Err(TokenError::AudienceFormat)
    );
}

#[test]
fn missing_alg_is_algorithm_not_specified() {
    let token = sign_raw(r#"{"typ":"JWT"}"#, &valid_claims().to_string(), SECRET);
    assert_eq!(verify_access(&token), Err(TokenError::AlgorithmMissing));
}

#[test]
fn any_alg_but_hs256_is_not_allowed_even_when_signed_with_our_key() {
    for alg in [
        r#""none""#,
        r#""HS384""#,
        r#""HS512""#,
        r#""RS256""#,
        r#""hs256""#,
        "null",
        "256",
    ] {
        let token = sign_raw(
            &format!(r#"{{"alg":{alg}}}"#),
            &valid_claims().to_string(),
            SECRET,
        );
        assert_eq!(
            verify_access(&token),
            Err(TokenError::AlgorithmNotAllowed),
            "alg {alg}"
        );
    }
}

#[test]
fn unsigned_none_token_is_refused() {
    let token = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(valid_claims().to_string().as_bytes())
    );
    assert_eq!(verify_access(&token), Err(TokenError::AlgorithmNotAllowed));
}

#[test]
fn token_signed_with_another_key_fails_signature_verification() {
    let token = sign_raw(
        r#"{"alg":"HS256"}"#,
        &valid_claims().to_string(),
        "another-secret-another-secret-another",
    );
    assert_eq!(verify_access(&token), Err(TokenError::BadSignature));
}

#[test]
fn tampered_payload_fails_signature_verification() {
    let token = signed(valid_claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with(valid_claims(), "sub", json!("admin"))
        .to_string()
        .as_bytes());
    parts[1] = &forged;
    assert_eq!(
        verify_access(&parts.join(".")),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn padded_segments_are_accepted_like_pyjwt() {
    let token = signed(valid_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let pad = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    // The signature covers the first two segments as written, so only the signature's padding is free.
    let padded = format!("{}.{}.{}", parts[0], parts[1], pad(parts[2]));
    assert_ne!(padded, token);
    assert!(verify_access(&padded).is_ok());
}

#[test]
fn malformed_tokens_get_pyjwt_decode_messages() {
    let claims = b64(valid_claims().to_string().as_bytes());
    let header = b64(br#"{"alg":"HS256"}"#);
    let cases = [
        ("", TokenError::NotEnoughSegments),
        ("abc", TokenError::NotEnoughSegments),
        ("a.b", TokenError::NotEnoughSegments),
        ("!!!.e30.e30", TokenError::HeaderEncoding),
        (
            &format!("{}.{claims}.sig", b64(b"not json")),
            TokenError::HeaderNotJson,
        ),
        (
            &format!("{}.{claims}.sig", b64(b"[1,2]")),
            TokenError::HeaderNotObject,
        ),
        (&format!("{header}.%%%.sig"), TokenError::PayloadEncoding),
        (
            &format!("{header}.{claims}.x.y"),
            TokenError::PayloadEncoding,
        ),
        (
            &format!("{header}.{claims}.@@"),
            TokenError::SignatureEncoding,
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(verify_access(token), Err(expected), "token {token:?}");
    }
}

#[test]
fn payload_that_is_not_a_json_object_is_refused_after_the_signature() {
    let header = r#"{"alg":"HS256"}"#;
    assert_eq!(
        verify_access(&sign_raw(header, "not json", SECRET)),
        Err(TokenError::PayloadNotJson)
    );
    assert_eq!(
        verify_access(&sign_raw(header, "[1]", SECRET)),
        Err(TokenError::PayloadNotObject)
    );
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        verify_access(&sign_raw(header, &deep, SECRET)),
        Err(TokenError::PayloadNotJson)
    );
}

#[test]
fn token_without_exp_is_refused() {
    assert_eq!(
        verify_access(&signed(without(valid_claims(), "exp"))),
        Err(TokenError::MissingClaim("exp"))
    );
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "exp", Value::Null))),
        Err(TokenError::MissingClaim("exp"))
    );
    assert_eq!(
        TokenError::MissingClaim("exp").to_string(),
        r#"Token is missing the "exp" claim"#
    );
}

#[test]
fn expiry_has_zero_leeway() {
    let at = |exp: f64| verify_access(&signed(with(valid_claims(), "exp", json!(exp))));
    assert_eq!(
        at(NOW.floor()),
        Err(TokenError::Expired),
        "exp just before now is expired"
    );
    assert_eq!(at(NOW.floor() - 1.0), Err(TokenError::Expired));
    assert!(at(NOW.ceil()).is_ok(), "exp one second ahead is valid");
    let service = service();
    let token = signed(json!({"sub": "cosmo", "exp": 2000}));
    assert_eq!(
        service.verify_at(&token, TokenKind::Access, 2000.0),
        Err(TokenError::Expired),
        "exp == now"
    );
}

#[test]
fn future_iat_and_nbf_are_not_yet_valid() {
    let future = json!(NOW as i64 + 5);
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "iat", future.clone()))),
        Err(TokenError::IssuedInFuture)
    );
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "nbf", future))),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn time_claims_of_the_wrong_type_are_refused_with_pyjwt_messages() {
    let cases = [
        ("iat", TokenError::IssuedAtNotInteger),
        ("nbf", TokenError::NotBeforeNotInteger),
        ("exp", TokenError::ExpiryNotInteger),
    ];
    for (claim, expected) in cases {
        for bad in [json!("soon"), json!([1]), json!({"t": 1})] {
            assert_eq!(
                verify_access(&signed(with(valid_claims(), claim, bad.clone()))),
                Err(expected.clone()),
                "{claim}={bad}"
            );
        }
    }
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "iat", Value::Null))),
        Err(TokenError::IssuedAtNotInteger)
    );
}

#[test]
fn time_claims_truncate_like_python_int() {
    // int(1800000000.9) == 1800000000, which is not after now (…000.5).
    assert!(
        verify_access(&signed(with(
            valid_claims(),
            "iat",
            json!(NOW.floor() + 0.9)
        )))
        .is_ok()
    );
    assert!(
        verify_access(&signed(with(
            valid_claims(),
            "exp",
            json!(format!("{}", NOW as i64 + 60))
        )))
        .is_ok()
    );
    // Booleans are Python ints: `iat: true` is the epoch's first second, long past, and an
    // `exp` of either is long expired, not "must be an integer".
    assert!(verify_access(&signed(with(valid_claims(), "iat", json!(true)))).is_ok());
    for flag in [true, false] {
        assert_eq!(
            verify_access(&signed(with(valid_claims(), "exp", json!(flag)))),
            Err(TokenError::Expired),
            "exp: {flag}"
        );
    }
}

/// `fresh` is true only for the boolean `true` a login writes: a token from a refresh, or one
/// whose `fresh` is anything else (a string, a number), is not fresh.
#[test]
fn only_a_fresh_claim_of_true_is_fresh() {
    let service = service();
    let issued = |fresh| {
        service
            .issue_at(
                TokenKind::Access,
                "cosmo",
                fresh,
                NOW as i64 - 10,
                "j",
                None,
            )
            .unwrap()
    };
    assert!(
        service
            .verify_at(&issued(true), TokenKind::Access, NOW)
            .unwrap()
            .fresh
    );
    assert!(
        !service
            .verify_at(&issued(false), TokenKind::Access, NOW)
            .unwrap()
            .fresh
    );
    for fresh in [json!("true"), json!(1), json!(null)] {
        let token = signed(with(valid_claims(), "fresh", fresh.clone()));
        assert!(!verify_access(&token).unwrap().fresh, "{fresh}");
    }
}

#[test]
fn claim_checks_run_in_flask_jwt_extended_order() {
    let expired = || with(valid_claims(), "exp", json!(1));
    // Expiry is reported only when nothing else is wrong with the claims.
    assert_eq!(
        verify_access(&signed(with(expired(), "sub", json!(42)))),
        Err(TokenError::SubjectNotString)
    );
    assert_eq!(
        verify_access(&signed(with(expired(), "jti", json!(1)))),
        Err(TokenError::JwtIdNotString)
    );
    assert_eq!(
        verify_access(&signed(without(expired(), "sub"))),
        Err(TokenError::MissingSubject)
    );
    // …but before the token type.
    assert_eq!(
        verify_access(&signed(with(expired(), "type", json!("refresh")))),
        Err(TokenError::Expired)
    );
    // A future iat beats expiry.
    assert_eq!(
        verify_access(&signed(with(expired(), "iat", json!(NOW as i64 + 100)))),
        Err(TokenError::IssuedInFuture)
    );
    // A missing exp is reported before anything else about the claims.
    let claims = with(
        without(valid_claims(), "exp"),
        "iat",
        json!(NOW as i64 + 100),
    );
    assert_eq!(
        verify_access(&signed(claims)),
        Err(TokenError::MissingClaim("exp"))
    );
    // Token type is checked last, after the subject.
    let claims = with(without(valid_claims(), "sub"), "type", json!("refresh"));
    assert_eq!(
        verify_access(&signed(claims)),
        Err(TokenError::MissingSubject)
    );
}

#[test]
fn non_string_subject_and_jti_are_refused() {
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "sub", json!(1)))),
        Err(TokenError::SubjectNotString)
    );
    assert_eq!(
        verify_access(&signed(with(valid_claims(), "jti", json!(1)))),
        Err(TokenError::JwtIdNotString)
    );
}

#[test]
fn missing_subject_is_missing_claim_sub() {
    assert_eq!(
        verify_access(&signed(without(valid_claims(), "sub"))),
        Err(TokenError::MissingSubject)
    );
    assert_eq!(TokenError::MissingSubject.to_string(), "Missing claim: sub");
}

#[test]
fn token_type_decides_where_it_is_accepted() {
    let service = service();
    let refresh = signed(with(valid_claims(), "type", json!("refresh")));
    let access = signed(valid_claims());
    assert_eq!(
        service.verify_at(&refresh, TokenKind::Access, NOW),
        Err(TokenError::RefreshTokenNotAllowed)
    );
    assert_eq!(
        service.verify_at(&access, TokenKind::Refresh, NOW),
        Err(TokenError::RefreshTokenRequired)
    );
    assert_eq!(
        service
            .verify_at(&refresh, TokenKind::Refresh, NOW)
            .unwrap()
            .kind,
        TokenKind::Refresh
    );
}

#[test]
fn flask_jwt_extended_optional_claims_may_be_absent_or_extra() {
    let minimal = json!({"sub": "cosmo", "exp": NOW as i64 + 60});
    let claims = verify_access(&signed(minimal)).unwrap();
    assert_eq!(claims.kind, TokenKind::Access, "no type counts as access");
    assert_eq!(claims.jti, None);
    let extra = with(
        with(
            with(valid_claims(), "csrf", json!("c")),
            "fresh",
            json!(1_800_000_000.0),
        ),
        "role",
        json!("x"),
    );
    assert!(verify_access(&signed(extra)).is_ok());
    let odd_type = with(valid_claims(), "type", json!("id"));
    assert_eq!(
        verify_access(&signed(odd_type)).unwrap().kind,
        TokenKind::Access
    );
}

#[test]
fn kid_and_other_header_fields_are_accepted() {
    let token = sign_raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"k1","x":[1]}"#,
        &valid_claims().to_string(),
        SECRET,
    );
    assert!(verify_access(&token).is_ok());
}

#[test]
fn only_expiry_is_a_401() {
    assert!(TokenError::Expired.is_expired());
    assert!(!TokenError::BadSignature.is_expired());
}

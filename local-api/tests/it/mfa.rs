//! The second factor as a person and an attacker drive it, over both stores: enrol, confirm,
//! a login that gives no token before its code, codes that work once (a replay, two uses at
//! once), recovery codes, the lock after wrong codes, an `mfa_token` that expires, is spent,
//! or came from elsewhere, and a table that holds no secret in clear. Codes are computed as
//! an app computes them, from the secret enrolment shows: by pyotp, a TOTP we did not write
//! (`App`). Over DynamoDB every operation is checked against its function's IAM policy in
//! `template.yaml`. The harness is `mfa_harness`'s, which `hostile_mfa` shares.

use auth_testkit::payload_of;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    common::Backend,
    mfa_harness::{ANN, App, ELSEWHERE, PASSWORD, Service, count, field},
};

fn amr(token: &str) -> Value {
    payload_of(token)["amr"].clone()
}

over_both_stores!(
    enrol_confirm_and_log_in_with_a_code_that_works_once,
    a_recovery_code_works_once_and_says_so_in_amr,
    five_wrong_codes_lock_the_factor_until_the_window_ends,
    two_uses_of_one_code_at_once_give_one_success,
    an_mfa_token_expires_is_spent_and_stays_where_the_password_was_typed,
    the_factor_changes_only_with_a_fresh_token_and_a_code,
    a_user_without_a_factor_logs_in_as_before,
    tokens_and_mfa_tokens_are_never_taken_for_one_another,
);

/// Enrol (a secret, a QR code), confirm with its first code (ten recovery codes; every other
/// session ends, the caller's stays); then a login gives no token but an `mfa_token`, and the
/// next step's code gives the pair, `amr` saying a second factor was passed, kept by a
/// refresh; the same code again is refused, with a new `mfa_token` too.
async fn enrol_confirm_and_log_in_with_a_code_that_works_once(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (enrolling_access, enrolling_refresh) = service.confirmed(ANN).await;
    // Another device, signed in before the factor.
    let other_device = service.login_from(ANN, PASSWORD, ELSEWHERE).await;
    assert_eq!(other_device.status, StatusCode::OK);
    let other_access = field(&other_device.body, "access_token");
    let other_refresh = field(&other_device.body, "refresh_token");
    assert_eq!(amr(&other_access), json!(["pwd"]));

    let enrolment = service
        .factor("POST", "/mfa/totp", None, &enrolling_access)
        .await;
    assert_eq!(enrolment.status, StatusCode::OK);
    let secret = enrolment.body["secret"].as_str().unwrap();
    let uri = enrolment.body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/JWT%20Auth:ann%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")));
    let svg = enrolment.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && !svg.contains(secret));
    // Pending is not on: a login still needs the password alone.
    let answer = service.login(ANN, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK);

    let app = App::new(secret);
    let wrong = if service.code(&app) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let answer = service.confirm_with(wrong, &enrolling_access).await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    // Kept as typed: the clock may cross into the next step before it is tried again.
    let confirming = service.code(&app);
    let confirmed = service.confirm_with(&confirming, &enrolling_access).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{confirmed:?}");
    let codes = confirmed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);

    // `/profile` says the factor is on (and said nothing of one before).
    let answer = service.profile(&enrolling_access).await;
    assert_eq!(answer.body["mfa_enabled"], json!(true));
    let answer = service.profile(&other_access).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "its session ended");

    // The other device's session ended; the enrolling one stays.
    let answer = service.refresh(&other_refresh).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has been revoked"})
        )
    );
    let answer = service.refresh(&enrolling_refresh).await;
    assert_eq!(answer.status, StatusCode::OK);

    // The confirming code's step is spent: a login in it cannot pass with that code.
    let mfa_token = service.mfa_token(ANN).await;
    let answer = service.with_code(&mfa_token, &confirming).await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "the confirming code, again"
    );
    service.next_step();
    let code = service.code(&app);
    let answer = service.with_code(&mfa_token, &code).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let signed_in_access = field(&answer.body, "access_token");
    let signed_in_refresh = field(&answer.body, "refresh_token");
    assert_eq!(amr(&signed_in_access), json!(["pwd", "otp", "mfa"]));
    assert_eq!(amr(&signed_in_refresh), json!(["pwd", "otp", "mfa"]));
    assert_eq!(payload_of(&signed_in_access)["fresh"], json!(true));
    let refreshed = service.refresh(&signed_in_refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_eq!(
        amr(&field(&refreshed.body, "access_token")),
        json!(["pwd", "otp", "mfa"])
    );

    let answer = service.log_in_with_code(ANN, &code).await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );

    // The item holds no secret, pending or confirmed, and no recovery code, in clear.
    if let Some(users) = service.users_table() {
        let item = users
            .client()
            .get_item()
            .table_name(users.table())
            .key(
                "username",
                aws_sdk_dynamodb::types::AttributeValue::S(ANN.into()),
            )
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        let stored = format!("{item:?}");
        assert!(stored.contains("mfa_secret"), "{stored}");
        assert!(!stored.contains(secret), "the base32 secret is stored");
        assert!(!stored.to_lowercase().contains(&secret.to_lowercase()[..16]));
        for code in codes {
            let code = code.as_str().unwrap();
            assert!(!stored.contains(code) && !stored.contains(&code.replace('-', "")));
        }
    }
}

/// A recovery code passes the second step in place of a code, once; its tokens say so.
async fn a_recovery_code_works_once_and_says_so_in_amr(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let codes = service.enrolled(ANN).await.codes;
    // Typed as a person would: capitals, no dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let answer = service
        .second_step(json!({"mfa_token": service.mfa_token(ANN).await, "recovery_code": typed}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        amr(&field(&answer.body, "access_token")),
        json!(["pwd", "mfa"])
    );
    let answer = service
        .second_step(json!({"mfa_token": service.mfa_token(ANN).await, "recovery_code": codes[3]}))
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    let answer = service
        .second_step(json!({"mfa_token": service.mfa_token(ANN).await, "recovery_code": codes[4]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "another code still works");
}

/// Five wrong codes lock the factor: the right code is refused with 429 and Retry-After, from
/// a new login too, until the window ends; then it passes.
async fn five_wrong_codes_lock_the_factor_until_the_window_ends(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let app = service.enrolled(ANN).await.app;
    service.next_step();
    let right = service.code(&app);
    let wrong = (right.parse::<u32>().unwrap() + 1) % 1_000_000;
    let wrong = format!("{wrong:06}");
    let mfa_token = service.mfa_token(ANN).await;
    for attempt in 1..=5 {
        let answer = service.with_code(&mfa_token, &wrong).await;
        assert_eq!(
            (answer.status, answer.body),
            (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"})),
            "wrong code {attempt}"
        );
    }
    let answer = service.with_code(&mfa_token, &right).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "Too many wrong codes: try again later"})
        )
    );
    let answer = service.log_in_with_code(ANN, &right).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new login, the right code"
    );
    // The login throttle's window (LOGIN_FAILURE_WINDOW, 15 minutes) ends.
    service.advance(15 * 60 + 1);
    let answer = service.log_in_with(ANN, &app).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

/// The same code at once, with one `mfa_token` and with two: one success each time.
async fn two_uses_of_one_code_at_once_give_one_success(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let app = service.enrolled(ANN).await.app;
    for same_token in [true, false] {
        service.next_step();
        let code = service.code(&app);
        let first = service.mfa_token(ANN).await;
        let second = match same_token {
            true => first.clone(),
            false => service.mfa_token(ANN).await,
        };
        let (one, other) = tokio::join!(
            service.with_code(&first, &code),
            service.with_code(&second, &code)
        );
        let answers = [one, other];
        assert_eq!(
            count(&answers, StatusCode::OK),
            1,
            "same token {same_token}: {answers:?}"
        );
        assert!(count(&answers, StatusCode::UNAUTHORIZED) > 0, "{answers:?}");
    }
}

/// An `mfa_token` is refused after its five minutes, after its success, and from an address
/// other than the password's; a garbled one is refused alike.
async fn an_mfa_token_expires_is_spent_and_stays_where_the_password_was_typed(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let app = service.enrolled(ANN).await.app;
    let invalid = json!({"error": "MFA token is invalid or has expired"});

    let late = service.mfa_token(ANN).await;
    service.advance(5 * 60);
    let answer = service.with_code(&late, &service.code(&app)).await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "after 5 minutes"
    );

    service.next_step();
    let mfa_token = service.mfa_token(ANN).await;
    let answer = service
        .second_step_from(
            json!({"mfa_token": mfa_token, "code": service.code(&app)}),
            ELSEWHERE,
        )
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "from elsewhere"
    );
    let answer = service.with_code(&mfa_token, &service.code(&app)).await;
    assert_eq!(answer.status, StatusCode::OK, "from home, still good");
    service.next_step();
    let answer = service.with_code(&mfa_token, &service.code(&app)).await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "spent"
    );

    for garbled in [format!("{mfa_token}x"), "x".repeat(200), String::from("a")] {
        let answer = service.with_code(&garbled, &service.code(&app)).await;
        assert_eq!(
            (answer.status, answer.body),
            (StatusCode::UNAUTHORIZED, invalid.clone())
        );
    }
}

/// Turning the factor off or renewing its codes takes a fresh token and a code; a non-fresh
/// token is flask-jwt-extended's 401; new codes end the old ones; a factor off means a
/// password login again.
async fn the_factor_changes_only_with_a_fresh_token_and_a_code(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let ann = service.enrolled(ANN).await;
    let (app, old_codes) = (&ann.app, &ann.codes);
    let refreshed = service.refresh(&ann.refresh).await;
    let stale = field(&refreshed.body, "access_token");
    service.next_step();
    for (method, path) in [
        ("POST", "/mfa/totp"),
        ("DELETE", "/mfa/totp"),
        ("POST", "/mfa/recovery-codes"),
    ] {
        let answer = service.factor_with_code(method, path, app, &stale).await;
        assert_eq!(
            (answer.status, answer.body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"msg": "Fresh token required"})
            ),
            "{method} {path}"
        );
    }
    let answer = service.factor("POST", "/mfa/totp", None, &ann.access).await;
    assert_eq!(
        (answer.status, answer.body["error"].clone()),
        (
            StatusCode::CONFLICT,
            json!("A second factor is already on: remove it first")
        )
    );

    let renewed = service
        .factor_with_code("POST", "/mfa/recovery-codes", app, &ann.access)
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{renewed:?}");
    let new_codes = renewed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(new_codes.len(), 10);
    let answer = service
        .second_step(
            json!({"mfa_token": service.mfa_token(ANN).await, "recovery_code": old_codes[0]}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "an old code after the renewal"
    );

    let answer = service
        .factor(
            "DELETE",
            "/mfa/totp",
            Some(json!({"code": "12345"})),
            &ann.access,
        )
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::UNAUTHORIZED, json!({"error": "Invalid code"}))
    );
    let answer = service
        .factor(
            "DELETE",
            "/mfa/totp",
            Some(json!({"recovery_code": new_codes[0]})),
            &ann.access,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = service.login(ANN, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(amr(&field(&answer.body, "access_token")), json!(["pwd"]));
    let answer = service
        .factor_with_code("DELETE", "/mfa/totp", app, &ann.access)
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (
            StatusCode::CONFLICT,
            json!({"error": "No second factor to act on"})
        )
    );
}

/// A user without a factor: the login's answer is today's, its tokens say `pwd`, and the
/// second step has nothing to take.
async fn a_user_without_a_factor_logs_in_as_before(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    service.confirmed(ANN).await;
    let answer = service.login(ANN, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body.as_object().unwrap().len(), 2, "{answer:?}");
    let access = field(&answer.body, "access_token");
    assert_eq!(amr(&access), json!(["pwd"]));
    let profile = service.profile(&access).await;
    assert!(profile.body.get("mfa_enabled").is_none());
    let answer = service
        .second_step(json!({"mfa_token": access, "code": "123456"}))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

/// An access or refresh token is no `mfa_token`, and an `mfa_token` is no bearer token.
async fn tokens_and_mfa_tokens_are_never_taken_for_one_another(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let ann = service.enrolled(ANN).await;
    service.next_step();
    for token in [&ann.access, &ann.refresh] {
        let answer = service.with_code(token, &service.code(&ann.app)).await;
        assert_eq!(
            (answer.status, answer.body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "MFA token is invalid or has expired"})
            )
        );
    }
    // No JWT at all: flask-jwt-extended's 422 for a token that does not decode.
    let mfa_token = service.mfa_token(ANN).await;
    let answer = service
        .factor_with_code("POST", "/mfa/recovery-codes", &ann.app, &mfa_token)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{answer:?}"
    );
    let answer = service.profile(&mfa_token).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    // None of it spent the code or the token: they still pass the second step.
    let answer = service.with_code(&mfa_token, &service.code(&ann.app)).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#!/usr/bin/env python3
"""Writes events/*.json: API Gateway HTTP API (payload 2.0) events, one per case that matters.

Each event carries an "expected" object (statusCode, and body or bodyKeys) that the tests check,
so an event cannot rot. Tokens are signed with the local secret of local-env.json; the valid ones
expire on 2100-01-01 and the expired one on 2020-01-01, so the events stay what they say.
events/rs256/ holds the events of an RS256 deployment, configured by local-env-rs256.json (the
test key of interop/keys/, never to deploy): its tokens carry the key's kid and the API's URL as
issuer, and its keys are published. events/cookies/ holds those of a cookie-mode deployment
(local-env-cookies.json).
The self-service routes' events (signup-, verify-, recover-, resend-, password-, password-reset-)
are of a deployment that mails and lets anyone sign up (local-env.json: SIGNUP=open, MAIL_FROM,
APP_URL); events/cookies/signup-disabled.json is of one that mails but keeps sign-up off.
Run it with the project's virtualenv (it needs PyJWT): .venv/bin/python scripts/make_events.py
"""
import base64
import hashlib
import hmac
import json
import pathlib
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECRET = json.loads((ROOT / "local-env.json").read_text())["Parameters"]["JWT_SECRET_KEY"]
RS256_PRIVATE = (ROOT / "interop/keys/rs256-private.pem").read_text()
RS256_PUBLIC = (ROOT / "interop/keys/rs256-public.pem").read_text()
ISSUER = "https://abc123.execute-api.us-east-1.amazonaws.com"
NO_PUBLIC_KEYS = "This deployment signs tokens with HS256 and has no public keys (set JWT_ALGORITHM)"
ISSUED = 1795910400  # 2026-11-29
VALID_UNTIL = 4102444800  # 2100-01-01
EXPIRED_AT = 1577836800  # 2020-01-01
LOGOUT_ACCESS_JTI = "00000000-0000-4000-8000-00000000000a"
LOGOUT_REFRESH_JTI = "00000000-0000-4000-8000-00000000000b"
LOGOUT_EXPIRED_ACCESS_JTI = "00000000-0000-4000-8000-00000000000c"
LOGOUT_EXPIRED_REFRESH_JTI = "00000000-0000-4000-8000-00000000000d"
LOGOUT_EMPTY_SUB_JTI = "00000000-0000-4000-8000-00000000000e"


def token(kind, sub="cosmo", exp=VALID_UNTIL, secret=SECRET, jti="00000000-0000-4000-8000-000000000000",
          sid=None, csrf=None, fresh=None):
    """A token as flask-jwt-extended makes it: an access token is fresh (a login's) unless
    `fresh=False` says it came from a refresh."""
    fresh = kind == "access" if fresh is None else fresh
    claims = {"fresh": fresh, "iat": ISSUED if exp > ISSUED else exp - 900, "jti": jti,
              "type": kind, "sub": sub, "nbf": ISSUED if exp > ISSUED else exp - 900, "exp": exp}
    if sid is not None:
        claims["sid"] = sid
    if csrf is not None:
        claims["csrf"] = csrf
    return jwt.encode(claims, secret, algorithm="HS256")


def event(method, path, headers=None, body=None, query="", route=None, path_parameters=None):
    """`route` is the route's path when it has parameters (`/sessions/{id}`), whose values
    `path_parameters` gives as the request's `path` holds them."""
    headers = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "curl/8.5.0",
               **(headers or {})}
    route = route or path
    request = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "29/Nov/2026:00:00:00 +0000",
            "timeEpoch": ISSUED * 1000,
        },
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway's own parse, which joins a repeated parameter's values with commas
        # (lambda_http reads rawQueryString instead).
        parameters = {}
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        request["queryStringParameters"] = parameters
    if path_parameters:
        request["pathParameters"] = path_parameters
    if body is not None:
        request["body"] = body
    return request


JSON = {"content-type": "application/json"}
def bearer(value):
    return {"authorization": f"Bearer {value}"}


CASES = {
    "login-ok": (event("POST", "/login", JSON, '{"username": "cosmo", "password": "space-corgi"}'),
                 {"statusCode": 200, "bodyKeys": ["access_token", "refresh_token"]}),
    "login-bad-password": (event("POST", "/login", JSON, '{"username": "cosmo", "password": "space-cat"}'),
                           {"statusCode": 401, "body": {"error": "Bad username or password"}}),
    "login-unknown-user": (event("POST", "/login", JSON, '{"username": "Cosmo", "password": "space-corgi"}'),
                           {"statusCode": 401, "body": {"error": "Bad username or password"}}),
    "login-invalid-body": (event("POST", "/login", JSON, '{"username": "", "password": 42, "remember": true}'),
                           {"statusCode": 400, "body": {"error": {
                               "password": ["Not a valid string."],
                               "remember": ["Unknown field."],
                               "username": ["Shorter than minimum length 1."]}}}),
    "login-missing-fields": (event("POST", "/login", JSON, "{}"),
                             {"statusCode": 400, "body": {"error": {
                                 "password": ["Missing data for required field."],
                                 "username": ["Missing data for required field."]}}}),
    "login-not-json": (event("POST", "/login", JSON, '{"username": "cosmo",'),
                       {"statusCode": 400, "body": {"error": "Request body is not valid JSON"}}),
    "login-wrong-content-type": (event("POST", "/login", {"content-type": "text/plain"}, "username=cosmo"),
                                 {"statusCode": 415, "body": {"error": "Content-Type must be application/json"}}),
    "refresh-ok": (event("POST", "/refresh", bearer(token("refresh"))),
                   {"statusCode": 200, "bodyKeys": ["access_token"]}),
    "refresh-with-access-token": (event("POST", "/refresh", bearer(token("access"))),
                                  {"statusCode": 422, "body": {"msg": "Only refresh tokens are allowed"}}),
    "refresh-expired-token": (event("POST", "/refresh", bearer(token("refresh", exp=EXPIRED_AT))),
                              {"statusCode": 401, "body": {"msg": "Token has expired"}}),
    "profile-ok": (event("GET", "/profile", bearer(token("access"))),
                   {"statusCode": 200, "body": {"id": 1, "logged_in_as": "cosmo", "username": "cosmo"}}),
    "profile-no-header": (event("GET", "/profile"),
                          {"statusCode": 401, "body": {"msg": "Missing Authorization Header"}}),
    "profile-basic-auth": (event("GET", "/profile", {"authorization": "Basic Y29zbW86c3BhY2UtY29yZ2k="}),
                           {"statusCode": 401, "body": {"msg": "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"}}),
    "profile-expired-token": (event("GET", "/profile", bearer(token("access", exp=EXPIRED_AT))),
                              {"statusCode": 401, "body": {"msg": "Token has expired"}}),
    "profile-with-refresh-token": (event("GET", "/profile", bearer(token("refresh"))),
                                   {"statusCode": 422, "body": {"msg": "Only non-refresh tokens are allowed"}}),
    "profile-wrong-secret": (event("GET", "/profile", bearer(token("access", secret="another-secret-another-secret-another-secret"))),
                             {"statusCode": 422, "body": {"msg": "Signature verification failed"}}),
    "profile-unknown-user": (event("GET", "/profile", bearer(token("access", sub="ghost"))),
                             {"statusCode": 401, "body": {"msg": "Error loading the user ghost"}}),
    # Validly signed tokens with ids DynamoDB refuses as keys get what the in-memory stores give:
    # an empty sub is an unknown user (not a 503), an empty jti or sid an id like any other.
    "profile-empty-sub": (event("GET", "/profile", bearer(token("access", sub=""))),
                          {"statusCode": 401, "body": {"msg": "Error loading the user "}}),
    "refresh-empty-sub": (event("POST", "/refresh", bearer(token("refresh", sub=""))),
                          {"statusCode": 401, "body": {"msg": "Error loading the user "}}),
    "profile-empty-jti-and-sid": (event("GET", "/profile", bearer(token("access", jti="", sid=""))),
                                  {"statusCode": 200, "body": {"id": 1, "logged_in_as": "cosmo", "username": "cosmo"}}),
    # Logout revokes by jti; these tokens have ids of their own so that no other event's token
    # is revoked. Logging out again answers the same, so every event can run more than once.
    "logout-access-token": (event("POST", "/logout", bearer(token("access", jti=LOGOUT_ACCESS_JTI))),
                            {"statusCode": 200, "body": {"msg": "Successfully logged out"}}),
    "logout-refresh-token-in-body": (event("POST", "/logout", JSON, json.dumps(
                                         {"refresh_token": token("refresh", jti=LOGOUT_REFRESH_JTI)})),
                                     {"statusCode": 200, "body": {"msg": "Successfully logged out"}}),
    # An idle client logs out with what it has, expired: nothing of it can be used any more, and
    # revoking what is already invalid is no error (RFC 7009), so the answer is 200.
    "logout-expired-tokens": (event("POST", "/logout", {**JSON, **bearer(token(
                                        "access", exp=EXPIRED_AT, jti=LOGOUT_EXPIRED_ACCESS_JTI))},
                                    json.dumps({"refresh_token": token(
                                        "refresh", exp=EXPIRED_AT, jti=LOGOUT_EXPIRED_REFRESH_JTI)})),
                              {"statusCode": 200, "body": {"msg": "Successfully logged out"}}),
    "logout-empty-sub": (event("POST", "/logout", bearer(token("access", sub="", jti=LOGOUT_EMPTY_SUB_JTI))),
                         {"statusCode": 200, "body": {"msg": "Successfully logged out"}}),
    "logout-no-token": (event("POST", "/logout"),
                        {"statusCode": 401, "body": {"msg": "Missing Authorization Header"}}),
    "logout-access-token-in-body": (event("POST", "/logout", JSON, json.dumps({"refresh_token": token("access")})),
                                    {"statusCode": 422, "body": {"msg": "Only refresh tokens are allowed"}}),
    "discovery-jwks-hs256": (event("GET", "/.well-known/jwks.json"),
                   {"statusCode": 404, "body": {"msg": NO_PUBLIC_KEYS}}),
    "discovery-openid-configuration-hs256": (event("GET", "/.well-known/openid-configuration"),
                                   {"statusCode": 404, "body": {"msg": NO_PUBLIC_KEYS}}),
}


# The self-service routes (issue 28). local-env.json opens sign-up (SIGNUP=open) and names what
# every mail needs (MAIL_FROM, APP_URL); the tables are fresh for every run, so the address of
# signup-ok is new, and a second run answers it exactly as the first (a known address gets the
# same answer: nothing tells the two apart). Mail goes to SES (moto, in the tests).
NEW_ADDRESS = "new.user@example.com"
UNKNOWN_ADDRESS = "nobody@example.com"
STRONG_PASSWORD = "lunar kettle quilt harbor"
# A mailed token's shape (43 base64url characters: 256 bits), but no token anyone was mailed.
UNKNOWN_MAIL_TOKEN = base64.urlsafe_b64encode(
    hashlib.sha256(b"events: a token nobody was mailed").digest()).rstrip(b"=").decode()
# The one password policy's message (auth_password_policy::WeakPassword), under the field.
COMMON_PASSWORD_MESSAGE = (
    "the password is too easy to guess (it is one of the most common passwords): it would be "
    "among an attacker's first million guesses; use a phrase of a few unrelated words")
MAIL_TOKEN_INVALID = {"error": "Token is invalid or has expired"}


def body(**fields):
    return json.dumps(fields)


ACCOUNT_CASES = {
    "signup-ok": (event("POST", "/signup", JSON, body(email=NEW_ADDRESS, password=STRONG_PASSWORD)),
                  {"statusCode": 200, "body": {}}),
    "signup-weak-password": (event("POST", "/signup", JSON, body(email=NEW_ADDRESS, password="iloveyou")),
                             {"statusCode": 400, "body": {"error": {"password": [COMMON_PASSWORD_MESSAGE]}}}),
    "signup-invalid-email": (event("POST", "/signup", JSON, body(email="not-an-address", password=STRONG_PASSWORD)),
                             {"statusCode": 400, "body": {"error": {"email": ["Not a valid email address."]}}}),
    # A sign-up's confirmation carries the password it signed up with (the link alone does not
    # confirm): with a token nobody was mailed, the token is what is refused.
    "verify-unknown-token": (event("POST", "/verify", JSON, body(type="signup", token=UNKNOWN_MAIL_TOKEN,
                                                                 password=STRONG_PASSWORD)),
                             {"statusCode": 400, "body": MAIL_TOKEN_INVALID}),
    "verify-bad-type": (event("POST", "/verify", JSON, body(type="magiclink", token=UNKNOWN_MAIL_TOKEN)),
                        {"statusCode": 400, "body": {"error": {"type": ["Must be one of: signup, recovery."]}}}),
    # Known or not, the answer is the same: 200 {} (and a mail only to a known, confirmed address).
    "recover-unknown-address": (event("POST", "/recover", JSON, body(email=UNKNOWN_ADDRESS)),
                                {"statusCode": 200, "body": {}}),
    "resend-ok": (event("POST", "/resend", JSON, body(type="signup", email=NEW_ADDRESS)),
                  {"statusCode": 200, "body": {}}),
    # A change of password needs a token from a login, not from a refresh (flask-jwt-extended's
    # jwt_required(fresh=True), message for message).
    "password-not-fresh": (event("POST", "/password", {**JSON, **bearer(token("access", fresh=False))},
                                 body(current_password="space-corgi", new_password=STRONG_PASSWORD)),
                           {"statusCode": 401, "body": {"msg": "Fresh token required"}}),
    "password-no-token": (event("POST", "/password", JSON,
                                body(current_password="space-corgi", new_password=STRONG_PASSWORD)),
                          {"statusCode": 401, "body": {"msg": "Missing Authorization Header"}}),
    "password-reset-unknown-token": (event("POST", "/password/reset", JSON,
                                           body(token=UNKNOWN_MAIL_TOKEN, new_password=STRONG_PASSWORD)),
                                     {"statusCode": 400, "body": MAIL_TOKEN_INVALID}),
}
CASES.update(ACCOUNT_CASES)

# An mfa_token's shape (43 base64url characters: 256 bits), but no token /login answered.
UNKNOWN_MFA_TOKEN = base64.urlsafe_b64encode(
    hashlib.sha256(b"events: an mfa_token no login answered").digest()).rstrip(b"=").decode()
MFA_TOKEN_INVALID = {"error": "MFA token is invalid or has expired"}
NO_HEADER = {"msg": "Missing Authorization Header"}
A_CODE = "123456"

# The second factor's routes (issue 29).
MFA_CASES = {
    # The second factor's events answer the same with or without MFA_ENCRYPTION_KEY
    # (local-env.json has none): no factor is enrolled, and none is checked.
    "login-mfa-unknown-token": (event("POST", "/login/mfa", JSON, body(mfa_token=UNKNOWN_MFA_TOKEN, code=A_CODE)),
                                {"statusCode": 401, "body": MFA_TOKEN_INVALID}),
    "login-mfa-missing-code": (event("POST", "/login/mfa", JSON, body(mfa_token=UNKNOWN_MFA_TOKEN)),
                               {"statusCode": 400, "body": {"error": {"code": ["Missing data for required field."]}}}),
    # A code or a recovery code, not both: with recovery_code, code is an unknown field.
    "login-mfa-both-codes": (event("POST", "/login/mfa", JSON,
                                     body(mfa_token=UNKNOWN_MFA_TOKEN, code=A_CODE, recovery_code="abcd-efgh-jkmn")),
                             {"statusCode": 400, "body": {"error": {"code": ["Unknown field."]}}}),
    "mfa-totp-no-token": (event("POST", "/mfa/totp", JSON),
                          {"statusCode": 401, "body": NO_HEADER}),
    # Enrolling needs a token from a login, not from a refresh, as a password change does.
    "mfa-totp-not-fresh": (event("POST", "/mfa/totp", {**JSON, **bearer(token("access", fresh=False))}),
                           {"statusCode": 401, "body": {"msg": "Fresh token required"}}),
    "mfa-totp-confirm-no-token": (event("POST", "/mfa/totp/confirm", JSON, body(code=A_CODE)),
                                  {"statusCode": 401, "body": NO_HEADER}),
    # cosmo has no second factor: there is nothing to remove, whatever the code.
    "mfa-totp-delete-not-on": (event("DELETE", "/mfa/totp", {**JSON, **bearer(token("access"))}, body(code=A_CODE)),
                               {"statusCode": 409, "body": {"error": "No second factor to act on"}}),
    "mfa-recovery-codes-no-token": (event("POST", "/mfa/recovery-codes", JSON, body(code=A_CODE)),
                                    {"statusCode": 401, "body": NO_HEADER}),
}
CASES.update(MFA_CASES)

# The account's own routes (issue 30): its sessions and its activity log. Which sessions and
# entries cosmo has depends on the events replayed before (login-ok starts a session and
# writes the log), so the events document the answers that do not: the refusals.
SESSION_ID = "00000000-0000-4000-8000-0000000000e1"
LOGOUT_OTHERS_JTI = "00000000-0000-4000-8000-0000000000e2"
INVALID_LIMIT = {"msg": "limit must be a whole number from 1 to 100"}
SESSIONS_CASES = {
    "sessions-list-no-token": (event("GET", "/sessions"), {"statusCode": 401, "body": NO_HEADER}),
    # A refresh token is refused as /profile refuses it.
    "sessions-list-with-refresh-token": (event("GET", "/sessions", bearer(token("refresh"))),
                                         {"statusCode": 422, "body": {"msg": "Only non-refresh tokens are allowed"}}),
    "sessions-list-limit-out-of-range": (event("GET", "/sessions", bearer(token("access")), query="limit=0"),
                                         {"statusCode": 400, "body": INVALID_LIMIT}),
    "sessions-list-bad-cursor": (event("GET", "/sessions", bearer(token("access")), query="cursor=not-a-cursor"),
                                 {"statusCode": 400, "body": {"msg": "Invalid cursor"}}),
    # No session of cosmo has this id: the answer another user's session would get too.
    "sessions-delete-unknown": (event("DELETE", f"/sessions/{SESSION_ID}", bearer(token("access")),
                                      route="/sessions/{id}", path_parameters={"id": SESSION_ID}),
                                {"statusCode": 404, "body": {"msg": "Session not found"}}),
    "sessions-delete-no-token": (event("DELETE", f"/sessions/{SESSION_ID}", route="/sessions/{id}",
                                       path_parameters={"id": SESSION_ID}),
                                 {"statusCode": 401, "body": NO_HEADER}),
    "sessions-activity-limit-out-of-range": (event("GET", "/account/activity", bearer(token("access")),
                                                   query="limit=101"),
                                             {"statusCode": 400, "body": INVALID_LIMIT}),
    "sessions-activity-with-refresh-token": (event("GET", "/account/activity", bearer(token("refresh"))),
                                             {"statusCode": 422, "body": {"msg": "Only non-refresh tokens are allowed"}}),
    # Every other session of cosmo ends; this token, of its own id, lives on, so every replay
    # answers alike.
    "logout-scope-others": (event("POST", "/logout", bearer(token("access", jti=LOGOUT_OTHERS_JTI)),
                                  query="scope=others"),
                            {"statusCode": 200, "body": {"msg": "Successfully logged out"}}),
    "logout-unknown-scope": (event("POST", "/logout", bearer(token("access", jti=LOGOUT_OTHERS_JTI)),
                                   query="scope=everywhere"),
                             {"statusCode": 400, "body": {"msg": "Invalid logout scope: expected local, others or global"}}),
}
CASES.update(SESSIONS_CASES)


def rs256_jwk():
    """The published JWK of the test key, with its RFC 7638 thumbprint as kid."""
    public = serialization.load_pem_public_key(RS256_PUBLIC.encode())
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    members = {name: jwk[name] for name in ("e", "kty", "n")}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": jwk["n"], "e": jwk["e"]}


def hs256_keyed_with_public_key():
    """HS256 with the public key as the secret, by hand: PyJWT refuses to make one."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    claims = {"type": "access", "sub": "cosmo", "iat": ISSUED, "exp": VALID_UNTIL, "iss": ISSUER}
    header = b'{"alg":"HS256","typ":"JWT"}'
    signing_input = f"{b64(header)}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(RS256_PUBLIC.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


RS256_KID = rs256_jwk()["kid"]


def rs256_token(kind, kid=RS256_KID, iss=ISSUER, jti="00000000-0000-4000-8000-000000000000"):
    claims = {"fresh": kind == "access", "iat": ISSUED, "jti": jti, "type": kind, "sub": "cosmo",
              "nbf": ISSUED, "exp": VALID_UNTIL, "iss": iss}
    return jwt.encode(claims, RS256_PRIVATE, algorithm="RS256", headers={"kid": kid})


RS256_CASES = {
    "login-ok": (event("POST", "/login", JSON, '{"username": "cosmo", "password": "space-corgi"}'),
                 {"statusCode": 200, "bodyKeys": ["access_token", "refresh_token"]}),
    "refresh-ok": (event("POST", "/refresh", bearer(rs256_token("refresh"))),
                   {"statusCode": 200, "bodyKeys": ["access_token"]}),
    "profile-ok": (event("GET", "/profile", bearer(rs256_token("access"))),
                   {"statusCode": 200, "body": {"id": 1, "logged_in_as": "cosmo", "username": "cosmo"}}),
    # Our key, but a kid we do not publish: what a bad signature gets.
    "profile-unknown-kid": (event("GET", "/profile", bearer(rs256_token("access", kid="not-ours"))),
                            {"statusCode": 422, "body": {"msg": "Signature verification failed"}}),
    # Our key and kid, for another URL than the one the request reached.
    "profile-other-issuer": (event("GET", "/profile", bearer(rs256_token("access", iss="https://elsewhere.example"))),
                             {"statusCode": 422, "body": {"msg": "Invalid issuer"}}),
    # The classic confusion: HS256 keyed with the public key, which anyone has.
    "profile-hs256-with-the-public-key": (event("GET", "/profile", bearer(hs256_keyed_with_public_key())),
                                          {"statusCode": 422, "body": {"msg": "The specified alg value is not allowed"}}),
    "discovery-jwks": (event("GET", "/.well-known/jwks.json"),
             {"statusCode": 200, "body": {"keys": [rs256_jwk()]}}),
    "discovery-openid-configuration": (event("GET", "/.well-known/openid-configuration"),
                             {"statusCode": 200, "body": {
                                 "issuer": ISSUER,
                                 "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
                                 "response_types_supported": [],
                                 "subject_types_supported": ["public"],
                                 "id_token_signing_alg_values_supported": ["RS256"],
                                 "scopes_supported": [],
                                 "claims_supported": ["iss", "sub", "aud", "exp", "nbf", "iat", "jti",
                                                      "auth_time", "sid", "scope", "type", "fresh"]}}),
}

AUTHORIZER_JTI = "00000000-0000-4000-8000-0000000000a1"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:def456/prod/GET/reports"
ALLOWED_CONTEXT = {"sub": "cosmo", "jti": AUTHORIZER_JTI, "sid": AUTHORIZER_JTI, "fresh": True}


def http_api_authorizer_event(authorization):
    """What an HTTP API sends its Lambda authorizer (payload format 2.0)."""
    headers = {"host": "reports.example.com", "user-agent": "curl/8.5.0"}
    if authorization is not None:
        headers["authorization"] = authorization
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:def456/$default/GET/reports",
        "identitySource": [authorization] if authorization is not None else None,
        "routeKey": "GET /reports",
        "rawPath": "/reports",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "def456", "domainName": "reports.example.com",
            "http": {"method": "GET", "path": "/reports", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": "GET /reports",
            "stage": "$default", "time": "29/Nov/2026:00:00:00 +0000", "timeEpoch": ISSUED * 1000,
        },
    }


def rest_token_event(authorization):
    """What a REST API's TOKEN authorizer receives."""
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN}


def rest_request_event(authorization):
    """What a REST API's REQUEST authorizer receives (the parts it reads, and a few more)."""
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/reports", "path": "/reports",
            "httpMethod": "GET",
            "headers": {"Host": "def456.execute-api.us-east-1.amazonaws.com",
                        "Authorization": authorization},
            "requestContext": {"accountId": "123456789012", "apiId": "def456", "stage": "prod",
                               "resourcePath": "/reports", "httpMethod": "GET"}}


def policy(effect):
    """For every method of the stage: a policy cached per token serves the API's other methods."""
    stage = METHOD_ARN.rsplit("/", 2)[0] + "/*/*"
    return {"Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": stage}]}


AUTHORIZER_ACCESS = bearer(token("access", jti=AUTHORIZER_JTI))["authorization"]
# Each event's expected "reply" is the whole answer; "errorMessage" an invocation error (REST
# API Gateway's 401).
AUTHORIZER_CASES = {
    "http-api-allow": (http_api_authorizer_event(AUTHORIZER_ACCESS),
                       {"reply": {"isAuthorized": True, "context": ALLOWED_CONTEXT}}),
    "http-api-expired": (http_api_authorizer_event(bearer(token("access", exp=EXPIRED_AT))["authorization"]),
                         {"reply": {"isAuthorized": False}}),
    "http-api-refresh-token": (http_api_authorizer_event(bearer(token("refresh"))["authorization"]),
                               {"reply": {"isAuthorized": False}}),
    "http-api-no-header": (http_api_authorizer_event(None), {"reply": {"isAuthorized": False}}),
    "rest-token-allow": (rest_token_event(AUTHORIZER_ACCESS),
                         {"reply": {"principalId": "cosmo", "policyDocument": policy("Allow"),
                                    "context": ALLOWED_CONTEXT}}),
    "rest-token-wrong-secret": (rest_token_event(bearer(token("access", secret="another-secret-another-secret-another-secret"))["authorization"]),
                                {"reply": {"principalId": "anonymous", "policyDocument": policy("Deny")}}),
    "rest-token-basic-auth": (rest_token_event("Basic Y29zbW86c3BhY2UtY29yZ2k="),
                              {"errorMessage": "Unauthorized"}),
    "rest-request-allow": (rest_request_event(AUTHORIZER_ACCESS),
                           {"reply": {"principalId": "cosmo", "policyDocument": policy("Allow"),
                                      "context": ALLOWED_CONTEXT}}),
    "rest-request-unknown-user": (rest_request_event(bearer(token("access", sub="ghost"))["authorization"]),
                                  {"reply": {"principalId": "anonymous", "policyDocument": policy("Deny")}}),
}


# events/cookies/: a cookie-mode deployment (local-env-cookies.json: JWT_TOKEN_LOCATION=cookies,
# the other cookie settings at their defaults). Request cookies come in the event's `cookies`
# array, as API Gateway sends them; the reply's Set-Cookies go back in its `cookies` array.
ACCESS_CSRF = "0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0fca11"
REFRESH_CSRF = "0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0fcb22"
COOKIE_LOGOUT_JTI = "00000000-0000-4000-8000-0000000000c1"
COOKIE_LOGOUT_SID = "00000000-0000-4000-8000-0000000000c2"
COOKIE_ATTRIBUTES = "SameSite=Lax; Secure"
EXPIRED_COOKIE = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


def with_cookies(request, *cookies):
    request["cookies"] = list(cookies)
    return request


def csrf(value):
    return {"x-csrf-token": value}


COOKIE_CASES = {
    "login-ok": (event("POST", "/login", JSON, '{"username": "cosmo", "password": "space-corgi"}'),
                 {"statusCode": 200, "body": {"msg": "Login successful"}, "cookies": [
                     f"access_token_cookie=<jwt>; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/",
                     f"csrf_access_token=<uuid>; {COOKIE_ATTRIBUTES}; Path=/",
                     f"refresh_token_cookie=<jwt>; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/refresh",
                     f"csrf_refresh_token=<uuid>; {COOKIE_ATTRIBUTES}; Path=/",
                     f"login_proof=<proof>; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/login; Max-Age=7776000"]}),
    # A body another site's page could send without a preflight: it must not log anyone in.
    "login-undeclared-body": (event("POST", "/login", None, '{"username": "cosmo", "password": "space-corgi"}'),
                              {"statusCode": 415, "body": {"error": "Content-Type must be application/json"}}),
    "profile-ok": (with_cookies(event("GET", "/profile"), "theme=dark",
                                f"access_token_cookie={token('access', csrf=ACCESS_CSRF)}"),
                   {"statusCode": 200, "body": {"id": 1, "logged_in_as": "cosmo", "username": "cosmo"}}),
    # A bearer token is not looked for: the deployment takes cookies only.
    "profile-bearer-only": (event("GET", "/profile", bearer(token("access", csrf=ACCESS_CSRF))),
                            {"statusCode": 401, "body": {"msg": 'Missing cookie "access_token_cookie"'}}),
    "refresh-ok": (with_cookies(event("POST", "/refresh", csrf(REFRESH_CSRF)),
                                f"refresh_token_cookie={token('refresh', csrf=REFRESH_CSRF)}"),
                   {"statusCode": 200, "body": {"msg": "Token refreshed"}, "cookies": [
                       f"access_token_cookie=<jwt>; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/",
                       f"csrf_access_token=<uuid>; {COOKIE_ATTRIBUTES}; Path=/"]}),
    # What a page of another site can make a browser send: the cookie, without its CSRF value.
    "refresh-missing-csrf": (with_cookies(event("POST", "/refresh"),
                                          f"refresh_token_cookie={token('refresh', csrf=REFRESH_CSRF)}"),
                             {"statusCode": 401, "body": {"msg": "Missing CSRF token"}}),
    "refresh-csrf-mismatch": (with_cookies(event("POST", "/refresh", csrf(ACCESS_CSRF)),
                                           f"refresh_token_cookie={token('refresh', csrf=REFRESH_CSRF)}"),
                              {"statusCode": 401, "body": {"msg": "CSRF double submit tokens do not match"}}),
    "logout-ok": (with_cookies(event("POST", "/logout", csrf(ACCESS_CSRF)),
                               f"access_token_cookie={token('access', jti=COOKIE_LOGOUT_JTI, sid=COOKIE_LOGOUT_SID, csrf=ACCESS_CSRF)}"),
                  {"statusCode": 200, "body": {"msg": "Successfully logged out"}, "cookies": [
                      f"access_token_cookie=; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}",
                      f"csrf_access_token=; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}",
                      f"refresh_token_cookie=; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/refresh; {EXPIRED_COOKIE}",
                      f"csrf_refresh_token=; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}"]}),
    # A cookie no token can be read from: refused, and cleared, so that the browser is rid of it.
    "logout-unreadable-cookie": (with_cookies(event("POST", "/logout", csrf(ACCESS_CSRF)), "access_token_cookie=not.a.token"),
                                 {"statusCode": 422, "body": {"msg": "Invalid header string"}, "cookies": [
                                     f"access_token_cookie=; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}",
                                     f"csrf_access_token=; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}",
                                     f"refresh_token_cookie=; HttpOnly; {COOKIE_ATTRIBUTES}; Path=/refresh; {EXPIRED_COOKIE}",
                                     f"csrf_refresh_token=; {COOKIE_ATTRIBUTES}; Path=/; {EXPIRED_COOKIE}"]}),
    # local-env-cookies.json mails (recovery) but leaves SIGNUP at its default, off: accounts
    # are made by an operator, and /signup says so.
    "signup-disabled": (event("POST", "/signup", JSON, body(email=NEW_ADDRESS, password=STRONG_PASSWORD)),
                        {"statusCode": 403, "body": {"error": "Sign-up is disabled"}}),
    # A GET needs no CSRF value: the cookie alone gets as far as the query's check.
    "sessions-list-cookie-without-csrf": (with_cookies(event("GET", "/sessions", query="cursor=not-a-cursor"),
                                                       f"access_token_cookie={token('access', csrf=ACCESS_CSRF)}"),
                                          {"statusCode": 400, "body": {"msg": "Invalid cursor"}}),
    # Ending a session changes state: a cookie without its CSRF value ends nothing.
    "sessions-delete-missing-csrf": (with_cookies(event("DELETE", f"/sessions/{SESSION_ID}", route="/sessions/{id}",
                                                        path_parameters={"id": SESSION_ID}),
                                                  f"access_token_cookie={token('access', csrf=ACCESS_CSRF)}"),
                                     {"statusCode": 401, "body": {"msg": "Missing CSRF token"}}),
    "logout-missing-csrf": (with_cookies(event("POST", "/logout"),
                                         f"access_token_cookie={token('access', jti=COOKIE_LOGOUT_JTI, sid=COOKIE_LOGOUT_SID, csrf=ACCESS_CSRF)}"),
                            {"statusCode": 401, "body": {"msg": "Missing CSRF token"}}),
}


def write(folder, cases):
    folder.mkdir(exist_ok=True)
    for name, (request, expected) in cases.items():
        request["expected"] = expected
        (folder / f"{name}.json").write_text(json.dumps(request, indent=2) + "\n")
    print(f"wrote {len(cases)} events to {folder}")


if __name__ == "__main__":
    write(ROOT / "events", CASES)
    write(ROOT / "events" / "rs256", RS256_CASES)
    write(ROOT / "events" / "authorizer", AUTHORIZER_CASES)
    write(ROOT / "events" / "cookies", COOKIE_CASES)

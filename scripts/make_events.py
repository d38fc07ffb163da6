#!/usr/bin/env python3
"""Writes events/*.json: API Gateway HTTP API (payload 2.0) events, one per case that matters.

Each event carries an "expected" object (statusCode, and body or bodyKeys) that the tests check,
so an event cannot rot. Tokens are signed with the local secret of local-env.json; the valid ones
expire on 2100-01-01 and the expired one on 2020-01-01, so the events stay what they say.
Run it with the project's virtualenv (it needs PyJWT): .venv/bin/python scripts/make_events.py
"""
import json
import pathlib

import jwt

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECRET = json.loads((ROOT / "local-env.json").read_text())["Parameters"]["JWT_SECRET_KEY"]
ISSUED = 1795910400  # 2026-11-29
VALID_UNTIL = 4102444800  # 2100-01-01
EXPIRED_AT = 1577836800  # 2020-01-01
LOGOUT_ACCESS_JTI = "00000000-0000-4000-8000-00000000000a"
LOGOUT_REFRESH_JTI = "00000000-0000-4000-8000-00000000000b"
LOGOUT_EXPIRED_ACCESS_JTI = "00000000-0000-4000-8000-00000000000c"
LOGOUT_EXPIRED_REFRESH_JTI = "00000000-0000-4000-8000-00000000000d"
LOGOUT_EMPTY_SUB_JTI = "00000000-0000-4000-8000-00000000000e"


def token(kind, sub="cosmo", exp=VALID_UNTIL, secret=SECRET, jti="00000000-0000-4000-8000-000000000000",
          sid=None):
    claims = {"fresh": kind == "access", "iat": ISSUED if exp > ISSUED else exp - 900, "jti": jti,
              "type": kind, "sub": sub, "nbf": ISSUED if exp > ISSUED else exp - 900, "exp": exp}
    if sid is not None:
        claims["sid"] = sid
    return jwt.encode(claims, secret, algorithm="HS256")


def event(method, path, headers=None, body=None):
    headers = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "curl/8.5.0",
               **(headers or {})}
    request = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "29/Nov/2026:00:00:00 +0000",
            "timeEpoch": ISSUED * 1000,
        },
        "isBase64Encoded": False,
    }
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
}

if __name__ == "__main__":
    folder = ROOT / "events"
    folder.mkdir(exist_ok=True)
    for name, (request, expected) in CASES.items():
        request["expected"] = expected
        (folder / f"{name}.json").write_text(json.dumps(request, indent=2) + "\n")
    print(f"wrote {len(CASES)} events to {folder}")

#!/usr/bin/env python3
"""Writes interop/contract_cases.json and interop/flask_tokens.json (run once; both are committed).

contract_cases.json: requests and the answers the contract promises. The Rust tests replay every
case through our handlers; check_flask.py replays the ones marked "seed": "same" through the
reference Flask app, so each expected answer is proven against flask-jwt-extended itself.
flask_tokens.json: tokens issued by flask-jwt-extended that our functions must accept.
Usage: .venv/bin/python interop/make_vectors.py [--flask-tokens]
"""
import json
import pathlib
from datetime import datetime, timezone

import jwt
from flask_jwt_extended import create_access_token, create_refresh_token

from reference_app import create_app

HERE = pathlib.Path(__file__).resolve().parent
SECRET = "interop-vector-secret-0123456789abcdef"
OTHER = "some-other-secret-some-other-secret-01"
ISSUED = 1795910400  # 2026-11-29
FUTURE = 4102444800  # 2100-01-01
PAST = 1577836800  # 2020-01-01


def sign(payload, header=None, secret=SECRET, alg="HS256"):
    return jwt.encode(payload, secret, algorithm=alg, headers=header)


def claims(**changes):
    base = {"fresh": False, "iat": ISSUED, "jti": "7d1c4e52-5b1e-4c55-9a0e-3d0e5a9b6f21",
            "type": "access", "sub": "cosmo", "nbf": ISSUED, "exp": FUTURE}
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def raw(header, payload, secret=SECRET):
    """A token with any header and payload text, HS256-signed: what PyJWT will not build."""
    import base64, hashlib, hmac
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    signing_input = f"{enc(header.encode())}.{enc(payload.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{enc(signature)}"


MSG = lambda status, msg: {"status": status, "body": {"msg": msg}}
ERR = lambda status, error: {"status": status, "body": {"error": error}}
BEARER_MISSING = "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
BAD_HEADER = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"
NO_ALG = '{"typ":"JWT"}'
ALG_NONE = '{"alg":"none"}'
HS256 = '{"alg":"HS256"}'
GOOD = sign(claims())
REFRESH = sign(claims(type="refresh"))


def login(body, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return {"method": "POST", "path": "/login", "headers": headers, "body": body}


def profile(authorization=None):
    return {"method": "GET", "path": "/profile",
            "headers": {} if authorization is None else {"Authorization": authorization}, "body": None}


def refresh(authorization):
    return {"method": "POST", "path": "/refresh", "headers": {"Authorization": authorization}, "body": None}


def schema(errors):
    return {"status": 400, "body": {"error": errors}}


MISSING, NULL, NOT_STR, SHORT = ("Missing data for required field.", "Field may not be null.",
                                 "Not a valid string.", "Shorter than minimum length 1.")

CASES = [
    # name, request, expected, seed ("same" = the Flask app answers exactly this)
    ("login right credentials", login('{"username": "cosmo", "password": "space-corgi"}'),
     {"status": 200, "bodyKeys": ["access_token", "refresh_token"]}, "same"),
    ("login wrong password", login('{"username": "cosmo", "password": "nope"}'), ERR(401, "Bad username or password"), "same"),
    ("login unknown user", login('{"username": "nobody", "password": "space-corgi"}'), ERR(401, "Bad username or password"), "same"),
    ("login username is case-sensitive", login('{"username": "Cosmo", "password": "space-corgi"}'), ERR(401, "Bad username or password"), "same"),
    ("login space username", login('{"username": " ", "password": "space-corgi"}'), ERR(401, "Bad username or password"), "same"),
    ("login empty object", login("{}"), schema({"password": [MISSING], "username": [MISSING]}), "same"),
    ("login empty strings", login('{"username": "", "password": ""}'), schema({"password": [SHORT], "username": [SHORT]}), "same"),
    ("login number", login('{"username": 1, "password": "x"}'), schema({"username": [NOT_STR]}), "same"),
    ("login float", login('{"username": "cosmo", "password": 1.5}'), schema({"password": [NOT_STR]}), "same"),
    ("login bool", login('{"username": true, "password": "x"}'), schema({"username": [NOT_STR]}), "same"),
    ("login object", login('{"username": {}, "password": "x"}'), schema({"username": [NOT_STR]}), "same"),
    ("login array", login('{"username": ["cosmo"], "password": "x"}'), schema({"username": [NOT_STR]}), "same"),
    ("login null", login('{"username": null, "password": null}'), schema({"password": [NULL], "username": [NULL]}), "same"),
    ("login unknown field with right credentials",
     login('{"username": "cosmo", "password": "space-corgi", "admin": true}'), schema({"admin": ["Unknown field."]}), "same"),
    ("login all errors at once", login('{"username": "", "extra": 1}'),
     schema({"extra": ["Unknown field."], "password": [MISSING], "username": [SHORT]}), "same"),
    ("login multibyte one-character fields", login('{"username": "\u00e9", "password": "\U0001f415"}'), ERR(401, "Bad username or password"), "same"),
    ("login json null", login("null"), schema({"_schema": ["Invalid input type."]}), "same"),
    ("login json array", login("[]"), schema({"_schema": ["Invalid input type."]}), "same"),
    ("login json string", login('"cosmo"'), schema({"_schema": ["Invalid input type."]}), "same"),
    ("login json number", login("42"), schema({"_schema": ["Invalid input type."]}), "same"),
    ("login json bool", login("true"), schema({"_schema": ["Invalid input type."]}), "same"),
    ("login json charset content type", login('{"username": "cosmo", "password": "space-corgi"}', "application/json; charset=utf-8"),
     {"status": 200, "bodyKeys": ["access_token", "refresh_token"]}, "same"),
    # Better than the seed, which answers HTML (400/415) or a 500 here.
    ("login empty body", login(""), {"status": 400, "bodyKeys": ["error"]}, "differs"),
    ("login truncated json", login('{"username": "cosmo"'), {"status": 400, "bodyKeys": ["error"]}, "differs"),
    ("login text/plain", login('{"username": "cosmo", "password": "space-corgi"}', "text/plain"), {"status": 415, "bodyKeys": ["error"]}, "differs"),
    ("login no content type", login('{"username": "cosmo", "password": "space-corgi"}', None),
     {"status": 200, "bodyKeys": ["access_token", "refresh_token"]}, "differs"),

    ("profile ok", profile(f"Bearer {GOOD}"), {"status": 200, "body": {"id": 1, "logged_in_as": "cosmo", "username": "cosmo"}}, "same"),
    ("profile no header", profile(), MSG(401, "Missing Authorization Header"), "same"),
    ("profile empty header", profile(""), MSG(401, "Missing Authorization Header"), "same"),
    ("profile only commas", profile(" ,, "), MSG(401, "Missing Authorization Header"), "same"),
    ("profile basic auth", profile("Basic Y29zbW86c3BhY2UtY29yZ2k="), MSG(401, BEARER_MISSING), "same"),
    ("profile lowercase bearer", profile(f"bearer {GOOD}"), MSG(401, BEARER_MISSING), "same"),
    ("profile token without scheme", profile(GOOD), MSG(401, BEARER_MISSING), "same"),
    ("profile two bearer fields", profile(f"Bearer {GOOD}, Bearer {GOOD}"), MSG(401, BEARER_MISSING), "same"),
    ("profile bearer without token", profile("Bearer"), MSG(422, BAD_HEADER), "same"),
    ("profile bearer with three words", profile(f"Bearer {GOOD} x"), MSG(422, BAD_HEADER), "same"),
    ("profile basic then bearer", profile(f"Basic x, Bearer {GOOD}"), {"status": 200, "bodyKeys": ["id", "logged_in_as", "username"]}, "same"),
    ("profile empty field crashes the seed", profile(f", ,Bearer {GOOD}"), {"status": 200, "bodyKeys": ["id", "logged_in_as", "username"]}, "differs"),
    ("profile alg missing", profile(f"Bearer {raw(NO_ALG, json.dumps(claims()))}"), MSG(422, "Algorithm not specified"), "same"),
    ("profile alg none", profile(f"Bearer {raw(ALG_NONE, json.dumps(claims()))}"), MSG(422, "The specified alg value is not allowed"), "same"),
    ("profile alg HS384", profile(f"Bearer {sign(claims(), alg='HS384')}"), MSG(422, "The specified alg value is not allowed"), "same"),
    ("profile alg HS512", profile(f"Bearer {sign(claims(), alg='HS512')}"), MSG(422, "The specified alg value is not allowed"), "same"),
    ("profile another key", profile(f"Bearer {sign(claims(), secret=OTHER)}"), MSG(422, "Signature verification failed"), "same"),
    ("profile subject not a string", profile(f"Bearer {sign(claims(sub=42))}"), MSG(422, "Subject must be a string"), "same"),
    ("profile iat in the future", profile(f"Bearer {sign(claims(iat=FUTURE - 10))}"), MSG(422, "The token is not yet valid (iat)"), "same"),
    ("profile nbf in the future", profile(f"Bearer {sign(claims(nbf=FUTURE - 10))}"), MSG(422, "The token is not yet valid (nbf)"), "same"),
    ("profile expired", profile(f"Bearer {sign(claims(iat=PAST - 900, nbf=PAST - 900, exp=PAST))}"), MSG(401, "Token has expired"), "same"),
    ("profile expired with numeric subject", profile(f"Bearer {sign(claims(iat=PAST - 900, nbf=PAST - 900, exp=PAST, sub=42))}"),
     MSG(422, "Subject must be a string"), "same"),
    ("profile expired without subject", profile(f"Bearer {sign(claims(iat=PAST - 900, nbf=PAST - 900, exp=PAST, sub=None))}"),
     MSG(422, "Missing claim: sub"), "same"),
    ("profile expired with numeric jti", profile(f"Bearer {sign(claims(iat=PAST - 900, nbf=PAST - 900, exp=PAST, jti=7))}"),
     MSG(422, "JWT ID must be a string"), "same"),
    ("profile expired refresh token", profile(f"Bearer {sign(claims(iat=PAST - 900, nbf=PAST - 900, exp=PAST, type='refresh'))}"),
     MSG(401, "Token has expired"), "same"),
    ("profile iat in the future and expired", profile(f"Bearer {sign(claims(iat=FUTURE - 10, exp=PAST))}"),
     MSG(422, "The token is not yet valid (iat)"), "same"),
    ("profile no subject", profile(f"Bearer {sign(claims(sub=None))}"), MSG(422, "Missing claim: sub"), "same"),
    ("profile refresh token", profile(f"Bearer {REFRESH}"), MSG(422, "Only non-refresh tokens are allowed"), "same"),
    ("profile unknown user", profile(f"Bearer {sign(claims(sub='ghost'))}"), MSG(401, "Error loading the user ghost"), "same"),
    # Ids DynamoDB refuses as keys: every store gives these answers (empty sub: an unknown user).
    ("profile empty subject", profile(f"Bearer {sign(claims(sub=''))}"), MSG(401, "Error loading the user "), "same"),
    ("profile empty jti and sid", profile(f"Bearer {sign(claims(jti='', sid=''))}"),
     {"status": 200, "bodyKeys": ["id", "logged_in_as", "username"]}, "same"),
    # Stricter than the seed (RFC 7519 section 4.1.3): flask-jwt-extended ignores aud unless configured.
    ("profile token with audience", profile(f"Bearer {sign(claims(aud='other-api'))}"), MSG(422, "Invalid audience"), "differs"),
    ("profile exp not an integer", profile(f"Bearer {sign(claims(exp='later'))}"), MSG(422, "Expiration Time claim (exp) must be an integer."), "same"),
    ("profile iat not an integer", profile(f"Bearer {sign(claims(iat=[1]))}"), MSG(422, "Issued At claim (iat) must be an integer."), "same"),
    ("profile jti not a string", profile(f"Bearer {sign(claims(jti=5))}"), MSG(422, "JWT ID must be a string"), "same"),
    ("profile one segment", profile("Bearer abc"), MSG(422, "Not enough segments"), "same"),
    ("profile bad header base64", profile("Bearer !!!.e30.e30"), MSG(422, "Invalid header padding"), "same"),
    ("profile header not an object", profile(f"Bearer {raw('[1]', json.dumps(claims()))}"), MSG(422, "Invalid header string: must be a json object"), "same"),
    ("profile payload not an object", profile(f"Bearer {raw(HS256, '[1]')}"), MSG(422, "Invalid payload string: must be a json object"), "same"),
    ("profile minimal flask token", profile(f"Bearer {sign({'sub': 'cosmo', 'exp': FUTURE})}"), {"status": 200, "bodyKeys": ["id", "logged_in_as", "username"]}, "same"),
    ("profile kid header and extra claims", profile(f"Bearer {sign(claims(csrf='x', role='admin', fresh=ISSUED + 60), header={'kid': 'k1'})}"),
     {"status": 200, "bodyKeys": ["id", "logged_in_as", "username"]}, "same"),
    # Stricter than the seed, on purpose: a token that never expires is refused.
    ("profile token without exp", profile(f"Bearer {sign(claims(exp=None))}"), MSG(422, 'Token is missing the "exp" claim'), "differs"),

    ("refresh ok", refresh(f"Bearer {REFRESH}"), {"status": 200, "bodyKeys": ["access_token"]}, "same"),
    ("refresh with access token", refresh(f"Bearer {GOOD}"), MSG(422, "Only refresh tokens are allowed"), "same"),
    ("refresh with untyped token", refresh(f"Bearer {sign(claims(type=None))}"), MSG(422, "Only refresh tokens are allowed"), "same"),
    ("refresh expired", refresh(f"Bearer {sign(claims(type='refresh', iat=PAST - 900, nbf=PAST - 900, exp=PAST))}"), MSG(401, "Token has expired"), "same"),
    ("refresh unknown user", refresh(f"Bearer {sign(claims(type='refresh', sub='ghost'))}"), MSG(401, "Error loading the user ghost"), "same"),
    ("refresh empty subject", refresh(f"Bearer {sign(claims(type='refresh', sub=''))}"), MSG(401, "Error loading the user "), "same"),
    ("refresh empty jti and sid", refresh(f"Bearer {sign(claims(type='refresh', jti='', sid=''))}"),
     {"status": 200, "bodyKeys": ["access_token"]}, "same"),
    ("refresh missing header", {"method": "POST", "path": "/refresh", "headers": {}, "body": None}, MSG(401, "Missing Authorization Header"), "same"),
]


def flask_tokens():
    app = create_app(SECRET)
    with app.app_context():
        until_2100 = datetime(2100, 1, 1, tzinfo=timezone.utc) - datetime.now(timezone.utc)
        return {
            "secret": SECRET,
            "access_token": create_access_token(identity="cosmo", fresh=True, expires_delta=until_2100),
            "refresh_token": create_refresh_token(identity="cosmo", expires_delta=until_2100),
        }


if __name__ == "__main__":
    import sys
    cases = [{"name": n, "request": r, "expected": e, "seed": s} for n, r, e, s in CASES]
    (HERE / "contract_cases.json").write_text(json.dumps({"secret": SECRET, "cases": cases}, indent=1) + "\n")
    # The flask-issued tokens differ at every run (their iat and jti): rewritten only on demand.
    if "--flask-tokens" in sys.argv:
        (HERE / "flask_tokens.json").write_text(json.dumps(flask_tokens(), indent=1) + "\n")
    print(f"wrote {len(cases)} cases" + (" and the flask-issued tokens" if "--flask-tokens" in sys.argv else ""))

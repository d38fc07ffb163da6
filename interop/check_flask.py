#!/usr/bin/env python3
"""Proves the contract against flask-jwt-extended itself, and tokens in both directions.

1. Every case of contract_cases.json marked "same" gets exactly its expected answer from the
   reference Flask app; every case marked "differs" really is answered differently there (so the
   file never claims a difference that is not one). Our handlers replay the same file in Rust.
2. The tokens our TokenService issues (rust_tokens.json, pinned byte for byte by a Rust test)
   are accepted by flask-jwt-extended: decode_token, GET /profile and POST /refresh.
3. Fresh tokens: flask-jwt-extended's jwt_required(fresh=True) takes our login's access token,
   and refuses a non-fresh one exactly as our POST /password does.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import json
import pathlib
import sys
import warnings

from flask_jwt_extended import decode_token

from reference_app import create_app

warnings.filterwarnings("ignore", message=".*HMAC key.*")
HERE = pathlib.Path(__file__).resolve().parent
passed, failures = 0, []


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(f"{name}: {detail}")


def answer(client, req):
    response = client.open(req["path"], method=req["method"], headers=req["headers"],
                           data=None if req["body"] is None else req["body"].encode())
    try:
        body = response.get_json(force=True, silent=True)
    except Exception:  # noqa: BLE001 - an HTML error page is simply "not JSON"
        body = None
    return response.status_code, body


def matches(expected, status, body):
    if status != expected["status"]:
        return False
    if "body" in expected:
        return body == expected["body"]
    return isinstance(body, dict) and sorted(body) == sorted(expected["bodyKeys"])


contract = json.loads((HERE / "contract_cases.json").read_text())
app = create_app(contract["secret"])
app.config["PROPAGATE_EXCEPTIONS"] = False
app.logger.disabled = True
client = app.test_client()
for case in contract["cases"]:
    status, body = answer(client, case["request"])
    ok = matches(case["expected"], status, body)
    if case["seed"] == "same":
        check(case["name"], ok, f"flask answered {status} {body}, contract says {case['expected']}")
    else:
        check(case["name"], not ok, f"marked 'differs' but flask answers the same: {status} {body}")

ours = json.loads((HERE / "rust_tokens.json").read_text())
app = create_app(ours["secret"])
client = app.test_client()
with app.app_context():
    access = decode_token(ours["access_token"])
    refresh = decode_token(ours["refresh_token"])
check("our access token decodes in flask", access["sub"] == "cosmo" and access["type"] == "access" and access["fresh"] is True, str(access))
check("our refresh token decodes in flask", refresh["sub"] == "cosmo" and refresh["type"] == "refresh", str(refresh))
status, body = answer(client, {"method": "GET", "path": "/profile", "body": None,
                               "headers": {"Authorization": f"Bearer {ours['access_token']}"}})
check("our access token opens flask's /profile", status == 200 and body["logged_in_as"] == "cosmo", f"{status} {body}")
status, body = answer(client, {"method": "POST", "path": "/refresh", "body": None,
                               "headers": {"Authorization": f"Bearer {ours['refresh_token']}"}})
check("our refresh token refreshes at flask's /refresh", status == 200 and "access_token" in body, f"{status} {body}")
status, body = answer(client, {"method": "POST", "path": "/refresh", "body": None,
                               "headers": {"Authorization": f"Bearer {ours['access_token']}"}})
check("flask refuses our access token at /refresh", status == 422, f"{status} {body}")

# 3. Fresh tokens, as POST /password needs them: flask-jwt-extended's jwt_required(fresh=True)
#    takes our login's access token, and refuses a non-fresh one with the status and body our
#    /password answers (401 {"msg": "Fresh token required"}, pinned in Rust by
#    local-api/tests/it/accounts.rs).
from flask_jwt_extended import create_access_token, jwt_required  # noqa: E402


@jwt_required(fresh=True)
def fresh_only():
    return {"fresh": True}


app = create_app(ours["secret"])
app.add_url_rule("/fresh-only", "fresh_only", fresh_only, methods=["POST"])
client = app.test_client()
status, body = answer(client, {"method": "POST", "path": "/fresh-only", "body": None,
                               "headers": {"Authorization": f"Bearer {ours['access_token']}"}})
check("flask's fresh-only route takes our login's access token", status == 200, f"{status} {body}")
with app.app_context():
    stale = create_access_token("cosmo", fresh=False)
status, body = answer(client, {"method": "POST", "path": "/fresh-only", "body": None,
                               "headers": {"Authorization": f"Bearer {stale}"}})
check("flask refuses a non-fresh token as our /password does",
      (status, body) == (401, {"msg": "Fresh token required"}), f"{status} {body}")

for failure in failures:
    print(f"FAILED {failure}")
print(f"interop: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

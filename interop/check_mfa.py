#!/usr/bin/env python3
"""The second factor against pyotp, a TOTP implementation we did not write.

The real local server (target/debug/local-api, or $LOCAL_API_BIN) runs with a known
JWT_SECRET_KEY and no MFA_ENCRYPTION_KEY (it makes one up, as a newcomer's would), driven over
HTTP as a client would be; every code is pyotp's, from what enrolment shows.

1. Enrolment: POST /mfa/totp answers a base32 secret, an otpauth URI that pyotp reads back to
   the same secret (SHA-1, 6 digits, 30 s) and an SVG QR code; a refreshed (not fresh) access
   token is refused. pyotp's code confirms it: ten recovery codes; the caller's session goes
   on, another session of the user ends. Every /mfa answer says Cache-Control: no-store.
2. A login: the right password answers 403 mfa_required with an mfa_token and no token, no
   cookie. POST /login/mfa with pyotp's code answers the tokens (checked with the HS256
   secret), whose amr is ["pwd", "otp", "mfa"]; the same code again is 401 Invalid code; a
   recovery code signs in with amr ["pwd", "mfa"], and works once; /refresh keeps amr. An
   mfa_token made up, spent, or shown from another source address (127.0.0.2) is 401.
3. New recovery codes (the old ones dead), the factor turned off with a recovery code, and a
   login takes the password alone again.
4. A second server with MFA_MAX_FAILURES=2: after two wrong codes the factor is locked, 429
   with Retry-After, pyotp's right code included.

The codes of a step are spent by their first use, and pyotp's code for the next 30-second
step is accepted too (one step of drift either side): the check never waits for a step.

Prints each check as PASS/FAIL, then 'interop: N passed, M failed'; exits non-zero on any
failure. Every server it starts is stopped when it ends, however it ends.
"""
import base64
import http.client
import json
import os
import re
import signal
import sys
import time
import traceback
import urllib.parse
import warnings

import jwt
import pyotp

from local_api import BINARY as LOCAL_API_BIN, LocalApi

warnings.filterwarnings("ignore", message=".*HMAC key.*")
SECRET = "mfa-interop-secret-for-pyotp-checks-0123456789abcdef"
CREDENTIALS = {"username": "cosmo", "password": "space-corgi"}
# What the API is configured with here, cleared so that the caller's environment does not
# change the check (local_api.py clears the JWT_, CORS_ and MFA_ variables).
CLEARED = ("LOGIN_IP_LIMIT", "LOGIN_MAX_FAILURES", "LOGIN_FAILURE_WINDOW")
RECOVERY_CODE = re.compile(r"^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$")
# Another address of this machine's loopback: a client there is another source address.
ELSEWHERE = "127.0.0.2"

passed, failures = 0, []


def check(name, ok, detail=""):
    global passed
    if len(detail) > 600:
        detail = detail[:600] + "..."
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}")
    return ok


class Api:
    """The API over HTTP: (status, headers with lower-case names, JSON body) per call."""

    def __init__(self, url):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port

    def call(self, method, path, body=None, token=None, source=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=10,
            source_address=(source, 0) if source else None)
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body),
                               headers=headers)
            response = connection.getresponse()
            text = response.read()
            answer_headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, answer_headers, json.loads(text) if text else None
        finally:
            connection.close()

    def login(self, source=None):
        return self.call("POST", "/login", CREDENTIALS, source=source)


def claims(token, kind):
    """The token's payload, its HS256 signature checked with the server's secret."""
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    if payload.get("type") != kind:
        raise AssertionError(f"a {payload.get('type')} token where a {kind} one was due")
    return payload


def next_step_code(totp):
    """pyotp's code for the next 30-second step: the server takes it (one step of drift), and
    no code of this step, which an earlier request may have spent, is reused."""
    return totp.at(time.time() + totp.interval)


def no_store(headers):
    return headers.get("cache-control") == "no-store"


def mfa_required(api, label, source=None):
    """A login of the user whose factor is on: its mfa_token, after checking the 403."""
    status, headers, body = api.login(source)
    token = (body or {}).get("mfa_token", "")
    check(f"{label}: the password answers 403 mfa_required with a 43-character mfa_token, "
          "no token and no cookie",
          status == 403 and body.get("error") == "mfa_required"
          and re.fullmatch(r"[A-Za-z0-9_-]{43}", token) is not None
          and set(body) == {"error", "mfa_token"} and "set-cookie" not in headers,
          f"{status} {body} {headers}")
    return token


def enrol(api, label):
    """Logs in, turns the factor on with pyotp: (pyotp's TOTP, recovery codes, access token)."""
    status, _, body = api.login()
    if status != 200:
        raise RuntimeError(f"{label}: the password login answered {status} {body}")
    access = body["access_token"]
    status, headers, enrolment = api.call("POST", "/mfa/totp", token=access)
    if status != 200:
        raise RuntimeError(f"{label}: POST /mfa/totp answered {status} {enrolment}")
    totp = pyotp.TOTP(enrolment["secret"])
    status, headers, confirmed = api.call("POST", "/mfa/totp/confirm", {"code": totp.now()},
                                          token=access)
    if status != 200:
        raise RuntimeError(f"{label}: POST /mfa/totp/confirm answered {status} {confirmed}")
    return totp, enrolment, headers, confirmed["recovery_codes"], access, body["refresh_token"]


def story():
    """Enrolment, logins with codes and recovery codes, refresh, recovery codes, off."""
    with LocalApi("the second factor", {"JWT_SECRET_KEY": SECRET,
                                        **{name: "" for name in CLEARED}}) as server:
        api = Api(server.url)

        # 1. Enrolment.
        _, _, first = api.login()
        other_session = first["access_token"]
        _, _, refreshed = api.call("POST", "/refresh", token=first["refresh_token"])
        status, headers, body = api.call("POST", "/mfa/totp", token=refreshed["access_token"])
        check("a refreshed (not fresh) access token cannot begin an enrolment",
              (status, body) == (401, {"msg": "Fresh token required"}) and no_store(headers),
              f"{status} {body} {headers}")
        totp, enrolment, confirm_headers, recovery_codes, access, refresh = enrol(api, "enrolment")
        check("a password login's access token says amr ['pwd']",
              claims(access, "access").get("amr") == ["pwd"], str(claims(access, "access")))
        parsed = pyotp.parse_uri(enrolment["otpauth_uri"])
        check("pyotp reads the otpauth URI back to the secret shown, SHA-1, 6 digits, 30 s",
              isinstance(parsed, pyotp.TOTP) and parsed.secret == enrolment["secret"]
              and parsed.digits == 6 and parsed.interval == 30
              and parsed.digest().name == "sha1" and parsed.issuer == "JWT Auth"
              and parsed.name == "cosmo",
              f"{enrolment['otpauth_uri']}: {vars(parsed)}")
        secret = enrolment["secret"]
        try:
            secret_bytes = base64.b32decode(secret + "=" * (-len(secret) % 8))
        except ValueError:
            secret_bytes = b""
        check("the secret is 160 random bits in base32", len(secret_bytes) == 20, secret)
        svg = enrolment["qr_svg"]
        check("the QR code is an SVG document with no script and not the secret in its text",
              svg.startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
              and "<script" not in svg.lower() and enrolment["secret"] not in svg,
              svg[:200])
        check("pyotp's code confirms the factor: ten different recovery codes, no-store",
              len(recovery_codes) == 10 and len(set(recovery_codes)) == 10
              and all(RECOVERY_CODE.match(code) for code in recovery_codes)
              and no_store(confirm_headers),
              f"{recovery_codes} {confirm_headers}")
        status, _, body = api.call("GET", "/profile", token=access)
        check("the confirming session goes on", status == 200, f"{status} {body}")
        status, _, body = api.call("GET", "/profile", token=other_session)
        check("another session of the user ended at the confirmation",
              (status, body) == (401, {"msg": "Token has been revoked"}), f"{status} {body}")
        status, _, body = api.call("POST", "/logout", {"refresh_token": refresh}, token=access)
        check("logout", status == 200, f"{status} {body}")

        # 2. Logins with a second step.
        mfa_token = mfa_required(api, "a login")
        code = next_step_code(totp)
        status, headers, body = api.call("POST", "/login/mfa",
                                         {"mfa_token": mfa_token, "code": code})
        ok = status == 200 and set(body or {}) == {"access_token", "refresh_token"}
        check("/login/mfa with pyotp's code answers the token pair", ok, f"{status} {body}")
        if not ok:
            return
        otp_access = claims(body["access_token"], "access")
        otp_refresh = body["refresh_token"]
        check("its access token says amr ['pwd', 'otp', 'mfa'], fresh, of the user",
              otp_access.get("amr") == ["pwd", "otp", "mfa"] and otp_access.get("fresh") is True
              and otp_access.get("sub") == "cosmo", str(otp_access))
        check("its refresh token says the same amr",
              claims(otp_refresh, "refresh").get("amr") == ["pwd", "otp", "mfa"],
              str(claims(otp_refresh, "refresh")))
        status, _, body = api.call("POST", "/login/mfa", {"mfa_token": mfa_token, "code": code})
        check("the spent mfa_token is refused",
              (status, body) == (401, {"error": "MFA token is invalid or has expired"}),
              f"{status} {body}")
        mfa_token = mfa_required(api, "a second login")
        status, _, body = api.call("POST", "/login/mfa", {"mfa_token": mfa_token, "code": code})
        check("the same code again, with a new mfa_token: 401 Invalid code",
              (status, body) == (401, {"error": "Invalid code"}), f"{status} {body}")
        made_up = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        status, _, body = api.call("POST", "/login/mfa", {"mfa_token": made_up, "code": code})
        check("a made-up mfa_token: 401",
              (status, body) == (401, {"error": "MFA token is invalid or has expired"}),
              f"{status} {body}")
        # The token survives a wrong code: the recovery code goes with the same one.
        status, _, body = api.call("POST", "/login/mfa",
                                   {"mfa_token": mfa_token, "recovery_code": recovery_codes[0]})
        ok = status == 200 and "access_token" in (body or {})
        check("a recovery code signs in (the mfa_token outlived a wrong code)", ok,
              f"{status} {body}")
        if ok:
            recovery_access = claims(body["access_token"], "access")
            check("its access token says amr ['pwd', 'mfa']",
                  recovery_access.get("amr") == ["pwd", "mfa"], str(recovery_access))
            recovery_refresh = body["refresh_token"]
            status, _, body = api.call("POST", "/refresh", token=recovery_refresh)
            check("/refresh keeps amr ['pwd', 'mfa'], not fresh",
                  status == 200 and claims(body["access_token"], "access").get("amr")
                  == ["pwd", "mfa"] and claims(body["access_token"], "access")["fresh"] is False,
                  f"{status} {body}")
        mfa_token = mfa_required(api, "a third login")
        status, _, body = api.call("POST", "/login/mfa",
                                   {"mfa_token": mfa_token, "recovery_code": recovery_codes[0]})
        check("the same recovery code again: 401 Invalid code",
              (status, body) == (401, {"error": "Invalid code"}), f"{status} {body}")
        status, _, body = api.call("POST", "/refresh", token=otp_refresh)
        check("/refresh keeps amr ['pwd', 'otp', 'mfa']",
              status == 200 and claims(body["access_token"], "access").get("amr")
              == ["pwd", "otp", "mfa"], f"{status} {body}")
        mfa_token = mfa_required(api, "a login from 127.0.0.1")
        status, _, body = api.call("POST", "/login/mfa",
                                   {"mfa_token": mfa_token, "recovery_code": recovery_codes[1]},
                                   source=ELSEWHERE)
        check("its mfa_token shown from another source address (127.0.0.2): 401",
              (status, body) == (401, {"error": "MFA token is invalid or has expired"}),
              f"{status} {body}")
        status, _, body = api.call("POST", "/login/mfa",
                                   {"mfa_token": mfa_token, "recovery_code": recovery_codes[1]})
        ok = status == 200
        check("the same mfa_token from its own address still signs in", ok, f"{status} {body}")
        if not ok:
            return
        fresh = body["access_token"]

        # 3. New recovery codes, and the factor off.
        status, headers, body = api.call("POST", "/mfa/recovery-codes",
                                         {"recovery_code": recovery_codes[2]}, token=fresh)
        new_codes = (body or {}).get("recovery_codes", [])
        check("new recovery codes with a recovery code: ten, none of before, no-store",
              status == 200 and len(new_codes) == 10 and not set(new_codes) & set(recovery_codes)
              and no_store(headers), f"{status} {body} {headers}")
        status, _, body = api.call("DELETE", "/mfa/totp", {"recovery_code": recovery_codes[3]},
                                   token=fresh)
        check("a recovery code of before the new ones is dead",
              (status, body) == (401, {"error": "Invalid code"}), f"{status} {body}")
        status, headers, body = api.call("DELETE", "/mfa/totp", {"recovery_code": new_codes[0]},
                                         token=fresh)
        check("the factor off with a new recovery code: 200 {}, no-store",
              (status, body) == (200, {}) and no_store(headers), f"{status} {body}")
        status, _, body = api.login()
        check("a login takes the password alone again, amr ['pwd']",
              status == 200 and claims(body["access_token"], "access").get("amr") == ["pwd"],
              f"{status} {body}")


def lock():
    """Wrong codes lock the factor, pyotp's right one included, with Retry-After."""
    with LocalApi("the lock", {"JWT_SECRET_KEY": SECRET, "MFA_MAX_FAILURES": "2",
                               **{name: "" for name in CLEARED}}) as server:
        api = Api(server.url)
        totp, *_ = enrol(api, "the lock")
        right = next_step_code(totp)
        wrong = "000000" if right != "000000" else "111111"
        mfa_token = mfa_required(api, "the lock's login")
        answers = [api.call("POST", "/login/mfa", {"mfa_token": mfa_token, "code": code})
                   for code in (wrong, wrong, right)]
        statuses = [status for status, _, _ in answers]
        locked_status, locked_headers, locked_body = answers[2]
        check("MFA_MAX_FAILURES=2: two wrong codes are 401, then even the right one is 429",
              statuses == [401, 401, 429]
              and locked_body == {"error": "Too many wrong codes: try again later"}
              and locked_headers.get("retry-after", "").isdigit()
              and int(locked_headers["retry-after"]) > 0,
              f"{[(status, body) for status, _, body in answers]} {locked_headers}")


def main():
    # Killed, it still stops its server: SystemExit unwinds through the `with LocalApi` blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not os.access(LOCAL_API_BIN, os.X_OK):
        check("local-api binary", False, f"{LOCAL_API_BIN} is missing: cargo build -p local-api")
    else:
        for name, run in (("the second factor's story", story), ("the lock", lock)):
            try:
                run()
            except Exception as error:  # noqa: BLE001 - a run that breaks is one failure, the rest go on
                detail = str(error) if isinstance(error, RuntimeError) else traceback.format_exc()
                check(name, False, detail)
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"interop: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

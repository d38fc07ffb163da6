#!/usr/bin/env python3
"""Cookie mode (issue 13) against flask-jwt-extended's own, both ways.

A Flask app in flask-jwt-extended's cookie mode (JWT_TOKEN_LOCATION=["cookies"], CSRF double
submit on, the same JWT_SECRET_KEY, and our cookie settings: SameSite=Lax, the refresh cookie
on /refresh), with routes mirroring ours (POST /login sets the four cookies, GET /profile,
POST /refresh with jwt_required(refresh=True), POST /logout with unset_jwt_cookies), is driven
in-process by Flask's test client. The real local server (target/debug/local-api, or
$LOCAL_API_BIN) runs with JWT_TOKEN_LOCATION=cookies, JWT_COOKIE_SECURE=false and that secret,
driven over HTTP by urllib with an http.cookiejar jar, as a browser would be.

1. Login: the same four cookies with the same attributes (HttpOnly on the token cookies only,
   SameSite, Path, no Secure, no Max-Age/Expires), the same body; each token's `csrf` claim is
   its csrf_* cookie's value.
2. Cookies cross over: Flask takes our access cookie (GET /profile; POST /logout with our
   csrf_access_token) and our refresh cookie (POST /refresh with our csrf_refresh_token); we
   take Flask's at /profile, /refresh and /logout.
3. Every mistake (no, empty or wrong X-CSRF-TOKEN, the other cookie's CSRF value, no cookie,
   a token of the wrong type, forged, expired, without a csrf claim, a bearer header in
   cookie-only mode) gets the same status and body from us as from Flask, whichever side
   issued the token.
4. Refresh and logout: the Set-Cookies of our /refresh and of our /logout name the same cookies
   with the same paths and attributes as Flask's set_access_cookies / unset_jwt_cookies; the
   jar holds nothing after our logout.
5. Other settings, each beside a Flask app set the same way: the defaults (Secure),
   SameSite=Strict with a Domain and another refresh path, CSRF protection off, and both
   locations in either order.

Prints each check as PASS/FAIL, then 'interop: N passed, M failed'; exits non-zero on any
failure. Every server it starts is stopped when it ends, however it ends.
"""
import base64
import datetime
import email.message
import email.utils
import http.cookiejar
import json
import os
import pathlib
import signal
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid
import warnings

import jwt
from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager, create_access_token, create_refresh_token, decode_token, get_jwt_identity,
    jwt_required, set_access_cookies, set_refresh_cookies, unset_jwt_cookies,
)
from marshmallow import ValidationError

from local_api import BINARY as LOCAL_API_BIN, LocalApi
from reference_app import USERS, LoginSchema

warnings.filterwarnings("ignore", message=".*HMAC key.*")
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
SECRET = "cookie-interop-secret-for-both-sides-0123456789abcdef"
CREDENTIALS = {"username": "cosmo", "password": "space-corgi"}
ACCESS, REFRESH = "access_token_cookie", "refresh_token_cookie"
CSRF_ACCESS, CSRF_REFRESH = "csrf_access_token", "csrf_refresh_token"
COOKIE_NAMES = (ACCESS, REFRESH, CSRF_ACCESS, CSRF_REFRESH)
TOKEN_COOKIES = (ACCESS, REFRESH)
# Ours by default, flask-jwt-extended's once configured so (its own defaults: no SameSite, "/").
OUR_DEFAULTS = {"JWT_COOKIE_SAMESITE": "Lax", "JWT_REFRESH_COOKIE_PATH": "/refresh"}

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


# --- Set-Cookie headers -------------------------------------------------------------------

def parse_set_cookie(header):
    """(name, value, {attribute (lower case): value, True for a flag})."""
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attributes = {}
    for part in rest:
        if not part:
            continue
        key, has_value, attribute_value = part.partition("=")
        attributes[key.strip().lower()] = attribute_value.strip() if has_value else True
    return name.strip(), value.strip(), attributes


def cookies_of(headers):
    """{name: (value, attributes)} from a list of Set-Cookie headers; a name set twice is kept
    as a list under ('DUPLICATE', name)."""
    result = {}
    for header in headers:
        name, value, attributes = parse_set_cookie(header)
        if name in result:
            result[("DUPLICATE", name)] = header
        result[name] = (value, attributes)
    return result


def shape(attributes):
    """What a Set-Cookie says besides its value, for comparing two of them."""
    return {key: value for key, value in attributes.items() if key not in ("expires", "max-age")}


def expired(attributes):
    if attributes.get("max-age") is not None:
        try:
            if int(attributes["max-age"]) <= 0:
                return True
        except ValueError:
            return False
    if attributes.get("expires"):
        try:
            when = email.utils.parsedate_to_datetime(attributes["expires"])
        except (TypeError, ValueError):
            return False
        return when.timestamp() < time.time()
    return False


DEVICE_PROOF = "login_proof"


def compare_set_cookies(label, ours_headers, flask_headers, names, clearing=False):
    """Same cookie names, each with the same attributes (Path, HttpOnly, SameSite, Secure,
    Domain); session cookies both, or both expired when clearing."""
    ours, theirs = cookies_of(ours_headers), cookies_of(flask_headers)
    duplicates = [key[1] for key in ours if isinstance(key, tuple)]
    check(f"{label}: our Set-Cookies name each cookie once", not duplicates,
          f"set more than once: {duplicates}; headers {ours_headers}")
    # Ours alone, by design: the device proof a login hands over (docs/sessions.md), which
    # flask-jwt-extended has no counterpart of. Checked for its own attributes, then set aside.
    if DEVICE_PROOF in ours:
        proof_value, proof_attributes = ours[DEVICE_PROOF]
        check(f"{label}: our device proof is HttpOnly, to /login only, for 90 days",
              not clearing and proof_value.startswith("lp1.")
              and "httponly" in proof_attributes
              and proof_attributes.get("path", "").endswith("/login")
              and proof_attributes.get("max-age") == "7776000",
              f"{proof_value[:12]}... {proof_attributes}")
    our_names = sorted(key for key in ours if isinstance(key, str) and key != DEVICE_PROOF)
    flask_names = sorted(key for key in theirs if isinstance(key, str))
    check(f"{label}: Flask sets exactly {sorted(names)}", flask_names == sorted(names),
          f"flask set {flask_names}")
    if not check(f"{label}: we set the same cookies as Flask", our_names == flask_names,
                 f"ours {our_names}, flask {flask_names}; our headers {ours_headers}"):
        return
    for name in flask_names:
        our_value, our_attributes = ours[name]
        flask_value, flask_attributes = theirs[name]
        # One deliberate difference: JWT_COOKIE_DOMAIN goes on our CSRF cookies only (a page on a
        # sibling host reads them); the token cookies stay the API host's (docs/browser-clients.md),
        # where flask-jwt-extended sends them to every host of the domain.
        flask_shape = shape(flask_attributes)
        if name.endswith("_token_cookie"):
            flask_shape = {key: value for key, value in flask_shape.items() if key != "domain"}
        check(f"{label}: {name} has Flask's attributes (Path, HttpOnly, SameSite, Secure; Domain on the CSRF cookies only)",
              shape(our_attributes) == flask_shape,
              f"ours {shape(our_attributes)}, flask {shape(flask_attributes)}")
        if clearing:
            check(f"{label}: {name} is cleared (empty and expired) like Flask's",
                  our_value in ("", '""') and expired(our_attributes)
                  and flask_value in ("", '""') and expired(flask_attributes),
                  f"ours {our_value!r} {our_attributes}, flask {flask_value!r} {flask_attributes}")
        else:
            check(f"{label}: {name} is a session cookie (no Max-Age, no Expires), like Flask's",
                  not ({"max-age", "expires"} & set(our_attributes))
                  and not ({"max-age", "expires"} & set(flask_attributes)),
                  f"ours {our_attributes}, flask {flask_attributes}")


def claims_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text
    except (TypeError, ValueError, AttributeError):
        return False


def cookie_header(cookies):
    """A Cookie header: from {name: value}, or a string sent as it is."""
    if isinstance(cookies, str):
        return cookies
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# --- The Flask side -------------------------------------------------------------------------

def flask_app(**config):
    """flask-jwt-extended in cookie mode, with routes mirroring ours."""
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_TOKEN_LOCATION=["cookies"],
                      JWT_COOKIE_SECURE=False, JWT_COOKIE_CSRF_PROTECT=True, **OUR_DEFAULTS)
    app.config.update(config)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    manager = JWTManager(app)

    @manager.user_lookup_loader
    def load_user(_header, data):
        return USERS.get(data["sub"])

    @app.route("/login", methods=["POST"])
    def login():
        try:
            data = LoginSchema().load(request.get_json())
        except ValidationError as err:
            return jsonify(error=err.messages), 400
        user = USERS.get(data["username"])
        if not (user and user["password"] == data["password"]):
            return jsonify(error="Bad username or password"), 401
        access = create_access_token(identity=data["username"], fresh=True)
        refresh = create_refresh_token(identity=data["username"])
        if "headers" in app.config["JWT_TOKEN_LOCATION"]:
            response = jsonify(access_token=access, refresh_token=refresh)
        else:
            response = jsonify(msg="Login successful")
        set_access_cookies(response, access)
        set_refresh_cookies(response, refresh)
        return response, 200

    @app.route("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh():
        response = jsonify(msg="Token refreshed")
        set_access_cookies(response, create_access_token(identity=get_jwt_identity(), fresh=False))
        return response, 200

    @app.route("/profile", methods=["GET"])
    @jwt_required()
    def profile():
        user = USERS[get_jwt_identity()]
        return jsonify(logged_in_as=get_jwt_identity(), id=user["id"], username=user["username"]), 200

    @app.route("/logout", methods=["POST"])
    @jwt_required()
    def logout():
        response = jsonify(msg="Successfully logged out")
        unset_jwt_cookies(response)
        return response, 200

    return app


def request_headers(cookies, csrf, bearer):
    """The headers of a request with exactly these cookies, CSRF value and bearer token: the
    same request is made of both servers."""
    headers = {}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    if csrf is not None:
        headers["X-CSRF-TOKEN"] = csrf
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return headers


def flask_raw(app, method, path, cookies=None, csrf=None, bearer=None):
    """(status, JSON body, Set-Cookie headers) for one request with exactly these cookies."""
    client = app.test_client(use_cookies=False)
    response = client.open(path, method=method, headers=request_headers(cookies, csrf, bearer))
    return response.status_code, response.get_json(silent=True), response.headers.getlist("Set-Cookie")


def flask_login(app):
    client = app.test_client(use_cookies=False)
    response = client.post("/login", json=CREDENTIALS)
    headers = response.headers.getlist("Set-Cookie")
    if response.status_code != 200:
        raise RuntimeError(f"flask POST /login answered {response.status_code} {response.get_json(silent=True)}")
    return response.get_json(silent=True), headers


# --- Our side -------------------------------------------------------------------------------

class Server(LocalApi):
    """local-api on a free port (local_api.py) with our secret, driven as a browser would be."""

    def __init__(self, label, env):
        super().__init__(label, {"JWT_SECRET_KEY": SECRET, **env})

    def _send(self, opener, method, path, headers, body):
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with opener.open(req, timeout=10) as response:
                status, raw, message = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, message = error.code, error.read(), error.headers
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return status, parsed, message.get_all("Set-Cookie") or []

    def raw(self, method, path, cookies=None, csrf=None, bearer=None, body=None):
        """(status, JSON body, Set-Cookie headers), with exactly these cookies and no jar."""
        return self._send(urllib.request.build_opener(), method, path,
                          request_headers(cookies, csrf, bearer), body)

    def browser(self):
        return Browser(self)


class Browser:
    """A cookie jar in front of one server: sends what the jar holds for each path."""

    def __init__(self, server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def send(self, method, path, csrf=None, body=None):
        headers = {} if csrf is None else {"X-CSRF-TOKEN": csrf}
        return self.server._send(self.opener, method, path, headers, body)

    def cookie(self, name):
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def names(self):
        return sorted(cookie.name for cookie in self.jar)

    def take(self, set_cookie_headers, path="/login"):
        """Stores Set-Cookies another server sent, as if ours had sent them answering `path`."""
        message = email.message.Message()
        for header in set_cookie_headers:
            message["Set-Cookie"] = header

        class Response:
            def info(self):
                return message

        self.jar.extract_cookies(Response(), urllib.request.Request(self.server.url + path))


# --- The runs -------------------------------------------------------------------------------

def same_answer(label, ours, theirs, expected=None):
    """ours and theirs: (status, body, ...). Equal to each other, and to `expected` if given."""
    ours, theirs = ours[:2], theirs[:2]
    if expected is not None:
        check(f"{label}: Flask answers {expected[0]} {expected[1]}", theirs == expected,
              f"flask answered {theirs[0]} {theirs[1]}")
    return check(f"{label}: we answer as Flask", ours == theirs,
                 f"ours {ours[0]} {ours[1]}, flask {theirs[0]} {theirs[1]}")


def login_values(set_cookie_headers):
    return {name: value for name, (value, _) in
            ((key, item) for key, item in cookies_of(set_cookie_headers).items() if isinstance(key, str))}


MISSING_CSRF = (401, {"msg": "Missing CSRF token"})
MISMATCH = (401, {"msg": "CSRF double submit tokens do not match"})
PROFILE_OK = (200, {"logged_in_as": "cosmo", "id": 1, "username": "cosmo"})


def cookie_run():
    label = "cookies"
    app = flask_app()
    with Server(label, {"JWT_TOKEN_LOCATION": "cookies", "JWT_COOKIE_SECURE": "false"}) as server:
        # 1. Login.
        browser = server.browser()
        status, body, our_login = browser.send("POST", "/login", body=CREDENTIALS)
        flask_body, flask_login_headers = flask_login(app)
        check("login: we answer 200 {'msg': 'Login successful'} like Flask",
              (status, body) == (200, flask_body) and flask_body == {"msg": "Login successful"},
              f"ours {status} {body}, flask {flask_body}")
        compare_set_cookies("login", our_login, flask_login_headers, COOKIE_NAMES)
        ours = login_values(our_login)
        theirs = login_values(flask_login_headers)
        if not all(name in ours for name in COOKIE_NAMES):
            check("login: our four cookies, to go on with", False, f"got {sorted(ours)}: {our_login}")
            return
        for name, attributes in ((name, cookies_of(our_login)[name][1]) for name in COOKIE_NAMES):
            check(f"login: our {name} is {'HttpOnly' if name in TOKEN_COOKIES else 'readable by JS'}"
                  f", SameSite=Lax, Path={'/refresh' if name == REFRESH else '/'}, not Secure",
                  bool(attributes.get("httponly")) == (name in TOKEN_COOKIES)
                  and attributes.get("samesite") == "Lax"
                  and attributes.get("path") == ("/refresh" if name == REFRESH else "/")
                  and "secure" not in attributes and "domain" not in attributes,
                  repr(attributes))
        check("login: the jar holds our four cookies and the device proof",
              browser.names() == sorted([*COOKIE_NAMES, DEVICE_PROOF]), repr(browser.names()))
        for side, values in (("our", ours), ("Flask's", theirs)):
            for token_name, csrf_name in ((ACCESS, CSRF_ACCESS), (REFRESH, CSRF_REFRESH)):
                claims = claims_of(values[token_name])
                check(f"csrf claim: {side} {token_name} carries csrf = {csrf_name} (a UUID)",
                      claims.get("csrf") == values[csrf_name] and is_uuid(values[csrf_name]),
                      f"claim {claims.get('csrf')!r}, cookie {values[csrf_name]!r}")
        check("csrf claim: our access and refresh tokens have different csrf values, like Flask's",
              ours[CSRF_ACCESS] != ours[CSRF_REFRESH] and theirs[CSRF_ACCESS] != theirs[CSRF_REFRESH],
              f"ours {ours[CSRF_ACCESS]} / {ours[CSRF_REFRESH]}")
        with app.app_context():
            try:
                decoded = decode_token(ours[ACCESS], ours[CSRF_ACCESS])
                check("flask decode_token takes our access cookie with our csrf_access_token",
                      decoded.get("sub") == "cosmo" and decoded.get("type") == "access", repr(decoded))
            except Exception as error:  # noqa: BLE001
                check("flask decode_token takes our access cookie with our csrf_access_token", False,
                      f"{type(error).__name__}: {error}")
        our_claims = claims_of(ours[ACCESS])
        flask_claims = claims_of(theirs[ACCESS])
        check("csrf claim: our access token has every claim Flask's has",
              sorted(our_claims) == sorted(flask_claims) or set(flask_claims) <= set(our_claims),
              f"ours {sorted(our_claims)}, flask {sorted(flask_claims)}")

        # 2 and 3. Every request, with each side's cookies, to both sides.
        matrix(app, server, "our cookies", ours)
        matrix(app, server, "Flask's cookies", theirs)
        mistakes(app, server, ours)

        # The browser flow on our side, with the jar: GET, refresh, logout.
        status, body, _ = browser.send("GET", "/profile")
        check("our browser: GET /profile with the jar's cookies", (status, body) == PROFILE_OK,
              f"{status} {body}")
        status, body, our_refresh = browser.send("POST", "/refresh", csrf=browser.cookie(CSRF_REFRESH))
        flask_status, flask_body, flask_refresh = flask_raw(
            app, "POST", "/refresh", {REFRESH: theirs[REFRESH]}, theirs[CSRF_REFRESH])
        check("our browser: POST /refresh with csrf_refresh_token answers 200 {'msg': 'Token refreshed'}",
              (status, body) == (200, {"msg": "Token refreshed"}) == (flask_status, flask_body),
              f"ours {status} {body}, flask {flask_status} {flask_body}")
        compare_set_cookies("refresh", our_refresh, flask_refresh, (ACCESS, CSRF_ACCESS))
        new_access, new_csrf = browser.cookie(ACCESS), browser.cookie(CSRF_ACCESS)
        check("refresh: the jar holds a new access cookie and its new csrf_access_token",
              new_access not in (None, ours[ACCESS]) and new_csrf not in (None, ours[CSRF_ACCESS])
              and claims_of(new_access).get("csrf") == new_csrf,
              f"access changed {new_access != ours[ACCESS]}, csrf {new_csrf!r}, "
              f"claim {claims_of(new_access).get('csrf') if new_access else None!r}")
        check("refresh: the refresh cookie is unchanged (no rotation)",
              browser.cookie(REFRESH) == ours[REFRESH], "the refresh cookie changed")
        same_answer("refreshed access cookie: GET /profile",
                    browser.send("GET", "/profile"),
                    flask_raw(app, "GET", "/profile", {ACCESS: new_access}), PROFILE_OK)
        same_answer("refreshed access cookie: POST /logout with the old csrf_access_token",
                    server.raw("POST", "/logout", {ACCESS: new_access}, ours[CSRF_ACCESS]),
                    flask_raw(app, "POST", "/logout", {ACCESS: new_access}, ours[CSRF_ACCESS]),
                    MISMATCH)

        # 4. Logout: the jar's cookies, the access CSRF value; everything cleared, like Flask's.
        status, body, our_logout = browser.send("POST", "/logout", csrf=browser.cookie(CSRF_ACCESS))
        flask_status, flask_body, flask_logout = flask_raw(
            app, "POST", "/logout", {ACCESS: theirs[ACCESS]}, theirs[CSRF_ACCESS])
        check("logout: we answer 200 {'msg': 'Successfully logged out'} like Flask",
              (status, body) == (flask_status, flask_body) == (200, {"msg": "Successfully logged out"}),
              f"ours {status} {body}, flask {flask_status} {flask_body}")
        compare_set_cookies("logout", our_logout, flask_logout, COOKIE_NAMES, clearing=True)
        check("logout: the jar holds no cookie of the session afterwards (the device proof stays)",
              browser.names() == [DEVICE_PROOF], repr(browser.names()))
        status, body, _ = server.raw("GET", "/profile", {ACCESS: new_access})
        check("logout: the access cookie it ended is refused (401 Token has been revoked)",
              (status, body) == (401, {"msg": "Token has been revoked"}), f"{status} {body}")
        status, body, _ = server.raw("POST", "/refresh", {REFRESH: ours[REFRESH]}, ours[CSRF_REFRESH])
        check("logout: the session's refresh cookie is refused (401 Token has been revoked)",
              (status, body) == (401, {"msg": "Token has been revoked"}), f"{status} {body}")

        # Where the contract goes beyond Flask: our /logout takes the refresh cookie alone (when
        # its path lets it through) with csrf_refresh_token and ends its session; Flask's
        # jwt_required() /logout wants the access cookie. A login of its own, ended here.
        _, _, extra = server.raw("POST", "/login", body=CREDENTIALS)
        extra = login_values(extra)
        if REFRESH in extra:
            for csrf, expected in ((None, MISSING_CSRF), (extra[CSRF_ACCESS], MISMATCH),
                                   (extra[CSRF_REFRESH], (200, {"msg": "Successfully logged out"}))):
                status, body, _ = server.raw("POST", "/logout", {REFRESH: extra[REFRESH]}, csrf)
                check(f"contract (beyond Flask): our POST /logout with only the refresh cookie, "
                      f"X-CSRF-TOKEN {'none' if csrf is None else 'csrf_access_token' if csrf == extra[CSRF_ACCESS] else 'csrf_refresh_token'}"
                      f": {expected[0]} {expected[1]}", (status, body) == expected, f"{status} {body}")
            status, body, _ = flask_raw(app, "POST", "/logout", {REFRESH: extra[REFRESH]},
                                        extra[CSRF_REFRESH])
            check("contract (beyond Flask): Flask's /logout wants the access cookie",
                  (status, body) == (401, {"msg": 'Missing cookie "access_token_cookie"'}),
                  f"{status} {body}")
            status, body, _ = server.raw("GET", "/profile", {ACCESS: extra[ACCESS]})
            check("contract (beyond Flask): logout by the refresh cookie ends the session's access token",
                  (status, body) == (401, {"msg": "Token has been revoked"}), f"{status} {body}")

        # Flask's cookies in our browser, as if we had set them.
        crossed = server.browser()
        _, flask_login_headers = flask_login(app)
        theirs = login_values(flask_login_headers)
        crossed.take(flask_login_headers)
        check("Flask's cookies in our jar: four of them", crossed.names() == sorted(COOKIE_NAMES),
              repr(crossed.names()))
        status, body, _ = crossed.send("GET", "/profile")
        check("Flask's cookies: our GET /profile", (status, body) == PROFILE_OK, f"{status} {body}")
        status, body, _ = crossed.send("POST", "/refresh", csrf=crossed.cookie(CSRF_ACCESS))
        check("Flask's cookies: our POST /refresh refuses the csrf_access_token",
              (status, body) == MISMATCH, f"{status} {body}")
        status, body, _ = crossed.send("POST", "/refresh")
        check("Flask's cookies: our POST /refresh without X-CSRF-TOKEN", (status, body) == MISSING_CSRF,
              f"{status} {body}")
        status, body, refreshed = crossed.send("POST", "/refresh", csrf=theirs[CSRF_REFRESH])
        check("Flask's cookies: our POST /refresh with Flask's csrf_refresh_token",
              (status, body) == (200, {"msg": "Token refreshed"}), f"{status} {body}")
        access = crossed.cookie(ACCESS)
        if access and access != theirs[ACCESS]:
            same_answer("the access cookie we refreshed from Flask's: GET /profile",
                        crossed.send("GET", "/profile"),
                        flask_raw(app, "GET", "/profile", {ACCESS: access}), PROFILE_OK)
            status, body, _ = flask_raw(app, "POST", "/logout", {ACCESS: access},
                                        crossed.cookie(CSRF_ACCESS))
            check("the access cookie we refreshed from Flask's: Flask's POST /logout with its csrf",
                  (status, body) == (200, {"msg": "Successfully logged out"}), f"{status} {body}")
        else:
            check("Flask's cookies: our /refresh set a new access cookie", False, repr(refreshed))
        status, body, logout_headers = crossed.send("POST", "/logout", csrf=crossed.cookie(CSRF_ACCESS))
        check("Flask's cookies (refreshed by us): our POST /logout",
              (status, body) == (200, {"msg": "Successfully logged out"}), f"{status} {body}")
        check("Flask's cookies: the jar holds no cookie after our logout", crossed.names() == [],
              repr(crossed.names()))

        # Logout with Flask's own access cookie and csrf_access_token, in a jar.
        other = server.browser()
        other.take(flask_login_headers)
        status, body, _ = other.send("POST", "/logout", csrf=theirs[CSRF_ACCESS])
        check("Flask's cookies: our POST /logout with Flask's csrf_access_token",
              (status, body) == (200, {"msg": "Successfully logged out"}), f"{status} {body}")
        check("Flask's cookies: the jar holds no cookie after our logout of Flask's session",
              other.names() == [], repr(other.names()))


def matrix(app, server, side, values):
    """Each route with `values` (one side's login cookies), sent to both sides."""
    access, refresh = values[ACCESS], values[REFRESH]
    csrf_access, csrf_refresh = values[CSRF_ACCESS], values[CSRF_REFRESH]
    wrong = str(uuid.uuid4())
    cases = [
        ("GET /profile", "GET", "/profile", {ACCESS: access}, None, PROFILE_OK),
        ("GET /profile with a wrong X-CSRF-TOKEN (not checked on GET)", "GET", "/profile",
         {ACCESS: access}, wrong, PROFILE_OK),
        ("GET /profile with every cookie", "GET", "/profile", dict(values), None, PROFILE_OK),
        ("POST /refresh without X-CSRF-TOKEN", "POST", "/refresh", {REFRESH: refresh}, None, MISSING_CSRF),
        ("POST /refresh with an empty X-CSRF-TOKEN", "POST", "/refresh", {REFRESH: refresh}, "", MISSING_CSRF),
        ("POST /refresh with a wrong X-CSRF-TOKEN", "POST", "/refresh", {REFRESH: refresh}, wrong, MISMATCH),
        ("POST /refresh with the csrf_access_token", "POST", "/refresh", {REFRESH: refresh},
         csrf_access, MISMATCH),
        ("POST /refresh with the csrf_refresh_token", "POST", "/refresh", {REFRESH: refresh},
         csrf_refresh, (200, {"msg": "Token refreshed"})),
        ("POST /logout without X-CSRF-TOKEN", "POST", "/logout", {ACCESS: access}, None, MISSING_CSRF),
        ("POST /logout with an empty X-CSRF-TOKEN", "POST", "/logout", {ACCESS: access}, "", MISSING_CSRF),
        ("POST /logout with a wrong X-CSRF-TOKEN", "POST", "/logout", {ACCESS: access}, wrong, MISMATCH),
        ("POST /logout with the csrf_refresh_token", "POST", "/logout", {ACCESS: access},
         csrf_refresh, MISMATCH),
        ("GET /profile, the refresh token in the access cookie", "GET", "/profile", {ACCESS: refresh},
         None, (422, {"msg": "Only non-refresh tokens are allowed"})),
        ("POST /refresh, the access token in the refresh cookie, its csrf", "POST", "/refresh",
         {REFRESH: access}, csrf_access, (422, {"msg": "Only refresh tokens are allowed"})),
        ("POST /refresh, the access token in the refresh cookie, a wrong csrf", "POST", "/refresh",
         {REFRESH: access}, wrong, MISMATCH),
        ("POST /refresh, only the access cookie", "POST", "/refresh", {ACCESS: access, CSRF_ACCESS: csrf_access},
         csrf_access, (401, {"msg": 'Missing cookie "refresh_token_cookie"'})),
        ("GET /profile, a bearer header instead of the cookie", "GET", "/profile", None, None,
         (401, {"msg": 'Missing cookie "access_token_cookie"'})),
    ]
    for name, method, path, cookies, csrf, expected in cases:
        bearer = access if "bearer" in name else None
        same_answer(f"{side}: {name}", server.raw(method, path, cookies, csrf, bearer),
                    flask_raw(app, method, path, cookies, csrf, bearer), expected)


def mistakes(app, server, ours):
    """Tokens neither login gives: forged, expired, without csrf, not JWTs, no cookie."""
    wrong = str(uuid.uuid4())
    forged = jwt.encode(claims_of(ours[REFRESH]), "another secret, at least 256 bits long, 0123456789",
                        algorithm="HS256")
    no_csrf_app = flask_app(JWT_COOKIE_CSRF_PROTECT=False)
    with app.app_context():
        expired_refresh = create_refresh_token(identity="cosmo",
                                               expires_delta=datetime.timedelta(seconds=-30))
        expired_access = create_access_token(identity="cosmo",
                                             expires_delta=datetime.timedelta(seconds=-30))
    with no_csrf_app.app_context():
        plain_refresh = create_refresh_token(identity="cosmo")
        plain_access = create_access_token(identity="cosmo")
        expired_plain_refresh = create_refresh_token(identity="cosmo",
                                                     expires_delta=datetime.timedelta(seconds=-30))
    check("flask with JWT_COOKIE_CSRF_PROTECT=False mints tokens without csrf",
          "csrf" not in claims_of(plain_refresh), repr(claims_of(plain_refresh)))
    expired_csrf = claims_of(expired_refresh)["csrf"]
    cases = [
        ("GET /profile without a cookie", "GET", "/profile", None, None,
         (401, {"msg": 'Missing cookie "access_token_cookie"'})),
        ("POST /refresh without a cookie", "POST", "/refresh", None, None,
         (401, {"msg": 'Missing cookie "refresh_token_cookie"'})),
        ("POST /refresh without a cookie, with X-CSRF-TOKEN", "POST", "/refresh", None, wrong,
         (401, {"msg": 'Missing cookie "refresh_token_cookie"'})),
        ("POST /logout without a cookie", "POST", "/logout", None, None,
         (401, {"msg": 'Missing cookie "access_token_cookie"'})),
        ("POST /refresh with an empty refresh cookie", "POST", "/refresh", {REFRESH: ""}, wrong,
         (401, {"msg": 'Missing cookie "refresh_token_cookie"'})),
        ("GET /profile, only the csrf cookies", "GET", "/profile",
         {CSRF_ACCESS: ours[CSRF_ACCESS], CSRF_REFRESH: ours[CSRF_REFRESH]}, None,
         (401, {"msg": 'Missing cookie "access_token_cookie"'})),
        ("POST /refresh, a refresh cookie that is no JWT, no X-CSRF-TOKEN", "POST", "/refresh",
         {REFRESH: "not-a-jwt"}, None, MISSING_CSRF),
        ("POST /refresh, a refresh cookie that is no JWT, X-CSRF-TOKEN", "POST", "/refresh",
         {REFRESH: "not-a-jwt"}, wrong, None),
        ("GET /profile, an access cookie that is no JWT", "GET", "/profile", {ACCESS: "not-a-jwt"},
         None, None),
        ("POST /refresh, a forged refresh cookie, its csrf", "POST", "/refresh", {REFRESH: forged},
         ours[CSRF_REFRESH], (422, {"msg": "Signature verification failed"})),
        ("POST /refresh, a forged refresh cookie, a wrong csrf", "POST", "/refresh", {REFRESH: forged},
         wrong, (422, {"msg": "Signature verification failed"})),
        ("POST /refresh, a forged refresh cookie, no csrf", "POST", "/refresh", {REFRESH: forged},
         None, MISSING_CSRF),
        ("POST /refresh, an expired refresh cookie, its csrf", "POST", "/refresh",
         {REFRESH: expired_refresh}, expired_csrf, (401, {"msg": "Token has expired"})),
        # flask-jwt-extended decodes an expired token again, without the expiry, for its
        # callback: the CSRF comparison of that second decode answers first.
        ("POST /refresh, an expired refresh cookie, a wrong csrf", "POST", "/refresh",
         {REFRESH: expired_refresh}, wrong, MISMATCH),
        ("POST /refresh, an expired refresh cookie, no csrf", "POST", "/refresh",
         {REFRESH: expired_refresh}, None, MISSING_CSRF),
        ("POST /refresh, an expired refresh cookie without csrf claim, X-CSRF-TOKEN", "POST",
         "/refresh", {REFRESH: expired_plain_refresh}, wrong, (422, {"msg": "Missing claim: csrf"})),
        ("GET /profile, an expired access cookie", "GET", "/profile", {ACCESS: expired_access}, None,
         (401, {"msg": "Token has expired"})),
        ("POST /refresh, a refresh cookie without csrf claim, X-CSRF-TOKEN", "POST", "/refresh",
         {REFRESH: plain_refresh}, wrong, (422, {"msg": "Missing claim: csrf"})),
        ("POST /refresh, a refresh cookie without csrf claim, no X-CSRF-TOKEN", "POST", "/refresh",
         {REFRESH: plain_refresh}, None, MISSING_CSRF),
        ("POST /logout, an access cookie without csrf claim, X-CSRF-TOKEN", "POST", "/logout",
         {ACCESS: plain_access}, wrong, (422, {"msg": "Missing claim: csrf"})),
        ("GET /profile, an access cookie without csrf claim", "GET", "/profile", {ACCESS: plain_access},
         None, PROFILE_OK),
        ("GET /profile, the access cookie twice, a bad one first", "GET", "/profile",
         f"{ACCESS}=not-a-jwt; {ACCESS}={ours[ACCESS]}", None, None),
        ("GET /profile, the access cookie twice, the good one first", "GET", "/profile",
         f"{ACCESS}={ours[ACCESS]}; {ACCESS}=not-a-jwt", None, PROFILE_OK),
        ("GET /profile, the access cookie's value in double quotes", "GET", "/profile",
         f'{ACCESS}="{ours[ACCESS]}"', None, PROFILE_OK),
        ("POST /refresh, the refresh cookie and its csrf, other cookies around", "POST", "/refresh",
         f"theme=dark; {REFRESH}={ours[REFRESH]}; lang=en", ours[CSRF_REFRESH],
         (200, {"msg": "Token refreshed"})),
    ]
    for name, method, path, cookies, csrf, expected in cases:
        same_answer(f"mistake: {name}", server.raw(method, path, cookies, csrf),
                    flask_raw(app, method, path, cookies, csrf), expected)


def attribute_run(label, env, config, names=COOKIE_NAMES):
    """Login's Set-Cookies under other settings, beside Flask's set the same way."""
    app = flask_app(**config)
    with Server(label, {"JWT_TOKEN_LOCATION": "cookies", **env}) as server:
        status, body, ours = server.raw("POST", "/login", body=CREDENTIALS)
        flask_body, theirs = flask_login(app)
        check(f"{label}: login answers like Flask", (status, body) == (200, flask_body),
              f"ours {status} {body}, flask {flask_body}")
        compare_set_cookies(f"{label}: login", ours, theirs, names)
        return app, server, login_values(ours)


def settings_runs():
    # The defaults: Secure (flask-jwt-extended's JWT_COOKIE_SECURE=True).
    attribute_run("defaults (Secure)", {}, {"JWT_COOKIE_SECURE": True})
    attribute_run("SameSite=Strict, Domain, refresh path /auth/refresh",
                  {"JWT_COOKIE_SECURE": "false", "JWT_COOKIE_SAMESITE": "Strict",
                   "JWT_COOKIE_DOMAIN": "example.com", "JWT_REFRESH_COOKIE_PATH": "/auth/refresh"},
                  {"JWT_COOKIE_SAMESITE": "Strict", "JWT_COOKIE_DOMAIN": "example.com",
                   "JWT_REFRESH_COOKIE_PATH": "/auth/refresh"})
    attribute_run("SameSite=None (Secure)", {"JWT_COOKIE_SAMESITE": "None"},
                  {"JWT_COOKIE_SAMESITE": "None", "JWT_COOKIE_SECURE": True})

    # CSRF protection off: two cookies, no csrf claim, POST without X-CSRF-TOKEN.
    label = "CSRF off"
    app = flask_app(JWT_COOKIE_CSRF_PROTECT=False)
    with Server(label, {"JWT_TOKEN_LOCATION": "cookies", "JWT_COOKIE_SECURE": "false",
                        "JWT_COOKIE_CSRF_PROTECT": "false"}) as server:
        status, body, ours = server.raw("POST", "/login", body=CREDENTIALS)
        flask_body, theirs = flask_login(app)
        check(f"{label}: login answers like Flask", (status, body) == (200, flask_body),
              f"ours {status} {body}, flask {flask_body}")
        compare_set_cookies(f"{label}: login", ours, theirs, TOKEN_COOKIES)
        values, flask_values = login_values(ours), login_values(theirs)
        if ACCESS in values and REFRESH in values:
            check(f"{label}: our tokens carry no csrf claim, like Flask's",
                  "csrf" not in claims_of(values[ACCESS]) and "csrf" not in claims_of(values[REFRESH])
                  and "csrf" not in claims_of(flask_values[ACCESS]),
                  f"ours {claims_of(values[ACCESS])}")
            for side, tokens in (("our", values), ("Flask's", flask_values)):
                same_answer(f"{label}: {side} refresh cookie, POST /refresh without X-CSRF-TOKEN",
                            server.raw("POST", "/refresh", {REFRESH: tokens[REFRESH]}),
                            flask_raw(app, "POST", "/refresh", {REFRESH: tokens[REFRESH]}),
                            (200, {"msg": "Token refreshed"}))
                same_answer(f"{label}: {side} access cookie, POST /logout with a wrong X-CSRF-TOKEN",
                            server.raw("POST", "/logout", {ACCESS: tokens[ACCESS]}, "whatever"),
                            flask_raw(app, "POST", "/logout", {ACCESS: tokens[ACCESS]}, "whatever"),
                            (200, {"msg": "Successfully logged out"}))

    # Rotation: our /refresh sets all four cookies, as Flask's set_access_cookies and
    # set_refresh_cookies do at its login.
    label = "rotation"
    app = flask_app()
    with Server(label, {"JWT_TOKEN_LOCATION": "cookies", "JWT_COOKIE_SECURE": "false",
                        "JWT_REFRESH_TOKEN_ROTATION": "true"}) as server:
        browser = server.browser()
        browser.send("POST", "/login", body=CREDENTIALS)
        before = {name: browser.cookie(name) for name in COOKIE_NAMES}
        status, body, ours = browser.send("POST", "/refresh", csrf=before[CSRF_REFRESH])
        _, theirs = flask_login(app)
        check(f"{label}: POST /refresh answers 200 {{'msg': 'Token refreshed'}}",
              (status, body) == (200, {"msg": "Token refreshed"}), f"{status} {body}")
        compare_set_cookies(f"{label}: refresh (beside Flask's login)", ours, theirs, COOKIE_NAMES)
        after = {name: browser.cookie(name) for name in COOKIE_NAMES}
        changed = [name for name in COOKIE_NAMES if after[name] in (None, before[name])]
        check(f"{label}: the jar holds four new cookies", not changed, f"unchanged or gone: {changed}")
        if after[REFRESH] and after[CSRF_REFRESH]:
            check(f"{label}: the new refresh token's csrf is the new csrf_refresh_token",
                  claims_of(after[REFRESH]).get("csrf") == after[CSRF_REFRESH],
                  f"claim {claims_of(after[REFRESH]).get('csrf')!r}, cookie {after[CSRF_REFRESH]!r}")
            status, body, _ = flask_raw(app, "POST", "/refresh", {REFRESH: after[REFRESH]},
                                        after[CSRF_REFRESH])
            check(f"{label}: Flask's /refresh takes the rotated refresh cookie and its csrf",
                  (status, body) == (200, {"msg": "Token refreshed"}), f"{status} {body}")
            status, body, _ = browser.send("POST", "/refresh", csrf=after[CSRF_REFRESH])
            check(f"{label}: our /refresh takes the rotated refresh cookie", status == 200,
                  f"{status} {body}")

    # Both locations, in either order.
    for order in (["headers", "cookies"], ["cookies", "headers"]):
        label = "locations " + ",".join(order)
        app = flask_app(JWT_TOKEN_LOCATION=order)
        with Server(label, {"JWT_TOKEN_LOCATION": ",".join(order),
                            "JWT_COOKIE_SECURE": "false"}) as server:
            status, body, ours = server.raw("POST", "/login", body=CREDENTIALS)
            flask_body, theirs = flask_login(app)
            check(f"{label}: login answers 200 with both tokens in the body, like Flask",
                  status == 200 and isinstance(body, dict)
                  and sorted(body) == sorted(flask_body) == ["access_token", "refresh_token"],
                  f"ours {status} {body}")
            compare_set_cookies(f"{label}: login", ours, theirs, COOKIE_NAMES)
            values = login_values(ours)
            details = {"headers": "Missing Authorization Header",
                       "cookies": 'Missing cookie "access_token_cookie"'}
            expected = (401, {"msg": f"Missing JWT in {order[0]} or {order[1]} "
                                     f"({details[order[0]]}; {details[order[1]]})"})
            same_answer(f"{label}: GET /profile with no token at all",
                        server.raw("GET", "/profile"), flask_raw(app, "GET", "/profile"), expected)
            if not isinstance(body, dict) or REFRESH not in values:
                continue
            same_answer(f"{label}: GET /profile with the bearer only",
                        server.raw("GET", "/profile", bearer=body.get("access_token")),
                        flask_raw(app, "GET", "/profile", bearer=body.get("access_token")), PROFILE_OK)
            same_answer(f"{label}: GET /profile with the cookie only",
                        server.raw("GET", "/profile", {ACCESS: values[ACCESS]}),
                        flask_raw(app, "GET", "/profile", {ACCESS: values[ACCESS]}), PROFILE_OK)
            ours_answer = server.raw("POST", "/refresh", bearer=body.get("refresh_token"))
            theirs_answer = flask_raw(app, "POST", "/refresh", bearer=flask_body.get("refresh_token"))
            check(f"{label}: POST /refresh with the bearer needs no X-CSRF-TOKEN, as in Flask",
                  ours_answer[0] == theirs_answer[0] == 200,
                  f"ours {ours_answer[:2]}, flask {theirs_answer[:2]}")
            same_answer(f"{label}: POST /refresh with the cookie, no X-CSRF-TOKEN",
                        server.raw("POST", "/refresh", {REFRESH: values[REFRESH]}),
                        flask_raw(app, "POST", "/refresh", {REFRESH: values[REFRESH]}), MISSING_CSRF)
            same_answer(f"{label}: POST /refresh with the cookie and a wrong X-CSRF-TOKEN",
                        server.raw("POST", "/refresh", {REFRESH: values[REFRESH]}, "wrong"),
                        flask_raw(app, "POST", "/refresh", {REFRESH: values[REFRESH]}, "wrong"), MISMATCH)


def main():
    # Killed, it still stops its servers: SystemExit unwinds through the `with Server` blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    if not os.access(LOCAL_API_BIN, os.X_OK):
        check("local-api binary", False, f"{LOCAL_API_BIN} is missing: cargo build -p local-api")
    else:
        for name, run in (("cookie mode run", cookie_run), ("settings runs", settings_runs)):
            try:
                run()
            except Exception as error:  # noqa: BLE001 - a run that breaks is one failure, the rest go on
                detail = str(error) if isinstance(error, RuntimeError) else traceback.format_exc()
                check(name, False, detail)
    print(f"({time.monotonic() - started:.1f} s)")
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"interop: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

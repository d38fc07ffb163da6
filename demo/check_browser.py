#!/usr/bin/env python3
"""The demo page (demo/) in a real browser: headless Chromium driven by Selenium.

Starts the local server (target/debug/local-api, or $LOCAL_API_BIN) in cookie mode on a free
port, serving the demo page on a second free port (DEMO_PORT) with CORS for the page's origin
and a short access token lifetime. Both are named `localhost`: cookies ignore ports, so the
page can read the API's csrf_* cookies. Then, through the page as a user would:

1. the page loads and names the API; the API answers the page's CORS preflight;
2. logging in shows the profile (logged_in_as cosmo); the browser holds the contract's four
   cookies with their attributes (tokens HttpOnly, the refresh token's on /refresh only,
   Secure and SameSite=Lax as by default, session cookies), and each csrf_* value is its
   token's csrf claim;
3. no token is readable by the page: document.cookie holds the csrf_* values only (no JWT,
   no token cookie), localStorage and sessionStorage are empty, the page shows none;
4. the API refuses the page's POST /refresh without X-CSRF-TOKEN or with a wrong one;
5. reloading the page resumes the session;
6. past the access lifetime the page, by itself, gets a 401 from /profile, refreshes and shows
   the profile again;
7. logging out clears every cookie, and the profile is refused after it; the cookies of
   before the logout, put back in the browser, are refused too (the session is revoked);
8. the account screens, against a second local-api (sign-up open, access tokens of the default
   lifetime, so that a login stays fresh for a password change; mail written to MAIL_DIR):
   sign up (the API's message for each field beside it) → "check your mail" and one mail →
   the resend button → the login of the unconfirmed account refused → the mailed link opens
   the confirmation screen (the token out of the address bar, nothing confirmed until the
   button) → confirmed and logged in → change the password (a wrong current one, too short a
   new one, a refreshed session: each says why) → log out, the old password refused, the new
   one logs in → a dead reset link says so → forgot password → the mailed reset link, checked
   first → too short a password, then the reset → the newest password logs in, the one before
   does not, the reset link is dead once used. An address gets one mail a minute, so the
   reset waits for the sign-up mail's minute to end (about a minute of the run);
9. the second factor, as cosmo on the second server, every code pyotp's from the secret the
   page shows: "Turn on" shows a QR code (SVG shapes of the page's own, none of the API's text
   as markup) and the secret → a wrong code says so beside the field → the right one shows ten
   recovery codes, once → log out; the password alone sets no cookie, the page asks for a
   code → a used code says so → the next code logs in, and the page says how → a recovery
   code logs in → new recovery codes → off with a code → the password alone logs in again.
   No step waits: each code is of the earliest step the API still takes and has not spent
   (one step of drift either side), so three codes fit in a minute and a half;
10. where you're signed in, and the activity log, against a third server, as cosmo beside
   devices that log in from here (HTTP with their own User-Agent, their cookies kept): a wrong
   password, then a login through the page lists this device alone (its IP, start, "not yet"
   refreshed, signed in with a password) → two more logins (Firefox on Linux; an iPhone, which
   refreshes) → "Reload sessions" lists three, exactly one "This device", each as GET /sessions
   says → DELETE /sessions/{id} and POST /logout?scope=others without X-CSRF-TOKEN are refused
   → "Sign out" on Firefox's: two listed, its refresh token `401 Token has been revoked`, the
   iPhone's still good, a second DELETE 404 → a login whose User-Agent is markup (`<img
   src=x onerror=alert(1)>`) shows as the API's text: no element made, no alert → six sessions,
   five a page: "More sessions" shows the sixth → "Sign out everywhere else": this device alone,
   every other refresh token revoked, the page still logged in → the activity list, paged with
   "More activity", shows the story's events in order with their outcome, detail and device, as
   GET /account/activity says → "Sign out this device" logs out and clears every cookie;
11. the browser's console shows no CORS or Content-Security-Policy error.

Prints each failure, then 'browser: N passed, M failed'; exits non-zero on any failure. A
failed run saves screenshots, the page's HTML, the browser's console, the servers' and
chromedriver's logs and the mails in a directory it prints ($BROWSER_TEST_ARTIFACTS, else a
new one in /tmp).
"""
import base64
import email
import email.policy
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "interop"))
from local_api import BINARY as LOCAL_API_BIN, LocalApi  # noqa: E402 - found through the path above
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ACCESS_SECONDS = 3
# An address gets at most one mail a minute (the API's MAIL_INTERVAL), however many ask.
MAIL_INTERVAL_SECONDS = 60
# How often the page reloads the profile by itself (the config.js local-api makes says so).
PAGE_RELOAD_SECONDS = 2
USERNAME, PASSWORD = "cosmo", "space-corgi"
TOKEN_COOKIES = {"access_token_cookie", "refresh_token_cookie"}
CSRF_COOKIES = {"csrf_access_token", "csrf_refresh_token"}
# The account settings of local-api (shared/core/src/settings/accounts.rs VARIABLES), cleared
# so that the caller's environment does not change the test: empty is unset.
ACCOUNT_VARIABLES = ("SIGNUP", "MAIL_FROM", "APP_URL", "SIGNUP_TOKEN_EXPIRES",
                     "RECOVERY_TOKEN_EXPIRES", "ACCOUNT_MIN_ANSWER_TIME", "LOGIN_IP_LIMIT",
                     "SIGNUP_IP_LIMIT", "VERIFY_IP_LIMIT", "RECOVER_IP_LIMIT", "RESEND_IP_LIMIT",
                     "PASSWORD_IP_LIMIT", "MAIL_DIR")
ACCOUNT_ROUTES = ("/signup", "/verify", "/recover", "/resend", "/password", "/password/reset")
# A mailed link: the page, with the token's purpose and the token (base64url) in its query.
MAIL_LINK = re.compile(r"http://\S+[?&]type=(signup|recovery)&token=([A-Za-z0-9_-]+)")
# A JWT as text: a base64url JSON header (`{"` is `eyJ`), a dot, a payload.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# A TOTP step, in seconds (RFC 6238's default, which the API uses).
TOTP_STEP = 30
RECOVERY_CODE = re.compile(r"^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$")
# The page's page sizes (app.js SESSIONS_PAGE_SIZE, ACTIVITY_PAGE_SIZE).
SESSIONS_PAGE, ACTIVITY_PAGE = 5, 10
# The other devices' User-Agent headers; the last is markup that must stay text on the page.
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Safari/537.36")
HOSTILE_MARKUP = "<img src=x onerror=alert(1)>"
HOSTILE_USER_AGENT = f"{HOSTILE_MARKUP}/1.0 ({HOSTILE_MARKUP}) Firefox/{HOSTILE_MARKUP}"

passed, failures = 0, []


class Failure(Exception):
    """A step that did not go as the contract says; its message says what was seen."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server(LocalApi):
    """local-api in cookie mode with the demo page (local_api.py starts it): access tokens
    for `access_seconds` (None: the default lifetime), mail written to `mail_dir` if given.
    Sign-up is open (local-api's default), and the mailed links lead to the demo page."""

    def __init__(self, label, access_seconds=None, mail_dir=None):
        self.demo_port = free_port()
        self.page = f"http://localhost:{self.demo_port}"
        env = {
            **{name: "" for name in ACCOUNT_VARIABLES},
            "DEMO_PORT": str(self.demo_port),
            "JWT_TOKEN_LOCATION": "cookies",
            "CORS_ALLOWED_ORIGINS": self.page,
        }
        if access_seconds is not None:
            env["JWT_ACCESS_TOKEN_EXPIRES"] = f"{access_seconds}s"
        if mail_dir is not None:
            env["MAIL_DIR"] = str(mail_dir)
        try:
            super().__init__(label, env,
                             ready=lambda output: f"Demo page on {self.page} " in output)
        except RuntimeError as error:
            raise Failure(str(error)) from None
        # Both named localhost: cookies ignore ports, so the page reads the API's CSRF cookies.
        self.api = self.url.replace("http://127.0.0.1:", "http://localhost:")


def start_browser(driver_log):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    # Debian's chromium and chromedriver, named: with the driver's path given, Selenium skips
    # Selenium Manager, which would try to download them.
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1000,1400", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(driver_log))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(15)
    return driver


class Run:
    """One run of the flow, check by check, in one browser against one server."""

    def __init__(self, driver, server, artifacts):
        self.driver = driver
        self.server = server
        self.artifacts = artifacts
        self.console = []
        self.shots = 0
        self.before_logout = {}

    # --- Reading the page -------------------------------------------------------------

    def text(self, element_id):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.ID, element_id).text

    def status(self):
        return self.text("status")

    def shown(self, element_id):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.ID, element_id).is_displayed()

    def fill(self, values):
        """Types each value into the field of that id, replacing what it held."""
        from selenium.webdriver.common.by import By
        for element_id, value in values.items():
            field = self.driver.find_element(By.ID, element_id)
            field.clear()
            field.send_keys(value)

    def click(self, element_id):
        from selenium.webdriver.common.by import By
        self.driver.find_element(By.ID, element_id).click()

    def log_lines(self):
        """The page's request log, each line without its ' ×N' count."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#log li'), li => li.dataset.line);")

    def requested(self, start, request):
        """Whether the page's log shows `request` ("POST /signup") since its line `start`."""
        return any(line.startswith(request + " ") for line in self.log_lines()[start:])

    def wait_for(self, what, condition, timeout=10, failed=lambda: False):
        """Waits until `condition()`; fails at once when `failed()` says it never will."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
                if failed():
                    raise Failure(f"while waiting for {what}: status {self.status()!r}; "
                                  f"requests: {self.log_lines()}")
            except Failure:
                raise
            except Exception:  # noqa: BLE001 - the page may be between states: look again
                if time.monotonic() >= deadline:
                    raise
            if time.monotonic() >= deadline:
                raise Failure(f"waited {timeout} s for {what}; status: {self.status()!r}; "
                              f"requests: {self.log_lines()}")
            time.sleep(0.1)

    def profile(self):
        text = self.text("profile")
        return json.loads(text) if text else None

    def browser_cookies(self):
        """Every cookie the browser holds, HttpOnly ones and every path included."""
        return {cookie["name"]: cookie
                for cookie in self.driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]}

    def script_view(self):
        """What a script on the page can see: document.cookie, the two storages, the DOM."""
        return self.driver.execute_script("""
            const entries = (storage) => Object.keys(storage).map(key => [key, storage.getItem(key)]);
            const globals = Object.keys(window)
                .filter(key => typeof window[key] === "string")
                .map(key => [key, window[key]]);
            return {
                cookie: document.cookie,
                local: entries(localStorage),
                session: entries(sessionStorage),
                html: document.documentElement.outerHTML,
                globals: globals,
            };""")

    def page_fetch(self, method, path, headers=None):
        """fetch() from the page, with its cookies: (status, JSON body); status 0 if refused."""
        reply = self.driver.execute_async_script("""
            const [url, init, done] = arguments;
            fetch(url, init).then(
                async (response) => done({status: response.status,
                                          body: await response.json().catch(() => null)}),
                (error) => done({status: 0, body: String(error)}));""",
            self.server.api + path,
            {"method": method, "credentials": "include", "headers": headers or {}})
        return reply["status"], reply["body"]

    # --- The checks ---------------------------------------------------------------------

    def page_loads(self):
        self.driver.get(self.server.page + "/")
        self.wait_for("the page to say it is logged out", lambda: self.status() == "You are logged out")
        api = self.text("api-base")
        if api != self.server.api:
            raise Failure(f"the page names the API {api!r}, not {self.server.api!r}")

    def preflight(self, path="/login"):
        request = urllib.request.Request(self.server.api + path, method="OPTIONS", headers={
            "Origin": self.server.page,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-csrf-token",
        })
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
        allowed = {
            "Access-Control-Allow-Origin": headers.get("Access-Control-Allow-Origin"),
            "Access-Control-Allow-Credentials": headers.get("Access-Control-Allow-Credentials"),
            "Access-Control-Allow-Headers": (headers.get("Access-Control-Allow-Headers") or "").lower(),
        }
        if not (200 <= status < 300
                and allowed["Access-Control-Allow-Origin"] == self.server.page
                and allowed["Access-Control-Allow-Credentials"] == "true"
                and "x-csrf-token" in allowed["Access-Control-Allow-Headers"]):
            raise Failure(f"OPTIONS {path} from {self.server.page}: {status} {allowed}")

    def wrong_password_says_why(self):
        from selenium.webdriver.common.by import By
        password = self.driver.find_element(By.ID, "password")
        if password.get_attribute("placeholder"):
            raise Failure("the password field shows a placeholder, which looks filled in")
        for element_id, value in (("username", USERNAME), ("password", "not-the-password")):
            field = self.driver.find_element(By.ID, element_id)
            field.clear()
            field.send_keys(value)
        self.driver.find_element(By.ID, "login-button").click()
        self.wait_for("the API's own message for a wrong password",
                      lambda: self.status() == "Login failed: Bad username or password")
        # A fresh page for the login that follows, its status not this one's.
        self.driver.get(self.server.page + "/")
        self.wait_for("the page to say it is logged out", lambda: self.status() == "You are logged out")

    def log_in(self, username=USERNAME, password=PASSWORD):
        start = len(self.log_lines())
        self.fill({"username": username, "password": password})
        self.click("login-button")
        # What the status said before the click (a failed login, say) is not this one's answer.
        self.wait_for(f"'Logged in as {username}'",
                      lambda: self.status() == f"Logged in as {username}",
                      failed=lambda: self.requested(start, "POST /login")
                      and self.status().startswith(("Login failed", "You are logged out:")))
        profile = self.profile()
        if not profile or profile.get("logged_in_as") != username:
            raise Failure(f"the profile shown is {profile!r}")

    def cookies_set(self):
        cookies = self.browser_cookies()
        wanted = {  # name: (HttpOnly, Path)
            "access_token_cookie": (True, "/"),
            "refresh_token_cookie": (True, "/refresh"),
            "csrf_access_token": (False, "/"),
            "csrf_refresh_token": (False, "/"),
        }
        problems = []
        for name, (http_only, path) in wanted.items():
            cookie = cookies.get(name)
            if cookie is None:
                problems.append(f"{name} missing")
                continue
            seen = {"httpOnly": cookie.get("httpOnly"), "path": cookie.get("path"),
                    "sameSite": cookie.get("sameSite"), "session": cookie.get("session"),
                    "domain": cookie.get("domain"), "secure": cookie.get("secure")}
            # The defaults, Secure included: a browser takes Secure cookies from
            # http://localhost, so the settings a deployment keeps are the ones tested here.
            expected = {"httpOnly": http_only, "path": path, "sameSite": "Lax", "session": True,
                        "domain": "localhost", "secure": True}
            if seen != expected:
                problems.append(f"{name}: {seen}, wanted {expected}")
        if problems:
            raise Failure("; ".join(problems) + f" (the browser holds {sorted(cookies)})")

    def csrf_claims(self):
        cookies = self.browser_cookies()
        for token_name, csrf_name in (("access_token_cookie", "csrf_access_token"),
                                      ("refresh_token_cookie", "csrf_refresh_token")):
            payload = jwt_payload(cookies[token_name]["value"])
            csrf = cookies[csrf_name]["value"]
            if not csrf or payload.get("csrf") != csrf:
                raise Failure(f"{csrf_name} is {csrf!r}, {token_name}'s csrf claim "
                              f"{payload.get('csrf')!r}")

    def no_token_readable(self):
        view = self.script_view()
        names = {pair.split("=", 1)[0] for pair in view["cookie"].split("; ") if pair}
        problems = []
        if names != CSRF_COOKIES:
            problems.append(f"document.cookie names {sorted(names)}, not the csrf_* cookies only")
        if names & TOKEN_COOKIES:
            problems.append("a token cookie is readable by scripts")
        if JWT_PATTERN.search(view["cookie"]):
            problems.append(f"a JWT in document.cookie: {view['cookie']!r}")
        if view["local"] or view["session"]:
            problems.append(f"storage is not empty: localStorage {view['local']}, "
                            f"sessionStorage {view['session']}")
        if JWT_PATTERN.search(view["html"]):
            problems.append("a JWT in the page's HTML")
        jwt_globals = [key for key, value in view["globals"] if JWT_PATTERN.search(value)]
        if jwt_globals:
            problems.append(f"a JWT in global variables {jwt_globals}")
        if problems:
            raise Failure("; ".join(problems))

    def csrf_enforced(self):
        missing = self.page_fetch("POST", "/refresh")
        wrong = self.page_fetch("POST", "/refresh", {"X-CSRF-TOKEN": "not-the-csrf-value"})
        expected = [(401, {"msg": "Missing CSRF token"}),
                    (401, {"msg": "CSRF double submit tokens do not match"})]
        if [missing, wrong] != expected:
            raise Failure(f"without X-CSRF-TOKEN: {missing}; with a wrong one: {wrong}; "
                          f"wanted {expected}")

    def reload_resumes(self):
        self.driver.refresh()
        self.wait_for(f"'Logged in as {USERNAME}' after a reload",
                      lambda: self.status() == f"Logged in as {USERNAME}")

    def refreshes_by_itself(self):
        # Only what happens from now on counts: the page, left alone, sees the access token
        # expire at its next reload of the profile, refreshes, and loads the profile again.
        start = len(self.log_lines())
        wanted = ["GET /profile → 401 (Token has expired)",
                  "POST /refresh → 200 (Token refreshed)",
                  "GET /profile → 200"]

        def refreshed():
            lines = self.log_lines()[start:]
            return any(lines[index:index + 3] == wanted for index in range(len(lines)))

        self.wait_for("the page to refresh by itself: " + " → ".join(wanted), refreshed,
                      timeout=ACCESS_SECONDS + 2 * PAGE_RELOAD_SECONDS + 10)
        if int(self.text("refresh-count")) < 1:
            raise Failure(f"the page counts {self.text('refresh-count')} refreshes")
        if self.status() != f"Logged in as {USERNAME}":
            raise Failure(f"status after the refresh: {self.status()!r}")
        profile = self.profile()
        if not profile or profile.get("logged_in_as") != USERNAME:
            raise Failure(f"the profile shown after the refresh is {profile!r}")

    def log_out(self):
        from selenium.webdriver.common.by import By
        self.before_logout = self.browser_cookies()
        start = len(self.log_lines())
        self.driver.find_element(By.ID, "logout-button").click()
        # The profile refused for want of any token: plainly logged out, not an error.
        self.wait_for("the page to say it is logged out after logout",
                      lambda: self.status() == "You are logged out")
        lines = self.log_lines()[start:]
        if "POST /logout → 200 (Successfully logged out)" not in lines:
            raise Failure(f"the requests after the click: {lines}")

    def cookies_cleared(self):
        left = sorted(set(self.browser_cookies()) & (TOKEN_COOKIES | CSRF_COOKIES))
        cookie = self.script_view()["cookie"]
        if left or cookie:
            raise Failure(f"after logout the browser still holds {left}; "
                          f"document.cookie is {cookie!r}")

    def profile_refused(self):
        status, body = self.page_fetch("GET", "/profile")
        if status != 401:
            raise Failure(f"GET /profile from the page after logout: {status} {body}")

    def logged_out_cookies_revoked(self):
        # The cookies of before the logout, put back as a thief who had copied them would:
        # the session they belong to is over.
        for name in TOKEN_COOKIES | CSRF_COOKIES:
            cookie = self.before_logout[name]
            self.driver.execute_cdp_cmd("Network.setCookie", {
                key: cookie[key] for key in ("name", "value", "domain", "path", "httpOnly",
                                             "secure", "sameSite")})
        csrf = self.before_logout["csrf_refresh_token"]["value"]
        replies = {"GET /profile": self.page_fetch("GET", "/profile"),
                   "POST /refresh": self.page_fetch("POST", "/refresh", {"X-CSRF-TOKEN": csrf})}
        for name in TOKEN_COOKIES | CSRF_COOKIES:
            self.driver.execute_cdp_cmd("Network.deleteCookies", {
                "name": name, "domain": "localhost", "path": self.before_logout[name]["path"]})
        wanted = (401, {"msg": "Token has been revoked"})
        if any(reply != wanted for reply in replies.values()):
            raise Failure(f"with the cookies of before the logout: {replies}; wanted {wanted}")

    def console_clean(self):
        self.collect_console()
        errors = [entry["message"] for entry in self.console
                  if re.search(r"CORS policy|Content Security Policy|Uncaught",
                               entry.get("message", ""))]
        if errors:
            raise Failure("the console says:\n  " + "\n  ".join(errors))

    # --- Evidence of a failure -----------------------------------------------------------

    def collect_console(self):
        try:
            self.console += self.driver.get_log("browser")
        except Exception:  # noqa: BLE001 - a browser that is gone has nothing more to say
            pass

    def save(self, label):
        """A screenshot and the page's HTML, now."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        stem = f"{self.shots:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')[:60]}"
        try:
            self.driver.save_screenshot(str(self.artifacts / f"{stem}.png"))
            (self.artifacts / f"{stem}.html").write_text(self.driver.page_source)
        except Exception as error:  # noqa: BLE001 - what could be saved is saved
            (self.artifacts / f"{stem}.error.txt").write_text(str(error))


class AccountRun(Run):
    """The account screens, in the same browser against a second server (`server`) whose
    mail goes to `mail_dir`; screenshots and the console go with `run`'s."""

    def __init__(self, run, server, mail_dir):
        super().__init__(run.driver, server, run.artifacts)
        self.evidence = run
        self.mail_dir = mail_dir
        suffix = base64.b32encode(os.urandom(5)).decode().lower()
        self.email = f"demo-{suffix}@example.com"
        # Each a passphrase the policy takes; the second and third replace the one before.
        self.passwords = [f"plum kayak orbit {suffix}", f"violet harbour drum {suffix}",
                          f"copper meadow lantern {suffix}"]
        self.weak_password_message = None
        self.first_mail_seen = None
        self.reset_link = None

    def save(self, label):
        self.evidence.save(label)

    def collect_console(self):
        self.evidence.collect_console()

    # --- Reading the API, the outbox and the page ---------------------------------------

    def api_post(self, path, body):
        """POST from here (not the page): (status, JSON body). To learn what the API says."""
        request = urllib.request.Request(self.server.api + path, method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def mails(self):
        """The mails to this run's address in MAIL_DIR, oldest first: [(subject, text)]."""
        def order(path):  # <unix millis>-<number>.eml
            return tuple(int(part) for part in path.stem.split("-") if part.isdigit())
        found = []
        for path in sorted(self.mail_dir.glob("*.eml"), key=order):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == self.email:
                found.append((str(message["Subject"]),
                              message.get_body(preferencelist=("plain",)).get_content()))
        return found

    def wait_for_mail(self, subject, seen_before):
        """The link of the first mail after the `seen_before` first ones, which must be a
        `subject` mail; checks that it leads to the demo page."""
        self.wait_for(f"a mail '{subject}' to {self.email} in {self.mail_dir}",
                      lambda: len(self.mails()) > seen_before)
        got, text = self.mails()[seen_before]
        if got != subject:
            raise Failure(f"the mail is {got!r}, not {subject!r}:\n{text}")
        found = MAIL_LINK.search(text)
        if not found or not found.group(0).startswith(f"{self.server.page}/?type="):
            raise Failure(f"no link to the page {self.server.page}/ in the mail:\n{text}")
        return found.group(0)

    def field_error(self, input_id):
        """The message beside a field, checked to be tied to it (aria-describedby,
        aria-invalid); '' when none shows."""
        from selenium.webdriver.common.by import By
        error_id = f"{input_id}-error"
        field = self.driver.find_element(By.ID, input_id)
        if not self.shown(error_id):
            return ""
        if error_id not in (field.get_attribute("aria-describedby") or "").split():
            raise Failure(f"#{input_id}'s aria-describedby does not name #{error_id}")
        if field.get_attribute("aria-invalid") != "true":
            raise Failure(f"#{input_id} shows a message but is not aria-invalid")
        return self.text(error_id)

    def wait_for_field_error(self, input_id, wanted):
        self.wait_for(f"the message {wanted!r} beside #{input_id}",
                      lambda: self.field_error(input_id) == wanted)

    def address_bar_clean(self):
        url = self.driver.current_url
        if "token" in url or "type=" in url:
            raise Failure(f"the address bar still holds the link's token: {url}")
        if self.server.page not in url:
            raise Failure(f"the page went elsewhere: {url}")

    def open_page(self):
        self.driver.get(self.server.page + "/")
        self.wait_for("the page to say it is logged out",
                      lambda: self.status() == "You are logged out")

    def click_log_out(self):
        self.click("logout-button")
        self.wait_for("the page to say it is logged out after logout",
                      lambda: self.status() == "You are logged out")

    def change_password(self, current, new):
        """Submits the change-password form; the page's message once the API has answered."""
        start = len(self.log_lines())
        self.fill({"current-password": current, "new-password": new})
        self.click("password-button")
        self.wait_for("the answer to POST /password",
                      lambda: self.requested(start, "POST /password")
                      and self.text("password-message"))
        return self.text("password-message")

    # --- The checks ---------------------------------------------------------------------

    def preflights(self):
        for path in ACCOUNT_ROUTES:
            self.preflight(path)

    def sign_up_field_messages(self):
        self.open_page()
        self.click("show-signup")
        if not self.shown("signup-form"):
            raise Failure("'Create an account' does not show the sign-up form")
        # What the API says of each field, asked directly: the page must show the same.
        bad_email = {"email": "not-an-address", "password": self.passwords[0]}
        weak = {"email": self.email, "password": "short"}
        answers = {"email": self.api_post("/signup", bad_email),
                   "password": self.api_post("/signup", weak)}
        wanted = {}
        for field, (status, body) in answers.items():
            messages = (body or {}).get("error", {}) if status == 400 else {}
            if not isinstance(messages, dict) or field not in messages:
                raise Failure(f"POST /signup with a bad {field}: {status} {body}")
            wanted[field] = " ".join(messages[field])
        self.weak_password_message = wanted["password"]
        for field, body in (("email", bad_email), ("password", weak)):
            self.fill({"signup-email": body["email"], "signup-password": body["password"]})
            self.click("signup-button")
            self.wait_for_field_error(f"signup-{field}", wanted[field])
            other = "signup-password" if field == "email" else "signup-email"
            if self.field_error(other):
                raise Failure(f"#{other} still shows {self.field_error(other)!r}")
            focused = self.driver.execute_script("return document.activeElement.id")
            if focused != f"signup-{field}":
                raise Failure(f"the focus is on #{focused}, not the field in error")
            if not self.status().startswith("Sign-up failed: "):
                raise Failure(f"status {self.status()!r}")

    def sign_up(self):
        before = len(self.mails())
        start = len(self.log_lines())
        self.fill({"signup-email": self.email, "signup-password": self.passwords[0]})
        self.click("signup-button")
        self.wait_for("'Signed up: check your mail'",
                      lambda: self.status() == "Signed up: check your mail",
                      failed=lambda: self.requested(start, "POST /signup")
                      and self.status().startswith("Sign-up failed"))
        if not self.shown("signup-sent") or self.text("signup-sent-to") != self.email:
            raise Failure(f"the 'check your mail' screen does not show {self.email}")
        self.confirm_link = self.wait_for_mail("Confirm your email address", before)
        self.first_mail_seen = time.monotonic()

    def resend(self):
        self.click("resend-button")
        self.wait_for("the resend button's message",
                      lambda: "a new link is on its way" in self.text("resend-message"))
        if "POST /resend → 200" not in self.log_lines():
            raise Failure(f"requests: {self.log_lines()}")

    def unconfirmed_login_refused(self):
        self.open_page()
        self.fill({"username": self.email, "password": self.passwords[0]})
        self.click("login-button")
        self.wait_for("'Login failed: Email not confirmed'",
                      lambda: self.status() == "Login failed: Email not confirmed")

    def link_opens_confirmation(self):
        self.driver.get(self.confirm_link)
        self.wait_for("the confirmation screen", lambda: self.shown("confirm-screen"))
        self.address_bar_clean()
        token = MAIL_LINK.search(self.confirm_link).group(2)
        if token in self.driver.page_source:
            raise Failure("the page shows the link's token")
        # Opening the link confirms nothing: a mail scanner opens links too.
        time.sleep(1)
        if any(line.startswith("POST /verify") for line in self.log_lines()):
            raise Failure(f"the page confirmed by itself: {self.log_lines()}")
        if self.status().startswith("Logged in"):
            raise Failure(f"logged in without the button: {self.status()!r}")

    def confirm(self):
        # Another password first: the link stays good, the field says why.
        self.fill({"confirm-password": "not the one I signed up with"})
        self.click("confirm-button")
        self.wait_for("the confirmation's password message",
                      lambda: self.text("confirm-password-error").startswith("This is not the password"))
        self.fill({"confirm-password": self.passwords[0]})
        self.click("confirm-button")
        self.wait_for(f"'Logged in as {self.email}'",
                      lambda: self.status() == f"Logged in as {self.email}",
                      failed=lambda: "does not work" in self.status())
        profile = self.profile()
        if not profile or profile.get("logged_in_as") != self.email:
            raise Failure(f"the profile shown is {profile!r}")
        if "POST /verify → 200 (Login successful)" not in self.log_lines():
            raise Failure(f"requests: {self.log_lines()}")
        if not self.shown("password-form"):
            raise Failure("no change-password form beside the profile")

    def wrong_current_password(self):
        message = self.change_password("not my password at all", self.passwords[1])
        self.wait_for_field_error("current-password", "Current password is incorrect")
        if message != "Password not changed: Current password is incorrect":
            raise Failure(f"the form says {message!r}")

    def weak_new_password(self):
        self.change_password(self.passwords[0], "short")
        self.wait_for_field_error("new-password", self.weak_password_message)
        if self.field_error("current-password"):
            raise Failure(f"#current-password still shows {self.field_error('current-password')!r}")

    def refreshed_session_not_fresh(self):
        # A refresh, as the page makes when an access token expires: its token is not fresh.
        csrf = self.driver.execute_script(
            "return document.cookie.split('; ').find(c => c.startsWith('csrf_refresh_token='))"
            ".split('=')[1]")
        refreshed = self.page_fetch("POST", "/refresh", {"X-CSRF-TOKEN": csrf})
        if refreshed != (200, {"msg": "Token refreshed"}):
            raise Failure(f"POST /refresh from the page: {refreshed}")
        message = self.change_password(self.passwords[0], self.passwords[1])
        if "Fresh token required" not in message or "log in again" not in message:
            raise Failure(f"the form says {message!r}")

    def change_after_login(self):
        self.click_log_out()
        self.log_in(self.email, self.passwords[0])
        message = self.change_password(self.passwords[0], self.passwords[1])
        if not message.startswith("Password changed."):
            raise Failure(f"the form says {message!r}")
        if self.status() != f"Logged in as {self.email}":
            raise Failure(f"status after the change: {self.status()!r}")

    def old_password_refused_new_one_works(self, old, new):
        self.click_log_out()
        self.fill({"username": self.email, "password": old})
        self.click("login-button")
        self.wait_for("'Login failed: Bad username or password' for the password before",
                      lambda: self.status() == "Login failed: Bad username or password")
        self.log_in(self.email, new)
        self.click_log_out()

    def dead_reset_link(self):
        self.driver.get(f"{self.server.page}/?type=recovery&token=not-a-token-from-any-mail")
        self.wait_for("the page to say the reset link does not work",
                      lambda: self.status().startswith("This reset link does not work"))
        self.address_bar_clean()
        if not self.shown("forgot-form") or self.shown("reset-form"):
            raise Failure("a dead link should offer the forgot-password form, not the reset one")

    def forgot_password(self):
        # One mail per address per minute: the reset mail waits for the sign-up mail's minute.
        wait = self.first_mail_seen + MAIL_INTERVAL_SECONDS + 2 - time.monotonic()
        if wait > 0:
            print(f"(waiting {wait:.0f} s: an address gets one mail a minute)", flush=True)
            time.sleep(wait)
        before = len(self.mails())
        self.open_page()
        self.click("show-forgot")
        if not self.shown("forgot-form"):
            raise Failure("'Forgot your password?' does not show its form")
        self.fill({"forgot-email": self.email})
        self.click("forgot-button")
        self.wait_for("the forgot-password form's message",
                      lambda: "a link to reset its password is on its way"
                      in self.text("forgot-message"))
        self.reset_link = self.wait_for_mail("Reset your password", before)

    def reset_link_checked(self):
        self.driver.get(self.reset_link)
        self.wait_for("the new-password form", lambda: self.shown("reset-form"),
                      failed=lambda: "does not work" in self.status())
        self.address_bar_clean()
        # A new page, a new request log: its one request, the check of the link.
        if self.log_lines() != ["POST /verify → 200"]:
            raise Failure(f"the page's requests before the form: {self.log_lines()}")

    def weak_reset_password(self):
        self.fill({"reset-password": "short"})
        self.click("reset-button")
        self.wait_for_field_error("reset-password", self.weak_password_message)

    def reset(self):
        start = len(self.log_lines())
        self.fill({"reset-password": self.passwords[2]})
        self.click("reset-button")
        self.wait_for("'Password changed: log in with your new password'",
                      lambda: self.status() == "Password changed: log in with your new password",
                      failed=lambda: self.requested(start, "POST /password/reset")
                      and ("failed" in self.status() or "does not work" in self.status()))
        if not self.shown("login-form"):
            raise Failure("no login form after the reset")

    def newest_password_logs_in(self):
        self.fill({"username": self.email, "password": self.passwords[1]})
        self.click("login-button")
        self.wait_for("'Login failed: Bad username or password' for the password before the reset",
                      lambda: self.status() == "Login failed: Bad username or password")
        self.log_in(self.email, self.passwords[2])
        self.click_log_out()

    def confirm_link_used_up(self):
        self.driver.get(self.confirm_link)
        self.wait_for("the confirmation screen", lambda: self.shown("confirm-screen"))
        self.fill({"confirm-password": self.passwords[0]})
        self.click("confirm-button")
        self.wait_for("the page to say the used confirmation link does not work",
                      lambda: self.status().startswith("This link does not work"))
        if not self.shown("link-resend-form"):
            raise Failure("a dead confirmation link should offer to send a new one")

    def reset_link_used_up(self):
        self.driver.get(self.reset_link)
        self.wait_for("the page to say the used reset link does not work",
                      lambda: self.status().startswith("This reset link does not work"))


class MfaRun(AccountRun):
    """The second factor through the page, as cosmo on the accounts' server (access tokens of
    the default lifetime: the /mfa routes take a fresh one), every code pyotp's."""

    def __init__(self, run, server):
        super().__init__(run, server, mail_dir=None)
        self.totp = None
        self.last_step = None
        self.confirm_code = None
        self.recovery_codes = []

    def usable_code(self, margin=5):
        """pyotp's code of a step that the API takes for `margin` seconds from now (the
        current step and one either side) and has not spent (a step's code works once, and a
        used one spends every step before it): the earliest such step, so that the codes that
        follow need no wait; waits only when no step is in reach."""
        while True:
            now = time.time()
            earliest = int((now + margin) // TOTP_STEP) - 1
            step = earliest if self.last_step is None else max(earliest, self.last_step + 1)
            if step <= int(now // TOTP_STEP) + 1:
                self.last_step = step
                return self.totp.at(step * TOTP_STEP)
            wait = (step - 1) * TOTP_STEP - now + 0.05
            print(f"(waiting {wait:.0f} s for the next TOTP step: a code works once)", flush=True)
            time.sleep(wait)

    def wrong_code(self):
        """Six digits that are no code of the steps around now."""
        now = time.time()
        taken = {self.totp.at(now + offset) for offset in (-TOTP_STEP, 0, TOTP_STEP)}
        return next(code for code in ("000000", "111111", "222222") if code not in taken)

    def mfa_state(self):
        return self.text("mfa-state")

    def shown_codes(self):
        from selenium.webdriver.common.by import By
        return [item.text for item in
                self.driver.find_elements(By.CSS_SELECTOR, "#mfa-recovery-codes li")]

    def submit_code(self, field, button, code):
        self.fill({field: code})
        self.click(button)

    # --- The checks ---------------------------------------------------------------------

    def password_login(self):
        self.open_page()
        self.log_in()
        self.wait_for("'Two-factor: off' and how this session signed in",
                      lambda: self.mfa_state() == "Two-factor: off"
                      and self.text("mfa-session-method")
                      == "This session signed in with your password.")
        if not self.shown("mfa-begin-button"):
            raise Failure("no 'Turn on' button beside 'Two-factor: off'")

    def turn_on_shows_qr_and_secret(self):
        self.click("mfa-begin-button")
        self.wait_for("the QR code and the secret",
                      lambda: self.shown("mfa-enrol-form") and self.text("mfa-secret"),
                      failed=lambda: bool(self.text("mfa-message")))
        secret = self.text("mfa-secret").replace(" ", "")
        self.totp = pyotp_totp(secret)
        qr = self.driver.execute_script("""
            const svg = document.querySelector("#mfa-qr svg");
            const box = svg && svg.getBoundingClientRect();
            return svg && {
                paths: svg.querySelectorAll("path").length,
                d: (svg.querySelector("path") || {getAttribute: () => ""}).getAttribute("d").length,
                elements: Array.from(svg.querySelectorAll("*"), e => e.localName),
                attributes: Array.from(svg.querySelectorAll("*"), e => e.getAttributeNames()).flat(),
                width: box.width, height: box.height,
            };""")
        if not qr or qr["paths"] != 1 or qr["d"] < 100 or qr["width"] < 150 or qr["height"] < 150:
            raise Failure(f"the QR code shown: {qr}")
        allowed = {"x", "y", "width", "height", "fill", "d"}
        if set(qr["elements"]) - {"rect", "path"} or set(qr["attributes"]) - allowed:
            raise Failure(f"the QR code has more than shapes: {qr}")
        if "<?xml" in self.driver.page_source or "otpauth://" in self.driver.page_source:
            raise Failure("the API's SVG text, or its otpauth URI, is in the page's markup")

    def wrong_then_right_code_turns_on(self):
        self.submit_code("mfa-confirm-code", "mfa-confirm-button", self.wrong_code())
        self.wait_for_field_error("mfa-confirm-code", "Invalid code")
        self.confirm_code = self.usable_code()
        self.submit_code("mfa-confirm-code", "mfa-confirm-button", self.confirm_code)
        self.wait_for("ten recovery codes and 'Two-factor: on'",
                      lambda: len(self.shown_codes()) == 10
                      and self.mfa_state() == "Two-factor: on",
                      failed=lambda: bool(self.field_error("mfa-confirm-code")))
        self.recovery_codes = self.shown_codes()
        wrong = [code for code in self.recovery_codes if not RECOVERY_CODE.match(code)]
        if wrong or len(set(self.recovery_codes)) != 10:
            raise Failure(f"the recovery codes shown: {self.recovery_codes}")
        if self.shown("mfa-enrol-form") or self.text("mfa-secret"):
            raise Failure("the secret still shows once the factor is on")

    def recovery_codes_shown_once(self):
        self.click("mfa-codes-done")
        self.wait_for("the recovery codes to go", lambda: not self.shown("mfa-codes"))
        if any(code in self.driver.page_source for code in self.recovery_codes):
            raise Failure("a recovery code is still in the page")
        self.click_log_out()

    def login_asks_for_a_code(self):
        self.fill({"username": USERNAME, "password": PASSWORD})
        self.click("login-button")
        self.wait_for("the page to ask for the second factor",
                      lambda: self.shown("mfa-login-form")
                      and self.status() == "Password accepted: now the second factor",
                      failed=lambda: self.status().startswith("Login failed"))
        held = sorted(set(self.browser_cookies()) & (TOKEN_COOKIES | CSRF_COOKIES))
        if held:
            raise Failure(f"the password alone set {held}")
        if self.text("mfa-login-label") != "Code":
            raise Failure(f"the field is labelled {self.text('mfa-login-label')!r}")

    def used_code_refused_next_one_logs_in(self):
        self.submit_code("mfa-login-code", "mfa-login-button", self.confirm_code)
        self.wait_for_field_error("mfa-login-code", "Invalid code")
        self.submit_code("mfa-login-code", "mfa-login-button", self.usable_code())
        self.wait_for(f"'Logged in as {USERNAME}' with the code",
                      lambda: self.status() == f"Logged in as {USERNAME}",
                      failed=lambda: self.status().startswith("Login failed"))
        self.wait_for("'Two-factor: on' and the session's way in",
                      lambda: self.mfa_state() == "Two-factor: on"
                      and self.text("mfa-session-method") == "This session signed in with "
                      "your password and a code from your authenticator app.")

    def recovery_code_logs_in(self):
        self.click_log_out()
        self.login_asks_for_a_code()
        self.click("mfa-login-toggle")
        self.wait_for("the field to take a recovery code",
                      lambda: self.text("mfa-login-label") == "Recovery code")
        self.submit_code("mfa-login-code", "mfa-login-button", self.recovery_codes[0])
        self.wait_for(f"'Logged in as {USERNAME}' with a recovery code",
                      lambda: self.status() == f"Logged in as {USERNAME}",
                      failed=lambda: self.status().startswith("Login failed"))
        self.wait_for("the session's way in",
                      lambda: self.text("mfa-session-method")
                      == "This session signed in with your password and a recovery code.")

    def new_recovery_codes(self):
        self.submit_code("mfa-manage-code", "mfa-new-codes-button", self.recovery_codes[1])
        self.wait_for("ten new recovery codes",
                      lambda: len(self.shown_codes()) == 10
                      and not set(self.shown_codes()) & set(self.recovery_codes),
                      failed=lambda: bool(self.field_error("mfa-manage-code")))
        message = self.text("mfa-message")
        if message != "New recovery codes: the ones before no longer work.":
            raise Failure(f"the section says {message!r}")

    def turn_off_with_a_code(self):
        self.submit_code("mfa-manage-code", "mfa-off-button", self.usable_code())
        self.wait_for("'Two-factor: off' and a 'Turn on' button again",
                      lambda: self.mfa_state() == "Two-factor: off"
                      and self.shown("mfa-begin-button"),
                      failed=lambda: bool(self.field_error("mfa-manage-code")))
        if self.shown("mfa-codes") or self.shown_codes():
            raise Failure("the recovery codes still show with the factor off")

    def password_alone_again(self):
        self.click_log_out()
        self.log_in()


class Device:
    """A client elsewhere signed in as the user: HTTP from here, not the page, with a
    User-Agent of its own. It keeps the cookies the API sets and sends their values as a Cookie
    header (a cookie jar would keep the Secure ones from plain HTTP), the CSRF value beside."""

    def __init__(self, server, user_agent):
        self.server = server
        self.user_agent = user_agent
        self.cookies = {}
        self.session_id = None

    def send(self, method, path, cookie=None, csrf=None, body=None):
        """(status, JSON body or None); takes the Set-Cookies of the answer."""
        headers = {"User-Agent": self.user_agent}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if cookie is not None:
            headers["Cookie"] = f"{cookie}={self.cookies[cookie]}"
        if csrf is not None:
            headers["X-CSRF-TOKEN"] = self.cookies[csrf]
        request = urllib.request.Request(
            self.server.api + path, method=method, headers=headers,
            data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, answer_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, error.headers, error.read()
        for header in answer_headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def log_in(self):
        reply = self.send("POST", "/login", body={"username": USERNAME, "password": PASSWORD})
        if reply[0] != 200 or "access_token_cookie" not in self.cookies:
            raise Failure(f"POST /login as {self.user_agent!r}: {reply}")
        self.session_id = jwt_payload(self.cookies["access_token_cookie"])["sid"]
        return self

    def refresh(self):
        return self.send("POST", "/refresh", cookie="refresh_token_cookie",
                         csrf="csrf_refresh_token")

    def sessions(self):
        """Every page of GET /sessions, as this device's access token sees them."""
        found, cursor = [], None
        while True:
            query = urllib.parse.urlencode({"limit": 100, **({"cursor": cursor} if cursor else {})})
            status, body = self.send("GET", f"/sessions?{query}", cookie="access_token_cookie")
            if status != 200:
                raise Failure(f"GET /sessions as {self.user_agent!r}: {status} {body}")
            found += body["sessions"]
            cursor = body.get("next_cursor")
            if not cursor or not body["sessions"]:
                return found


def device_name(device):
    """The page's words for the API's {"browser", "os"} (app.js, deviceName)."""
    browser = device.get("browser") or "Unknown"
    os_name = device.get("os") or "Unknown"
    if browser == "Unknown" and os_name == "Unknown":
        return "Unknown device"
    return f"{browser} on {os_name}"


class SessionsRun(AccountRun):
    """Where you're signed in, and the activity log, through the page against a third server
    (access tokens of the default lifetime: no refresh of its own muddles the log), as cosmo,
    beside other devices signed in as cosmo from here (`Device`)."""

    def __init__(self, run, server):
        super().__init__(run, server, mail_dir=None)
        self.devices = {}
        self.device_names = {}
        self.page_session = None
        self.more_clicks = 0

    # --- Reading the page -------------------------------------------------------------

    def session_items(self):
        """What the page's list shows of each session, top to bottom."""
        return self.driver.execute_script("""
            const text = (item, selector) => {
                const found = item.querySelector(selector);
                return found ? found.textContent : null;
            };
            return Array.from(document.querySelectorAll("#sessions-list > li"), item => ({
                id: item.dataset.sessionId,
                device: text(item, ".device"),
                thisDevice: text(item, ".this-device"),
                ariaCurrent: item.getAttribute("aria-current"),
                ip: text(item, ".fact-ip dd"),
                started: (item.querySelector(".fact-started time") || {}).dateTime || null,
                refreshed: (item.querySelector(".fact-refreshed time") || {}).dateTime || null,
                refreshedText: text(item, ".fact-refreshed dd"),
                amr: text(item, ".fact-amr dd"),
                button: text(item, "button.sign-out"),
                describedBy: (document.getElementById(
                    item.querySelector("button.sign-out").getAttribute("aria-describedby"))
                    || {}).textContent || null,
            }));""")

    def activity_rows(self):
        return self.driver.execute_script("""
            const raw = (row, name) => {
                const code = row.querySelector(`td.${name} code.raw`);
                return code ? code.textContent : null;
            };
            return Array.from(document.querySelectorAll("#activity-list > tr"), row => ({
                id: row.dataset.eventId,
                at: (row.querySelector("td.when time") || {}).dateTime || null,
                event: raw(row, "event"),
                outcome: raw(row, "outcome"),
                detail: raw(row, "detail"),
                detailText: row.querySelector("td.detail").textContent,
                ip: row.querySelector("td.ip").textContent,
                device: row.querySelector("td.device").textContent,
            }));""")

    def session_button(self, session_id):
        button = self.driver.execute_script("""
            const item = Array.from(document.querySelectorAll("#sessions-list > li"))
                .find(item => item.dataset.sessionId === arguments[0]);
            return item ? item.querySelector("button.sign-out") : null;""", session_id)
        if button is None:
            raise Failure(f"no item of session {session_id} in the list: {self.session_items()}")
        return button

    def answers(self, request):
        """How many answers to `request` ("GET /sessions?limit=5") the page's log shows: the
        same line again only counts up (×2), so lines alone would miss a repeat."""
        return self.driver.execute_script("""
            return Array.from(document.querySelectorAll("#log li"))
                .filter(li => li.dataset.line.startsWith(arguments[0] + " "))
                .reduce((sum, li) => sum + Number(li.dataset.count), 0);""", request)

    def reload_sessions(self, wanted_count):
        """Clicks "Reload sessions"; the items once the answer shows `wanted_count` of them."""
        request = f"GET /sessions?limit={SESSIONS_PAGE}"
        before = self.answers(request)
        self.click("sessions-reload")
        self.wait_for(f"the list of {wanted_count} sessions after a reload",
                      lambda: self.answers(request) > before
                      and len(self.session_items()) == wanted_count)
        return self.session_items()

    def page_cookie_session(self):
        return jwt_payload(self.browser_cookies()["access_token_cookie"]["value"])["sid"]

    def log_in_from(self, name, user_agent):
        """Logs in from a new device; keeps the page's words for it, from what GET /sessions
        says of its own session."""
        device = Device(self.server, user_agent).log_in()
        self.devices[name] = device
        own = [session for session in device.sessions() if session["id"] == device.session_id]
        if len(own) != 1 or own[0].get("current") is not True:
            raise Failure(f"GET /sessions as {user_agent!r} lists its own session as {own}")
        self.device_names[name] = device_name(own[0]["device"])
        return device

    def revoked(self, *names):
        """Each named device's refresh answered 401 Token has been revoked, or a Failure."""
        replies = {name: self.devices[name].refresh() for name in names}
        wanted = (401, {"msg": "Token has been revoked"})
        wrong = {name: reply for name, reply in replies.items() if reply != wanted}
        if wrong:
            raise Failure(f"refreshes that should be refused with {wanted}: {wrong}")

    def items_match_the_api(self, items):
        """The page shows exactly what GET /sessions answers: the same sessions in the same
        order, each value as the API's text."""
        listed = self.api_sessions()
        shown = [(item["id"], item["device"], item["ip"], item["thisDevice"] is not None)
                 for item in items]
        wanted = [(session["id"], device_name(session["device"]), session["ip_address"],
                   session["id"] == self.page_session) for session in listed]
        if shown != wanted:
            raise Failure(f"the page shows {shown}; GET /sessions answers {wanted}")

    def api_sessions(self):
        """GET /sessions from the page's own cookies (a fetch of its own, outside the page's
        code), every page."""
        found, path = [], "/sessions?limit=100"
        while True:
            status, body = self.page_fetch("GET", path)
            if status != 200:
                raise Failure(f"GET {path} with the page's cookies: {status} {body}")
            found += body["sessions"]
            if not body.get("next_cursor") or not body["sessions"]:
                return found
            path = "/sessions?" + urllib.parse.urlencode({"limit": 100, "cursor": body["next_cursor"]})

    def no_markup_injected(self):
        from selenium.common.exceptions import NoAlertPresentException
        try:
            alert = self.driver.switch_to.alert
            text = alert.text
            alert.dismiss()
            raise Failure(f"an alert opened: {text!r}")
        except NoAlertPresentException:
            pass
        found = self.driver.execute_script("""
            const tags = (selector) => Array.from(document.querySelectorAll(selector),
                element => element.localName);
            return {
                img: document.querySelectorAll("img, script:not([src]), iframe, object, embed").length,
                sessions: tags("#sessions-list *"),
                activity: tags("#activity-list *"),
                handlers: Array.from(document.querySelectorAll("#sessions-list *, #activity-list *"))
                    .flatMap(element => element.getAttributeNames())
                    .filter(name => name.startsWith("on")),
            };""")
        allowed_sessions = {"li", "p", "strong", "span", "dl", "div", "dt", "dd", "time", "button"}
        allowed_activity = {"tr", "td", "time", "code"}
        problems = []
        if found["img"]:
            problems.append(f"{found['img']} img/script/iframe element(s) in the page")
        if set(found["sessions"]) - allowed_sessions:
            problems.append(f"the sessions list holds {sorted(set(found['sessions']) - allowed_sessions)}")
        if set(found["activity"]) - allowed_activity:
            problems.append(f"the activity list holds {sorted(set(found['activity']) - allowed_activity)}")
        if found["handlers"]:
            problems.append(f"event handler attributes {found['handlers']}")
        if problems:
            raise Failure("; ".join(problems))

    # --- The checks ---------------------------------------------------------------------

    def page_login_lists_one_session(self):
        self.open_page()
        self.fill({"username": USERNAME, "password": "not-the-password"})
        self.click("login-button")
        self.wait_for("'Login failed: Bad username or password'",
                      lambda: self.status() == "Login failed: Bad username or password")
        self.log_in()
        self.page_session = self.page_cookie_session()
        self.wait_for("the sessions list: this device alone",
                      lambda: len(self.session_items()) == 1)
        item = self.session_items()[0]
        wanted = {"id": self.page_session, "thisDevice": "This device", "ariaCurrent": "true",
                  "ip": "127.0.0.1", "refreshed": None, "refreshedText": "not yet",
                  "amr": "password (pwd)", "button": "Sign out this device"}
        seen = {key: item[key] for key in wanted}
        if seen != wanted:
            raise Failure(f"the item shows {seen}, wanted {wanted}")
        if not item["started"] or not item["describedBy"] or item["device"] not in item["describedBy"]:
            raise Failure(f"the item's start, or its button's description: {item}")
        self.device_names["page"] = item["device"]
        self.items_match_the_api(self.session_items())
        if not self.shown("activity-section"):
            raise Failure("no activity section beside the sessions")

    def other_devices_listed(self):
        self.log_in_from("firefox", FIREFOX_LINUX)
        self.log_in_from("iphone", SAFARI_IPHONE)
        refreshed = self.devices["iphone"].refresh()
        if refreshed != (200, {"msg": "Token refreshed"}):
            raise Failure(f"the iPhone's POST /refresh: {refreshed}")
        items = self.reload_sessions(3)
        ids = {item["id"] for item in items}
        wanted_ids = {self.page_session, self.devices["firefox"].session_id,
                      self.devices["iphone"].session_id}
        if ids != wanted_ids:
            raise Failure(f"the page lists sessions {ids}, wanted {wanted_ids}")
        marked = [item["id"] for item in items if item["thisDevice"] or item["ariaCurrent"]]
        if marked != [self.page_session]:
            raise Failure(f"marked as this device: {marked}, wanted only {self.page_session}")
        by_id = {item["id"]: item for item in items}
        iphone, firefox = by_id[self.devices["iphone"].session_id], by_id[self.devices["firefox"].session_id]
        if not iphone["refreshed"] or firefox["refreshedText"] != "not yet":
            raise Failure(f"last refreshed: the iPhone's {iphone}, Firefox's {firefox}")
        if [item["button"] for item in items].count("Sign out") != 2:
            raise Failure(f"the buttons: {[item['button'] for item in items]}")
        starts = [item["started"] for item in items]
        if starts != sorted(starts, reverse=True):
            raise Failure(f"not newest first: {starts}")
        self.items_match_the_api(items)
        if not firefox["device"].startswith("Firefox"):
            raise Failure(f"Firefox on Linux shows as {firefox['device']!r}")

    def delete_needs_csrf(self):
        target = self.devices["firefox"].session_id
        missing = self.page_fetch("DELETE", f"/sessions/{target}")
        if missing != (401, {"msg": "Missing CSRF token"}):
            raise Failure(f"DELETE /sessions/{{id}} without X-CSRF-TOKEN: {missing}")
        others = self.page_fetch("POST", "/logout?scope=others")
        if others != (401, {"msg": "Missing CSRF token"}):
            raise Failure(f"POST /logout?scope=others without X-CSRF-TOKEN: {others}")
        if len(self.api_sessions()) != 3:
            raise Failure(f"a request without X-CSRF-TOKEN ended a session: {self.api_sessions()}")

    def sign_out_one_other(self):
        target = self.devices["firefox"].session_id
        start = len(self.log_lines())
        self.session_button(target).click()
        self.wait_for("the list without the signed-out session",
                      lambda: len(self.session_items()) == 2
                      and self.text("sessions-message").startswith("Signed out: "),
                      failed=lambda: self.text("sessions-message").startswith("Not signed out"))
        if f"DELETE /sessions/{target} → 204" not in self.log_lines()[start:]:
            raise Failure(f"the requests: {self.log_lines()[start:]}")
        ids = {item["id"] for item in self.session_items()}
        if ids != {self.page_session, self.devices["iphone"].session_id}:
            raise Failure(f"the list after signing Firefox out: {self.session_items()}")
        self.revoked("firefox")
        alive = self.devices["iphone"].refresh()
        if alive[0] != 200:
            raise Failure(f"the iPhone's refresh after Firefox was signed out: {alive}")
        if self.status() != f"Logged in as {USERNAME}":
            raise Failure(f"status: {self.status()!r}")
        again = self.page_fetch("DELETE", f"/sessions/{target}",
                                {"X-CSRF-TOKEN": self.browser_cookies()["csrf_access_token"]["value"]})
        if again != (404, {"msg": "Session not found"}):
            raise Failure(f"DELETE of the session ended already: {again}")

    def hostile_user_agent_shown_as_text(self):
        hostile = self.log_in_from("hostile", HOSTILE_USER_AGENT)
        items = self.reload_sessions(3)
        item = next((item for item in items if item["id"] == hostile.session_id), None)
        listed = next(session for session in hostile.sessions() if session["id"] == hostile.session_id)
        if item is None or item["device"] != device_name(listed["device"]):
            raise Failure(f"the hostile login shows as {item}; the API says {listed['device']}")
        self.items_match_the_api(items)
        self.no_markup_injected()

    def renderers_keep_markup_as_text(self):
        # The API shows nothing of a user agent but a known product's name and version digits
        # (auth-devices), so markup never reaches the page through it. The page must not
        # depend on that: its own items, made from values that are all markup, hold them as
        # text. Made apart from the document; an <img> made from markup would still load, and
        # its onerror run, there.
        made = self.driver.execute_script("""
            const hostile = arguments[0];
            const item = sessionItem({
                id: hostile, started_at: hostile, last_refreshed_at: hostile,
                ip_address: hostile, device: {browser: hostile, os: hostile},
                amr: [hostile], current: true,
            });
            const table = document.createElement("table");
            const body = document.createElement("tbody");
            body.append(activityRow({
                id: hostile, event: hostile, outcome: hostile, detail: hostile, at: hostile,
                ip_address: hostile, device: {browser: hostile, os: hostile},
                session_id: hostile,
            }));
            table.append(body);
            const elements = (root) => Array.from(root.querySelectorAll("*"), e => e.localName);
            return {
                item: elements(item), row: elements(table),
                itemText: item.textContent, rowText: table.textContent,
                itemId: item.dataset.sessionId,
            };""", HOSTILE_MARKUP)
        problems = []
        if "img" in made["item"] + made["row"]:
            problems.append(f"elements made: {made['item']}, {made['row']}")
        for part in ("itemText", "rowText"):
            if made[part].count(HOSTILE_MARKUP) < 4:
                problems.append(f"{part} does not hold the markup as text: {made[part]!r}")
        if made["itemId"] != HOSTILE_MARKUP:
            problems.append(f"the item's data-session-id is {made['itemId']!r}")
        if problems:
            raise Failure("; ".join(problems))
        self.no_markup_injected()

    def sessions_paged(self):
        for name in ("tablet", "laptop", "phone"):
            self.log_in_from(name, CHROME_WINDOWS)
        first_page = [item["id"] for item in self.reload_sessions(SESSIONS_PAGE)]
        if not self.shown("sessions-more"):
            raise Failure(f"5 of 6 sessions shown, and no 'More sessions': {self.text('sessions-count')!r}")
        start = len(self.log_lines())
        self.click("sessions-more")
        self.wait_for("the sixth session under the first five",
                      lambda: len(self.session_items()) == 6 and not self.shown("sessions-more"))
        more = f"GET /sessions?limit={SESSIONS_PAGE}&cursor="
        if not any(line.startswith(more) for line in self.log_lines()[start:]):
            raise Failure(f"the requests of 'More': {self.log_lines()[start:]}")
        items = self.session_items()
        if [item["id"] for item in items[:SESSIONS_PAGE]] != first_page:
            raise Failure(f"'More' changed the first page: {first_page}, then {items}")
        self.items_match_the_api(items)
        if self.text("sessions-count") != "6 sessions shown.":
            raise Failure(f"the count says {self.text('sessions-count')!r}")

    def sign_out_everywhere_else(self):
        start = len(self.log_lines())
        self.click("sessions-others")
        self.wait_for("this device alone in the list",
                      lambda: len(self.session_items()) == 1
                      and self.text("sessions-message")
                      == "Signed out everywhere else: this session goes on.",
                      failed=lambda: self.text("sessions-message").startswith("Not signed out"))
        if "POST /logout?scope=others → 200 (Successfully logged out)" not in self.log_lines()[start:]:
            raise Failure(f"the requests: {self.log_lines()[start:]}")
        item = self.session_items()[0]
        if item["id"] != self.page_session or item["thisDevice"] != "This device":
            raise Failure(f"the one left: {item}")
        self.revoked("iphone", "hostile", "tablet", "laptop", "phone")
        held = set(self.browser_cookies()) & (TOKEN_COOKIES | CSRF_COOKIES)
        if held != TOKEN_COOKIES | CSRF_COOKIES:
            raise Failure(f"the page's cookies after 'everywhere else': {sorted(held)}")
        start = len(self.log_lines())
        self.click("reload-button")
        self.wait_for("the profile loaded again",
                      lambda: "GET /profile → 200" in self.log_lines()[start:],
                      failed=lambda: self.status() != f"Logged in as {USERNAME}")

    def activity_tells_the_story(self):
        wanted = [  # oldest first: (event, outcome, detail, who)
            ("login", "failure", "wrong_password", "page"),
            ("login", "success", None, "page"),
            ("login", "success", None, "firefox"),
            ("login", "success", None, "iphone"),
            ("refresh", "success", None, "iphone"),
            ("session_ended", "success", "by_user", "page"),
            ("login", "success", None, "hostile"),
            ("login", "success", None, "tablet"),
            ("logout", "success", "others", "page"),
        ]
        devices = self.device_names

        def story_in(rows):
            story = iter(reversed(rows))
            return all(any((row["event"], row["outcome"], row["detail"]) == step[:3]
                           and row["device"] == devices[step[3]] for row in story)
                       for step in wanted)

        def all_pages():
            request = f"GET /account/activity?limit={ACTIVITY_PAGE}"
            before = self.answers(request)
            self.click("activity-reload")
            self.wait_for("the first page of activity",
                          lambda: self.answers(request) > before and self.activity_rows())
            while self.shown("activity-more"):
                before = len(self.activity_rows())
                self.click("activity-more")
                self.more_clicks += 1
                self.wait_for("the next page of activity",
                              lambda: len(self.activity_rows()) > before
                              or not self.shown("activity-more"))
            return story_in(self.activity_rows())

        # The log is written without waiting: an entry may land a moment after its answer.
        self.wait_for("the story's events in the activity list, in order", all_pages, timeout=20)
        rows = self.activity_rows()
        if self.more_clicks < 1 or len(rows) <= ACTIVITY_PAGE:
            raise Failure(f"{len(rows)} events, 'More activity' clicked {self.more_clicks} times")
        times = [row["at"] for row in rows]
        if times != sorted(times, reverse=True):
            raise Failure(f"not newest first: {times}")
        status, body = self.page_fetch("GET", "/account/activity?limit=100")
        if status != 200 or [event["id"] for event in body["events"]] != [row["id"] for row in rows]:
            raise Failure(f"the page shows {[row['id'] for row in rows]}; the API: {status} {body}")
        ended = next(row for row in rows if row["event"] == "session_ended")
        if ended["detailText"] != "by you by_user" or ended["ip"] != "127.0.0.1":
            raise Failure(f"the session_ended row: {ended}")
        self.no_markup_injected()

    def sign_out_this_device(self):
        start = len(self.log_lines())
        self.session_button(self.page_session).click()
        self.wait_for("the page to say it is logged out",
                      lambda: self.status() == "You are logged out")
        lines = self.log_lines()[start:]
        for wanted in (f"DELETE /sessions/{self.page_session} → 204",
                       "POST /logout → 200 (Successfully logged out)"):
            if wanted not in lines:
                raise Failure(f"no {wanted!r} in the requests: {lines}")
        left = sorted(set(self.browser_cookies()) & (TOKEN_COOKIES | CSRF_COOKIES))
        if left:
            raise Failure(f"the browser still holds {left}")
        if self.shown("sessions-section") or self.shown("activity-section") \
                or self.session_items() or self.activity_rows():
            raise Failure("the sessions or the activity still show once logged out")


def pyotp_totp(secret):
    import pyotp
    return pyotp.TOTP(secret)


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(f"{name}: {detail}" if detail else name)


def cookie_steps(run):
    """The login flow against the server of 3-second access tokens: (name, step, needed later)."""
    return [
        ("the page loads from its own origin and names the API", run.page_loads, True),
        ("the API answers the page's CORS preflight", run.preflight, False),
        ("a wrong password shows the API's message, and no placeholder looks filled in",
         run.wrong_password_says_why, False),
        ("logging in through the page shows the profile", run.log_in, True),
        ("the login set the four cookies with their attributes", run.cookies_set, False),
        ("each csrf_* cookie is its token's csrf claim", run.csrf_claims, False),
        ("no token is readable by the page (document.cookie, storage, DOM, globals)",
         run.no_token_readable, False),
        ("the API refuses the page's POST without or with a wrong X-CSRF-TOKEN",
         run.csrf_enforced, False),
        ("reloading the page resumes the session", run.reload_resumes, True),
        ("past the access lifetime the page refreshes by itself and shows the profile again",
         run.refreshes_by_itself, True),
        ("after the refresh, still no token readable by the page", run.no_token_readable, False),
        ("logging out through the page: the profile is refused after it", run.log_out, True),
        ("logout cleared every cookie", run.cookies_cleared, False),
        ("GET /profile from the page after logout is refused (401)", run.profile_refused, False),
        ("the cookies of before the logout, put back, are refused (the session is revoked)",
         run.logged_out_cookies_revoked, False),
    ]


def account_steps(accounts):
    """The account screens against the second server: (name, step, needed later)."""
    return [
        ("accounts: the API answers the page's preflight for each account route",
         accounts.preflights, False),
        ("sign-up: the API's message for a bad address, then a weak password, beside its field",
         accounts.sign_up_field_messages, False),
        ("sign-up: the page says to check the mail; one mail, its link to the page",
         accounts.sign_up, True),
        ("sign-up: the resend button says a new link is on its way", accounts.resend, False),
        ("the unconfirmed account's login: the page says 'Email not confirmed'",
         accounts.unconfirmed_login_refused, False),
        ("the mailed link opens the confirmation screen, the token out of the address bar, "
         "nothing confirmed without the button", accounts.link_opens_confirmation, True),
        ("'Confirm my address' logs in: the profile of the new account, a change-password form",
         accounts.confirm, True),
        ("after the confirmation, no token is readable by the page", accounts.no_token_readable,
         False),
        ("change password: a wrong current password, the API's message beside the field",
         accounts.wrong_current_password, False),
        ("change password: too short a new password, the API's message beside the field",
         accounts.weak_new_password, False),
        ("change password after a refresh: 'Fresh token required', log in again",
         accounts.refreshed_session_not_fresh, False),
        ("change password after a new login: changed, the session goes on",
         accounts.change_after_login, True),
        ("log out; the old password is refused, the new one logs in",
         lambda: accounts.old_password_refused_new_one_works(accounts.passwords[0],
                                                             accounts.passwords[1]), False),
        ("a dead reset link: the page says so and offers the forgot-password form",
         accounts.dead_reset_link, False),
        ("forgot password: the page says a link is on its way; the reset mail comes",
         accounts.forgot_password, True),
        ("the reset link: checked first (POST /verify), then the new-password form, the token "
         "out of the address bar", accounts.reset_link_checked, True),
        ("reset: too short a password, the API's message beside the field",
         accounts.weak_reset_password, False),
        ("reset: the page says to log in with the new password", accounts.reset, True),
        ("the newest password logs in; the one before the reset is refused",
         accounts.newest_password_logs_in, False),
        ("the reset link, opened again, is dead", accounts.reset_link_used_up, False),
        ("the confirmation link, used again, is dead, and the page offers a new one",
         accounts.confirm_link_used_up, False),
    ]


def mfa_steps(mfa):
    """The second factor through the page: (name, step, needed later)."""
    return [
        ("2FA: a password login says 'Two-factor: off', and how the session signed in",
         mfa.password_login, True),
        ("2FA: 'Turn on' shows a QR code (the page's own shapes) and the secret",
         mfa.turn_on_shows_qr_and_secret, True),
        ("2FA: a wrong code is refused beside the field; pyotp's code turns it on, ten "
         "recovery codes shown", mfa.wrong_then_right_code_turns_on, True),
        ("2FA: the recovery codes go once kept; log out", mfa.recovery_codes_shown_once, True),
        ("2FA: the password alone sets no cookie: the page asks for a code",
         mfa.login_asks_for_a_code, True),
        ("2FA: a used code is refused; the next one logs in, and the page says how",
         mfa.used_code_refused_next_one_logs_in, True),
        ("2FA: after the second step, no token is readable by the page", mfa.no_token_readable,
         False),
        ("2FA: 'use a recovery code instead' logs in with one", mfa.recovery_code_logs_in, True),
        ("2FA: new recovery codes, none of the ones before", mfa.new_recovery_codes, False),
        ("2FA: off with a code; the password alone logs in again", mfa.turn_off_with_a_code,
         True),
        ("2FA: the password alone logs in again", mfa.password_alone_again, False),
    ]


def sessions_steps(sessions):
    """Where you're signed in, and the activity log, through the page: (name, step, needed
    later)."""
    return [
        ("sessions: a wrong password, then a login through the page: this device listed alone",
         sessions.page_login_lists_one_session, True),
        ("sessions: two more logins from other devices: three listed, exactly one this device, "
         "as GET /sessions says", sessions.other_devices_listed, True),
        ("sessions: DELETE /sessions/{id} and POST /logout?scope=others need X-CSRF-TOKEN",
         sessions.delete_needs_csrf, False),
        ("sessions: 'Sign out' of another device: two listed, its refresh token revoked",
         sessions.sign_out_one_other, True),
        ("sessions: a User-Agent of markup shows as the API's text: no element, no alert",
         sessions.hostile_user_agent_shown_as_text, True),
        ("sessions, activity: the page's items hold markup from the API as text",
         sessions.renderers_keep_markup_as_text, False),
        ("sessions: six sessions, five a page: 'More sessions' shows the sixth",
         sessions.sessions_paged, True),
        ("sessions: 'Sign out everywhere else': this device alone, every other refresh token "
         "revoked, the page still logged in", sessions.sign_out_everywhere_else, True),
        ("activity: the story's events in order, paged, as GET /account/activity says",
         sessions.activity_tells_the_story, False),
        ("sessions: 'Sign out this device': logged out, every cookie cleared",
         sessions.sign_out_this_device, False),
    ]


def run_steps(run, steps):
    """Each step a check; after a failed one that later ones need, those fail as not run."""
    for index, (name, step, needed_later) in enumerate(steps):
        try:
            step()
            check(name, True)
        except Exception as error:  # noqa: BLE001 - a failed step is a failed check
            detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
            check(name, False, detail)
            run.save(name)
            if needed_later:
                for later, _, _ in steps[index + 1:]:
                    check(later, False, f"not run: {name!r} failed")
                return


def run_checks(run, accounts, mfa, sessions):
    run_steps(run, cookie_steps(run))
    # Both servers set their cookies on `localhost` (cookies ignore ports): none of the first
    # flow's go to the second server.
    run.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    run_steps(accounts, account_steps(accounts))
    # Whatever the account screens left, the second factor starts logged out.
    run.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    run_steps(mfa, mfa_steps(mfa))
    run.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    run_steps(sessions, sessions_steps(sessions))
    run_steps(run, [("the console shows no CORS, CSP or script error", run.console_clean, False)])


def main():
    # Killed, it still stops its server and browser: SystemExit unwinds through the finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    made_artifacts = not os.environ.get("BROWSER_TEST_ARTIFACTS")
    artifacts = pathlib.Path(tempfile.mkdtemp(prefix="browser-test-") if made_artifacts
                             else os.environ["BROWSER_TEST_ARTIFACTS"])
    artifacts.mkdir(parents=True, exist_ok=True)
    driver_log = artifacts / "chromedriver.log"
    started = time.monotonic()
    mail_dir = artifacts / "mail"
    server = accounts_server = sessions_server = driver = run = None
    try:
        for path, what in ((LOCAL_API_BIN, "cargo build -p local-api"),
                           (CHROMIUM, "apt-get install chromium"),
                           (CHROMEDRIVER, "apt-get install chromium-driver")):
            if not os.access(path, os.X_OK):
                raise Failure(f"{path} is missing: {what}")
        server = Server("the demo page", access_seconds=ACCESS_SECONDS)
        accounts_server = Server("the demo page's accounts", mail_dir=mail_dir)
        sessions_server = Server("the demo page's sessions")
        driver = start_browser(driver_log)
        print(f"Chromium {driver.capabilities.get('browserVersion')}, page {server.page}, "
              f"API {server.api}, access tokens for {ACCESS_SECONDS} s; accounts: page "
              f"{accounts_server.page}, API {accounts_server.api}, mail in {mail_dir}; sessions: "
              f"page {sessions_server.page}, API {sessions_server.api}")
        run = Run(driver, server, artifacts)
        run_checks(run, AccountRun(run, accounts_server, mail_dir),
                   MfaRun(run, accounts_server), SessionsRun(run, sessions_server))
    except Exception as error:  # noqa: BLE001 - a run that cannot start is one failure
        detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
        check("start local-api with the demo page, and Chromium", False, detail)
    finally:
        if failures:
            if run is not None:
                run.collect_console()
                (artifacts / "console.json").write_text(json.dumps(run.console, indent=2))
                if not run.shots:
                    run.save("end")
            if server is not None:
                (artifacts / "local-api.log").write_text(server.output())
            if accounts_server is not None:
                (artifacts / "local-api-accounts.log").write_text(accounts_server.output())
            if sessions_server is not None:
                (artifacts / "local-api-sessions.log").write_text(sessions_server.output())
        if driver is not None:
            driver.quit()
        for running in (server, accounts_server, sessions_server):
            if running is not None:
                running.stop()
    for failure in failures:
        print(f"FAILED {failure}")
    if failures:
        print(f"The failed run's screenshots, HTML, console and logs: {artifacts}")
    elif made_artifacts:
        shutil.rmtree(artifacts, ignore_errors=True)
    else:
        driver_log.unlink(missing_ok=True)
        shutil.rmtree(mail_dir, ignore_errors=True)
    print(f"({time.monotonic() - started:.1f} s)")
    print(f"browser: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

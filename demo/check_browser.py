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
8. the browser's console shows no CORS or Content-Security-Policy error.

Prints each failure, then 'browser: N passed, M failed'; exits non-zero on any failure. A
failed run saves screenshots, the page's HTML, the browser's console, the server's and
chromedriver's logs in a directory it prints ($BROWSER_TEST_ARTIFACTS, else a new one in /tmp).
"""
import base64
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
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "interop"))
from local_api import BINARY as LOCAL_API_BIN, LocalApi  # noqa: E402 - found through the path above
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ACCESS_SECONDS = 3
# How often the page reloads the profile by itself (the config.js local-api makes says so).
PAGE_RELOAD_SECONDS = 2
USERNAME, PASSWORD = "cosmo", "space-corgi"
TOKEN_COOKIES = {"access_token_cookie", "refresh_token_cookie"}
CSRF_COOKIES = {"csrf_access_token", "csrf_refresh_token"}
# A JWT as text: a base64url JSON header (`{"` is `eyJ`), a dot, a payload.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

passed, failures = 0, []


class Failure(Exception):
    """A step that did not go as the contract says; its message says what was seen."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server(LocalApi):
    """local-api in cookie mode with the demo page (local_api.py starts it)."""

    def __init__(self):
        self.demo_port = free_port()
        self.page = f"http://localhost:{self.demo_port}"
        env = {
            "DEMO_PORT": str(self.demo_port),
            "JWT_TOKEN_LOCATION": "cookies",
            "CORS_ALLOWED_ORIGINS": self.page,
            "JWT_ACCESS_TOKEN_EXPIRES": f"{ACCESS_SECONDS}s",
        }
        try:
            super().__init__("the demo page", env,
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

    def log_lines(self):
        """The page's request log, each line without its ' ×N' count."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#log li'), li => li.dataset.line);")

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

    def preflight(self):
        request = urllib.request.Request(self.server.api + "/login", method="OPTIONS", headers={
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
            raise Failure(f"OPTIONS /login from {self.server.page}: {status} {allowed}")

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

    def log_in(self):
        from selenium.webdriver.common.by import By
        for element_id, value in (("username", USERNAME), ("password", PASSWORD)):
            field = self.driver.find_element(By.ID, element_id)
            field.clear()
            field.send_keys(value)
        self.driver.find_element(By.ID, "login-button").click()
        self.wait_for(f"'Logged in as {USERNAME}'",
                      lambda: self.status() == f"Logged in as {USERNAME}",
                      failed=lambda: self.status().startswith(("Login failed", "You are logged out:")))
        profile = self.profile()
        if not profile or profile.get("logged_in_as") != USERNAME:
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


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(f"{name}: {detail}" if detail else name)


def run_checks(run):
    steps = [
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
        ("the console shows no CORS, CSP or script error", run.console_clean, False),
    ]
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


def main():
    # Killed, it still stops its server and browser: SystemExit unwinds through the finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    made_artifacts = not os.environ.get("BROWSER_TEST_ARTIFACTS")
    artifacts = pathlib.Path(tempfile.mkdtemp(prefix="browser-test-") if made_artifacts
                             else os.environ["BROWSER_TEST_ARTIFACTS"])
    artifacts.mkdir(parents=True, exist_ok=True)
    driver_log = artifacts / "chromedriver.log"
    started = time.monotonic()
    server = driver = run = None
    try:
        for path, what in ((LOCAL_API_BIN, "cargo build -p local-api"),
                           (CHROMIUM, "apt-get install chromium"),
                           (CHROMEDRIVER, "apt-get install chromium-driver")):
            if not os.access(path, os.X_OK):
                raise Failure(f"{path} is missing: {what}")
        server = Server()
        driver = start_browser(driver_log)
        print(f"Chromium {driver.capabilities.get('browserVersion')}, page {server.page}, "
              f"API {server.api}, access tokens for {ACCESS_SECONDS} s")
        run = Run(driver, server, artifacts)
        run_checks(run)
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
        if driver is not None:
            driver.quit()
        if server is not None:
            server.stop()
    for failure in failures:
        print(f"FAILED {failure}")
    if failures:
        print(f"The failed run's screenshots, HTML, console and logs: {artifacts}")
    elif made_artifacts:
        shutil.rmtree(artifacts, ignore_errors=True)
    else:
        driver_log.unlink(missing_ok=True)
    print(f"({time.monotonic() - started:.1f} s)")
    print(f"browser: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

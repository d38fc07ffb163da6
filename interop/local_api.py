"""The built local-api binary as a child process, for the checks that drive it over HTTP
(check_jwks.py, check_cookies.py, check_mfa.py, demo/check_browser.py): on a free port, with
only the configuration the check gives it, stopped however the check ends, its output kept for
a failure's report.
"""
import os
import pathlib
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = os.environ.get("LOCAL_API_BIN", str(ROOT / "target" / "debug" / "local-api"))
# Printed once the socket listens: the server takes requests from then on.
LISTENING = "JWT auth API listening on "
# What of the caller's environment would configure the server behind the check's back.
CONFIGURATION_PREFIXES = ("JWT_", "CORS_", "DEMO_", "UPSTREAM_", "MFA_")
CONFIGURATION_NAMES = ("PORT", "USERS_TABLE", "SESSIONS_TABLE")


class LocalApi:
    """local-api with `env` over a clean environment; `url` is where it listens. `ready`, given
    the output so far, says whether whatever else the check waits for has started too."""

    def __init__(self, label, env, ready=None, timeout=15):
        self.label = label
        clean = {name: value for name, value in os.environ.items()
                 if not name.startswith(CONFIGURATION_PREFIXES) and name not in CONFIGURATION_NAMES}
        self.log = tempfile.NamedTemporaryFile(prefix="local-api-", suffix=".log", delete=False)
        self.process = subprocess.Popen([BINARY], env={**clean, "PORT": "0", **env},
                                        stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.url = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            for line in output.splitlines():
                if line.startswith(LISTENING):
                    self.url = line.removeprefix(LISTENING).strip()
            if self.url and (ready is None or ready(output)):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        output = self.output()
        self.stop()
        raise RuntimeError(f"{label}: local-api did not start (exit {self.process.returncode}):\n"
                           + output)

    def output(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        pathlib.Path(self.log.name).unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

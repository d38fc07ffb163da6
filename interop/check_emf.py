"""Our metric lines against AWS's own Embedded Metric Format library.

interop/emf_lines.json pins every line a function can write (auth_core::metrics, pinned byte for
byte by a Rust test). For each, aws-embedded-metrics, the library AWS publishes for writing
EMF, builds the document for the same metric: namespace JwtAuth, the dimension sets [Event]
and [Function, Event], one Count of the event, the same timestamp. The two must be the same
JSON document, and ours must be one line ending in a newline, as CloudWatch Logs reads a log
event.

Prints each failure, then 'interop: N passed, M failed'; exits non-zero on any failure.
"""

import json
import sys
from pathlib import Path

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer

HERE = Path(__file__).resolve().parent
NAMESPACE = "JwtAuth"


def theirs(function: str, event: str, timestamp_ms: int) -> dict:
    context = MetricsContext.empty()
    context.namespace = NAMESPACE
    # Without the library's default dimensions (service name, log group, environment).
    context.set_dimensions(
        [{"Event": event}, {"Function": function, "Event": event}], use_default=False
    )
    context.put_metric(event, 1, "Count")
    context.meta["Timestamp"] = timestamp_ms
    documents = LogSerializer.serialize(context)
    assert len(documents) == 1, documents
    return json.loads(documents[0])


def main() -> int:
    pinned = json.loads((HERE / "emf_lines.json").read_text())
    passed, failures = 0, []

    def check(ok: bool, what: str) -> None:
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)

    seen = set()
    for entry in pinned:
        function, event, line = entry["function"], entry["event"], entry["line"]
        name = f"{function}/{event}"
        seen.add(event)
        check(
            line.endswith("\n") and "\n" not in line[:-1],
            f"{name}: not one newline-terminated line: {line!r}",
        )
        ours = json.loads(line)
        expected = theirs(function, event, entry["timestamp_ms"])
        check(
            ours == expected,
            f"{name}: ours {json.dumps(ours, sort_keys=True)}\n"
            f"  aws-embedded-metrics {json.dumps(expected, sort_keys=True)}",
        )
    events = {
        "login_succeeded", "login_failed", "login_throttled", "refresh_reuse_detected",
        "revoked_token_presented", "logout", "store_unavailable",
        # The self-service routes' (issue 28).
        "signed_up", "signup_confirmed", "recovery_requested", "password_changed",
        "password_reset", "mail_sent", "mail_failed", "ip_throttled",
        # The second factor's (issue 29).
        "mfa_challenged", "mfa_failed", "mfa_locked", "recovery_code_used", "mfa_enrolled",
        "mfa_removed",
        # The activity log's and the sessions a user ends (issue 30).
        "activity_write_failed", "session_ended",
    }
    check(seen == events, f"the pinned lines cover {sorted(seen)}, not {sorted(events)}")

    for failure in failures:
        print("FAILED", failure)
    print(f"interop: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

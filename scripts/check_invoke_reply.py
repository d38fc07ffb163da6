"""Checks what `sam local invoke` printed for an event against the reply the event documents.

    python scripts/check_invoke_reply.py EVENT_FILE REPLY_FILE

Prints nothing and exits 0 when the reply matches; prints the difference and exits 1 otherwise.
The rules are those of lambda_emulator::events::Expected::check_gateway_reply, which the Rust
tests apply to the same events, so the two checks cannot drift apart in what they accept.
"""

import json
import sys

# `users add` stamps every DynamoDB record with its creation time; the events document the seed
# app's record, which has none. It must be there, and is then left out of the comparison.
ADDED_BY_DYNAMODB = ("created_at",)


def is_jwt(value):
    return isinstance(value, str) and value.count(".") == 2


def difference(expected, reply):
    """What is wrong with `reply` (API Gateway payload 2.0), or None."""
    if not isinstance(reply, dict) or "statusCode" not in reply:
        # An invocation error ({"errorType", "errorMessage"}) or no reply at all.
        return f"not an API Gateway reply: {json.dumps(reply)}"
    if reply.get("isBase64Encoded") is True:
        return "a base64-encoded body for a JSON reply"
    headers = {name.lower(): value for name, value in (reply.get("headers") or {}).items()}
    try:
        body = json.loads(reply.get("body") or "")
    except ValueError as error:
        return f"body {reply.get('body')!r} is not JSON: {error}"

    status = reply["statusCode"]
    if status != expected["statusCode"]:
        return f"status {status}, expected {expected['statusCode']}; body {json.dumps(body)}"
    if headers.get("content-type") != "application/json":
        return f"content-type {headers.get('content-type')!r}"
    if status == 401 and headers.get("www-authenticate") != "Bearer":
        return "a 401 without WWW-Authenticate: Bearer"

    wanted = expected.get("body")
    if isinstance(wanted, dict) and "username" in wanted and isinstance(body, dict):
        for field in ADDED_BY_DYNAMODB:
            if body.pop(field, None) is None:
                return f"no {field} in the user's record {json.dumps(body)}"
    if "body" in expected and body != wanted:
        return f"body {json.dumps(body)}, expected {json.dumps(wanted)}"

    if "bodyKeys" in expected:
        if not isinstance(body, dict):
            return f"body {json.dumps(body)} is not an object"
        if sorted(body) != sorted(expected["bodyKeys"]):
            return f"body keys {sorted(body)}, expected {sorted(expected['bodyKeys'])}"
        for key in expected["bodyKeys"]:
            if not is_jwt(body[key]):
                return f"{key} is not a JWT: {json.dumps(body[key])}"
    return None


def main(event_path, reply_path):
    with open(event_path, encoding="utf-8") as file:
        expected = json.load(file)["expected"]
    with open(reply_path, encoding="utf-8") as file:
        text = file.read()
    try:
        reply = json.loads(text)
    except ValueError:
        print(f"not JSON on stdout: {text.strip()[:300]!r}")
        return 1
    why = difference(expected, reply)
    if why:
        print(why)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

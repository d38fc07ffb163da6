"""A proxy in front of moto that gives each request a network's latency: it reaches moto half
FLOOR_MS after it came in (the way there), and its answer leaves no sooner than FLOOR_MS after.

Moto is one Python process on the benchmark's own machine: two requests sent together are
worked on one after the other, so a route that sends two writes at once (a login's settlement
and its session's start) pays for both, where DynamoDB, whose latency is mostly the network's,
answers both in about the time of one; and moto's work on a write the answer did not wait for
(an activity entry) takes CPU from the very answer being timed, where DynamoDB's work is on
other machines. Behind this proxy moto's time is hidden inside the floor for as long as moto
keeps up, and its work starts when the answer that sent it is already on its way: a benchmark
through it measures round trips and the service's own work, not moto. Each answer that took
moto longer than its half of the floor is counted and reported at the end (then the floor is
too low).

    python latency_floor_proxy.py UPSTREAM_URL FLOOR_MS
Prints "listening on PORT" once ready; on SIGTERM prints how many answers missed the floor, and moto's
time for each operation.
"""

import http.client
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream = urllib.parse.urlsplit(sys.argv[1])
floor = float(sys.argv[2]) / 1000
late = {"count": 0, "total": 0}
moto_times = {}  # operation (X-Amz-Target) -> moto's times, seconds
counting = threading.Lock()
connections = threading.local()


def upstream_connection():
    if getattr(connections, "open", None) is None:
        connections.open = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
    return connections.open


class Floor(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

    def do_POST(self):
        arrived = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(max(0.0, arrived + floor / 2 - time.perf_counter()))
        forwarded = time.perf_counter()
        headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
        try:
            connection = upstream_connection()
            connection.request("POST", self.path, body, headers)
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException):
            connections.open = None
            connection = upstream_connection()
            connection.request("POST", self.path, body, headers)
            answer = connection.getresponse()
        payload = answer.read()
        took = time.perf_counter() - forwarded
        operation = self.headers.get("X-Amz-Target", "?").rsplit(".", 1)[-1]
        with counting:
            moto_times.setdefault(operation, []).append(took)
            late["total"] += 1
            late["count"] += took > floor / 2
        time.sleep(max(0.0, arrived + floor - time.perf_counter()))
        self.send_response_only(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Floor)
server.daemon_threads = True


def report(*_):
    print(f"{late['count']} of {late['total']} answers took moto longer than half the floor", flush=True)
    for operation, times in sorted(moto_times.items()):
        times.sort()
        print(f"  {operation}: {len(times)} requests, moto's median {times[len(times) // 2] * 1000:.1f} ms,"
              f" slowest {times[-1] * 1000:.1f} ms", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, report)
print(f"listening on {server.server_address[1]}", flush=True)
server.serve_forever()

"""The servers and the runs of scripts/load-vs-flask (which installs what this needs)."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "load-benchmark-secret-0123456789abcdef0123"
DURATION = os.environ.get("DURATION", "8s")
CONCURRENCY = [int(c) for c in os.environ.get("CONCURRENCY", "1 16 64").split()]
ROUTES = [("GET", "/profile", "access_token"), ("POST", "/refresh", "refresh_token")]
POST_SCRIPT = os.path.join(ROOT, "target", "wrk-post.lua")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
            continue
        return
    sys.exit(f"{url} did not come up")


def drain(stream):
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def start_ours():
    port = free_port()
    env = dict(os.environ, PORT=str(port), JWT_SECRET_KEY=SECRET, LOGIN_MAX_FAILURES="0",
               RUST_LOG="warn")
    process = subprocess.Popen([os.path.join(ROOT, "target/release/local-api")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    drain(process.stdout)
    return process, f"http://127.0.0.1:{port}"


def start_flask():
    port = free_port()
    gunicorn = os.path.join(ROOT, ".venv/bin/gunicorn")
    process = subprocess.Popen(
        [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--chdir", os.path.join(ROOT, "interop"), f"reference_app:create_app('{SECRET}')"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    drain(process.stdout)
    return process, f"http://127.0.0.1:{port}"


def login(base):
    request = urllib.request.Request(
        base + "/login", data=json.dumps({"username": "cosmo", "password": "space-corgi"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def peak_rss_mib(pid):
    """VmHWM of the process and its children (gunicorn's workers), in MiB."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(child) for child in f.read().split()]
    except OSError:
        pass
    total = 0
    for each in pids:
        try:
            with open(f"/proc/{each}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            pass
    return total / 1024


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(base, method, path, token, connections):
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}", "--latency",
               "-H", f"Authorization: Bearer {token}"]
    if method == "POST":
        command += ["-s", POST_SCRIPT]
    output = subprocess.run(command + [base + path], capture_output=True, text=True,
                            check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = to_ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1))
    p99 = to_ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        sys.exit(f"{base}{path}: {errors.group(1)} answers were not 200:\n{output}")
    return rate, p50, p99


def main():
    os.makedirs(os.path.dirname(POST_SCRIPT), exist_ok=True)
    with open(POST_SCRIPT, "w") as f:
        f.write('wrk.method = "POST"\n')
    servers = {"ours (local-api, release)": start_ours(), "Flask (gunicorn, 2 workers)": start_flask()}
    rows = []
    try:
        for name, (process, base) in servers.items():
            wait_until_up(base + "/profile")
            tokens = login(base)
            for method, path, token in ROUTES:
                for connections in CONCURRENCY:
                    rate, p50, p99 = run_wrk(base, method, path, tokens[token], connections)
                    rows.append((name, f"{method} {path}", connections, rate, p50, p99))
                    print(f"  {name:30} {method} {path:9} c={connections:<3} {rate:10.0f} req/s"
                          f"  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms", flush=True)
        peaks = {name: peak_rss_mib(process.pid) for name, (process, _) in servers.items()}
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)

    print(f"\n{os.cpu_count()} CPUs, wrk {DURATION} per run\n")
    print("| route | concurrency | ours: requests/s | Flask: requests/s | ratio | ours: p50 / p99 ms | Flask: p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|")
    names = list(servers)
    for method, path, _ in ROUTES:
        for connections in CONCURRENCY:
            ours, flask = (next(r for r in rows if r[0] == n and r[1] == f"{method} {path}" and r[2] == connections)
                           for n in names)
            print(f"| `{method} {path}` | {connections} | {ours[3]:,.0f} | {flask[3]:,.0f} | {ours[3] / flask[3]:.1f}× "
                  f"| {ours[4]:.2f} / {ours[5]:.2f} | {flask[4]:.2f} / {flask[5]:.2f} |")
    print(f"\npeak RSS: ours {peaks[names[0]]:.1f} MiB, Flask {peaks[names[1]]:.1f} MiB (master and workers)")
    chart(rows, names)


def chart(rows, names):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = [(f"{m} {p}", c) for m, p, _ in ROUTES for c in CONCURRENCY]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    width = 0.38
    for index, name in enumerate(names):
        rates = [next(r[3] for r in rows if r[0] == name and r[1] == g[0] and r[2] == g[1]) for g in groups]
        axis.bar([i + (index - 0.5) * width for i in range(len(groups))], rates, width, label=name)
    axis.set_xticks(range(len(groups)), [f"{g[0]}\nc={g[1]}" for g in groups], fontsize=8)
    axis.set_yscale("log")
    # Room above the bars for the legend.
    axis.set_ylim(top=max(r[3] for r in rows) * 5)
    axis.set_ylabel("requests/s (log scale)")
    axis.set_title("Requests per second, side by side on one 2-core machine (wrk)")
    axis.legend(loc="upper left", ncol=2)
    figure.tight_layout()
    path = os.path.join(ROOT, "docs", "load-vs-flask.png")
    figure.savefig(path, dpi=100)
    print(f"chart: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()

# Sourced by the project's scripts: the Python tools in .venv and a moto server of their own.
# shellcheck shell=bash

# Installs requirements-dev.txt into .venv when it changed (a stamp holds its hash).
# ensure_venv_of VENV REQUIREMENTS: VENV holds exactly REQUIREMENTS, reinstalled from scratch
# when that file changes (a stamp in VENV holds its hash).
ensure_venv_of() {
  local venv=$1 requirements=$2 stamp="$1/.requirements.sha256" wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    # A half-made virtualenv from an interrupted run is rebuilt from scratch.
    rm -rf "$venv"
    if python3 -m venv "$venv"; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    else
      # Debian's python3 without python3-venv has no ensurepip: install with the system's pip.
      rm -rf "$venv"
      python3 -m venv --without-pip "$venv"
      python3 -m pip --python "$venv/bin/python" install --quiet --disable-pip-version-check -r "$requirements"
    fi || return 1
    echo "$wanted" >"$stamp"
  fi
}

# The test command's Python tools (SAM CLI, cfn-lint, moto, the interop clients).
ensure_venv() { ensure_venv_of .venv requirements-dev.txt; }

# checkov, in a virtualenv of its own: it pins boto3 where the SAM CLI needs another
# (requirements-checkov.txt says which).
ensure_checkov_venv() { ensure_venv_of .venv-checkov requirements-checkov.txt; }

# A free TCP port on ADDRESS.
free_port() {
  .venv/bin/python -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# Starts moto_server (a DynamoDB-compatible server) on ADDRESS and a free port, logging to
# LOG, and waits until it answers. It runs through moto_server.py, which answers one request at
# a time, as atomic per item as DynamoDB (see there); with MOTO_THREADED=1 it is moto's own
# threaded server, for timings, where serialising a function's concurrent reads would charge
# it for moto's lock. Sets moto_pid and moto_endpoint; stop it with stop_moto.
start_moto() {
  local address=$1 log=$2 port
  port=$(free_port "$address")
  local server=(.venv/bin/python scripts/lib/moto_server.py)
  if [ "${MOTO_THREADED:-0}" = 1 ]; then
    server=(.venv/bin/moto_server)
  fi
  "${server[@]}" -H "$address" -p "$port" >"$log" 2>&1 &
  moto_pid=$!
  moto_endpoint="http://$address:$port"
  for _ in $(seq 1 150); do
    if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$moto_endpoint/moto-api/')" 2>/dev/null; then
      echo "moto_server (pid $moto_pid) at $moto_endpoint"
      return 0
    fi
    kill -0 "$moto_pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$log" >&2
  echo "moto_server did not start on $address:$port" >&2
  return 1
}

stop_moto() {
  if [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null; then
    wait "$moto_pid" 2>/dev/null || true
  fi
  moto_pid=""
}

# The Rust target of Lambda's arm64 (Graviton), for `sam build` of the deployed architecture.
ensure_arm64_target() {
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    rustup target add aarch64-unknown-linux-gnu
  fi
}

# cargo-fuzz, pinned, installed into Cargo's bin directory when missing.
CARGO_FUZZ_VERSION=0.13.2
ensure_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> Installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
}

# Debian's chromium and chromium-driver, for scripts/browser-test, installed with apt-get when
# either is missing, as scripts/sam-local-invoke installs docker.io.
ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    return 0
  fi
  apt_install chromium chromium-driver || return 1
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
}

# Node.js with npm (Debian's nodejs and npm when node is missing), and the pinned verifiers of
# interop/node (aws-jwt-verify, jose) installed from its package-lock.json into its
# node_modules, never globally. Installed again only when the lock file changes.
ensure_node_modules() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm || return 1
  fi
  local stamp=interop/node/node_modules/.package-lock.sha256
  local wanted
  wanted=$(sha256sum interop/node/package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return 0
  fi
  (cd interop/node && npm ci --no-audit --no-fund --loglevel=error) || return 1
  echo "$wanted" >"$stamp"
}

# Debian's qemu-user-static and libc6-arm64-cross, for running the arm64 bootstraps (what
# deploys) on an x86_64 machine (lambda-emulator's machine.rs), installed with apt-get when
# missing (root only), as ensure_chromium installs Chromium. On an arm64 machine, nothing.
ensure_qemu_arm64() {
  if [ "$(uname -m)" = aarch64 ]; then
    return 0
  fi
  local qemu_on_path='command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null'
  if eval "$qemu_on_path" && [ -d /usr/aarch64-linux-gnu/lib ]; then
    return 0
  fi
  apt_install qemu-user-static libc6-arm64-cross || return 1
  eval "$qemu_on_path" && [ -d /usr/aarch64-linux-gnu/lib ]
}

# apt_install PACKAGE...: installs Debian packages (root and apt-get only), the package lists
# updated only if the install fails without it.
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "$* missing, and installing them needs root and apt-get" >&2
    return 1
  fi
  echo "==> Installing $* (apt-get)"
  local install=(apt-get install -y -qq --no-install-recommends "$@")
  local log
  log=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >"$log" 2>&1; then
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive "${install[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "could not install $* with apt-get (see above)" >&2
      return 1
    fi
  fi
  rm -f "$log"
}

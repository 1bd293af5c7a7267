#!/usr/bin/env bash
# Installs what paved needs on a fresh machine, then returns. Idempotent: a second run does nothing.
#   scripts/setup.sh test   everything the test suite needs (npm packages, Prometheus, cluster binaries)
#   scripts/setup.sh run    what the controller needs (the cluster binaries only when no cluster is given)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
say() { printf '[paved setup] %s\n' "$*" >&2; }
fail() { printf '[paved setup] ERROR: %s\n' "$1" >&2; [ -n "${2:-}" ] && printf '[paved setup]   remedy: %s\n' "$2" >&2; exit 1; }

# Node.js 20 or newer.
command -v node >/dev/null || fail "Node.js is not installed" "install Node.js 20 or newer"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old" "install Node.js 20 or newer"

# npm packages, when missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# The portal's bundle (web/ -> web/dist, served by the API under /), when missing or older than its sources.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/vite.config.ts package-lock.json -newer web/dist/index.html -print -quit)" ]; then
  say "building the portal (vite build web/)"
  npx vite build --config web/vite.config.ts --logLevel warn >&2
fi

# The browser of the portal's end-to-end test: Debian's chromium package (never a downloaded browser).
if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  command -v apt-get >/dev/null || fail "/usr/bin/chromium is missing and this is not a Debian-like system" "install Chromium at /usr/bin/chromium"
  [ "$(id -u)" = 0 ] || fail "/usr/bin/chromium is missing and installing it needs root" "run: sudo apt-get install -y chromium"
  say "installing Debian's chromium (apt-get install -y chromium)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
    || fail "apt-get could not install chromium" "check the network to the Debian mirrors, then run: apt-get install -y chromium"
fi

# What to build (scripts/build-cluster.ts caches each in ~/.cache/paved; a warm run only checks):
#   --cluster     the local cluster (control plane with kubectl, kwok) and the official third-party CRDs
#   --prometheus  Prometheus 3 and promtool, built from tools/prometheus (tests, and the local stack)
# With a cluster given (PAVED_TEST_KUBECONFIG for tests, KUBECONFIG or in-cluster for run) the local
# cluster is not built; tests still install the third-party CRDs and still run their own Prometheus.
given_cluster=0
if [ "$mode" = test ]; then
  [ -n "${PAVED_TEST_KUBECONFIG:-}" ] && given_cluster=1
else
  { [ -n "${KUBECONFIG:-}" ] || [ -n "${KUBERNETES_SERVICE_HOST:-}" ]; } && given_cluster=1
fi
build_args=()
if [ "$given_cluster" = 0 ]; then build_args+=(--cluster); elif [ "$mode" = test ]; then build_args+=(--crds); fi
if [ "$mode" = test ] || [ "$given_cluster" = 0 ]; then build_args+=(--prometheus); fi
if [ "${#build_args[@]}" -gt 0 ]; then
  command -v go >/dev/null || fail "the Go toolchain is not installed: the local cluster, Prometheus and the third-party CRDs come from Go modules" \
    "install Go 1.26 or newer (https://go.dev/dl, or your package manager) and put go on PATH"
  node --import tsx scripts/build-cluster.ts "${build_args[@]}"
fi

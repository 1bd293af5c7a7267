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

# Prometheus and promtool from Debian's package (tests, and the local stack of the main job).
need_prometheus=1
[ "$mode" = run ] && { [ -n "${KUBECONFIG:-}" ] || [ -n "${KUBERNETES_SERVICE_HOST:-}" ]; } && need_prometheus=0
if [ "$need_prometheus" = 1 ] && ! { command -v prometheus >/dev/null && command -v promtool >/dev/null; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's prometheus package (prometheus + promtool)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
  else
    fail "prometheus and promtool are not installed" "as root: apt-get install prometheus (or put both on PATH)"
  fi
fi

# The local cluster's binaries (built from the Kubernetes Go modules, cached in ~/.cache/paved).
if [ "$mode" = test ] && [ -z "${PAVED_TEST_KUBECONFIG:-}" ] || { [ "$mode" = run ] && [ -z "${KUBECONFIG:-}" ] && [ -z "${KUBERNETES_SERVICE_HOST:-}" ]; }; then
  node --import tsx scripts/build-cluster.ts
fi

#!/usr/bin/env bash
# Installs the Debian packages trustgate's tests use, when they are missing, and says so.
#   docker-registry: the CNCF distribution registry, the real upstream in end-to-end tests
#   skopeo:          a real client pulling through trustgate
#   redis-server:    shared state (trust store, verdict cache) in the Redis adapter tests
#   openssl:         test CAs and certificates
#   prometheus:      for promtool, which checks the shipped alert rules and Prometheus config
#                    (test/deploy). The package also holds the Prometheus server, which Debian
#                    enables as a service (on :9090) where systemd runs.
#   containerd:      containerd and ctr (runc comes with it): a node's runtime pulling through trustgate
#                    (test/e2e/containerd.test.ts starts its own, in a temp dir, and needs root). Debian
#                    enables it as a service where systemd runs; the test never uses that one.
#   chromium:        the headless browser test/browser/ drives with playwright-core (the security
#                    console at /admin/ui/); nothing is downloaded at test time.
set -euo pipefail
declare -A needs=([docker-registry]=/usr/bin/docker-registry [skopeo]=/usr/bin/skopeo [redis-server]=/usr/bin/redis-server [openssl]=/usr/bin/openssl [prometheus]=/usr/bin/promtool [containerd]=/usr/bin/containerd [chromium]=/usr/bin/chromium)
missing=()
for pkg in "${!needs[@]}"; do
  [ -x "${needs[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "trustgate tests: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "trustgate tests: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "trustgate tests: installed ${missing[*]}" >&2

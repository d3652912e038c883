#!/usr/bin/env bash
# Installs what shardgate needs on a Debian/Ubuntu machine with Node.js 20+,
# then builds it. Safe to run again: it installs only what is missing.
#   scripts/setup.sh           runtime: the pushgateway binary, npm packages
#   scripts/setup.sh test      + what the test suite drives (Prometheus and promtool,
#                              kubectl, the Python and Go clients, curl, dnsmasq)
#   scripts/setup.sh bench     + what the benchmarks drive (nginx)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

need=()
command -v prometheus-pushgateway >/dev/null 2>&1 || command -v pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
if [ "$purpose" = test ]; then
  /usr/bin/python3 -c 'import prometheus_client' >/dev/null 2>&1 || need+=(python3-prometheus-client)
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
  # Any kubectl will do (it is only run client-side); Debian's is kubernetes-client.
  command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
  # The Go client test builds against Debian's client_golang sources, offline.
  command -v go >/dev/null 2>&1 || need+=(golang-go)
  [ -d /usr/share/gocode/src/github.com/prometheus/client_golang/prometheus/push ] || need+=(golang-github-prometheus-client-golang-dev)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  # The status page test drives Debian's Chromium (puppeteer-core downloads no browser); the TLS tests make certificates with openssl.
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # The DNS membership source is tested against a real dnsmasq on loopback.
  command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
  # Several replicas coordinate through a real etcd in the tests (the package's own service is not used).
  [ -x /usr/bin/etcd ] || need+=(etcd-server)
fi
if [ "$purpose" = bench ]; then
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "shardgate setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "shardgate setup: missing ${need[*]}; install with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<18)) { console.error("shardgate needs Node.js >= 20.18.1, found "+process.version); process.exit(1) }'
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build

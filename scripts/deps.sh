#!/usr/bin/env bash
# deps.sh - install the Debian packages Trapline needs to build, run and test.
# Installs only what is missing, so a second run costs one dpkg query.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh --test   ... and everything the test suite and benchmarks use
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config liburcu-dev libsqlite3-dev libjansson-dev
	libevent-dev libssl-dev libgmime-3.0-dev libsodium-dev libmicrohttpd-dev libcurl4-openssl-dev)
# swaks, postfix (its smtp-source, smtp-sink and smtpd): the spamtrap's tests and bench/smtp.sh;
# curl, chromium, nodejs (and npm where node comes without it): the web pages' tests;
# wrk and nginx: bench/web.sh (nginx is run by the bench with its own config, never as a service);
# strace, man-db, groff-base, e2fsprogs: test_unit.sh (system calls against the unit's filter),
# test_man.sh (the pages render), test_disk_full.sh (an ext4 image that turns read-only).
# prometheus: its promtool checks GET /metrics (test_metrics.sh); Debian ships promtool only in
# it, and policy-rc.d below keeps its server from starting.
# nsd, knot and bind9: the zone transfer tests and bench/transfer.sh run them as secondaries (and
# NSD as the bench's reference primary) with their own config in a temp dir, never as services.
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev dnsutils knot-dnsutils rbldnsd
	spamassassin bind9-utils python3 iproute2 procps
	swaks libio-socket-inet6-perl libnet-ssleay-perl libio-socket-ssl-perl postfix openssl
	util-linux stress curl chromium nodejs wrk nginx-light fonts-dejavu-core strace man-db groff-base e2fsprogs
	prometheus nsd knot bind9)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")
# Debian's nodejs ships npm separately; a nodejs from elsewhere brings its own.
[ "${1:-}" = "--test" ] && ! command -v npm >/dev/null && want+=(npm)

# The browser test's npm packages, from the lock file (puppeteer-core: it drives the system's
# Chromium and never downloads a browser).
browser_npm() {
	local dir
	dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
	[ -d "$dir/node_modules/puppeteer-core" ] && return 0
	echo "deps.sh: npm ci in tests/browser"
	(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

# Packages whose service must not run here: the tests start their own instances on loopback
# ports they pick, and a system instance would hold port 53 and the packages' state files.
# policy-rc.d keeps them from starting at install; this also keeps them from starting at boot.
no_services() {
	local unit
	command -v systemctl >/dev/null || return 0
	for unit in nsd knot named prometheus; do
		systemctl list-unit-files "$unit.service" 2>/dev/null | grep -q "^$unit" || continue
		systemctl disable --now "$unit" >/dev/null 2>&1 || true
	done
}

# The service's own user (started as root, it runs as this user): make run and the tests, which
# run as root, need it as much as an installed system.
user_sh="$(cd "$(dirname "$0")" && pwd)/user.sh"

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	"$user_sh"
	[ "$(id -u)" -ne 0 ] || no_services
	[ "${1:-}" = "--test" ] && browser_npm
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# rbldnsd, spamassassin and postfix ship services; policy-rc.d keeps them from starting here,
# the tests start their own instances on loopback ports they pick. Postfix asks what kind of
# mail server this is: none (the tests give their instance a private configuration).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ "$made_policy" = 1 ] && rm -f "$policy"
no_services
"$user_sh"
[ "${1:-}" = "--test" ] && browser_npm
exit 0

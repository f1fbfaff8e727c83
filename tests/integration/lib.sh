# lib.sh - shared pieces of the integration tests: ports, temp dir, server start/stop, checks.
#
# Sourced by each tests/integration/test_*.sh. Needs TRAPLINE (the binary) and TRAPLINE_SRC
# (the source tree) in the environment, as ctest sets them. Every check prints one
# "ok - <check>" or "not ok - <check>" line; tl_finish prints "N passed, M failed" and exits
# non-zero if any check failed.

set -u

: "${TRAPLINE:?TRAPLINE must name the trapline binary}"
: "${TRAPLINE_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TL_DIR="$TRAPLINE_SRC/tests/integration"
TL_PY="$TL_DIR/dnsraw.py"
TL_ZONE=bl.example.org

TL_PASSED=0
TL_FAILED=0
TL_FAILED_NAMES=()
TL_PIDS=()       # every server we started, so the exit trap can stop what is still running
TL_LAST_PID=
TL_LAST_LOG=
PORT=
SMTP_PORT=       # the trap's SMTP port of the last tl_start
TL_DATA=         # the data directory of the last tl_start
HPORT=           # the web pages' port when TL_HTTP=1 (tl_start)

# Sanitizer builds are several times slower: stretch every wait. ctest's asan target sets
# TRAPLINE_SANITIZED=1; a binary that carries the ASan runtime is detected too.
TL_SLOW=1
if [ -n "${TRAPLINE_SANITIZED:-}" ] || grep -qa __asan_init "$TRAPLINE" 2>/dev/null; then
	TL_SLOW=4
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
fi

TL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/trapline-it.XXXXXX")
chmod 755 "$TL_TMP"
# The user the service runs as when the tests run as root (the config key user's default).
TL_USER=trapline

# tl_mkdata DIR: a data directory made ready for the service as an operator would (mkdir, and
# as root chown to the service's user): Trapline takes over only a directory it creates itself.
tl_mkdata() {
	mkdir -p "$1" || return 1
	[ "$(id -u)" -ne 0 ] || chown "$TL_USER:" "$1"
}

tl_cleanup() {
	local pid
	for pid in "${TL_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TL_TMP"
}
trap tl_cleanup EXIT
trap 'exit 130' INT TERM

# ---- checks ---------------------------------------------------------------------------

tl_ok() {
	TL_PASSED=$((TL_PASSED + 1))
	echo "ok - $1"
}

# tl_fail NAME [DETAIL...]: the check failed; the details go to the output, indented.
tl_fail() {
	local name=$1
	shift
	TL_FAILED=$((TL_FAILED + 1))
	TL_FAILED_NAMES+=("$name")
	echo "not ok - $name"
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/    # /'
	done
}

tl_skip() {
	echo "ok - $1 # SKIP ${2:-}"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		tl_ok "$1"
	else
		tl_fail "$1" "expected: $2" "got:      $3"
	fi
}

# check_match NAME ERE TEXT: TEXT (any line of it) matches the extended regex.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		tl_ok "$1"
	else
		tl_fail "$1" "expected a match for: $2" "in: $3"
	fi
}

# check_nomatch NAME ERE TEXT: no line of TEXT matches.
check_nomatch() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		tl_fail "$1" "unexpected match for: $2" "in: $3"
	else
		tl_ok "$1"
	fi
}

# check_cmd NAME CMD...: the command succeeds.
check_cmd() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		tl_ok "$name"
	else
		tl_fail "$name" "command failed: $*" "$out"
	fi
}

tl_finish() {
	local skipped=""
	echo "$TL_PASSED passed, $TL_FAILED failed"
	if [ "$TL_FAILED" -gt 0 ]; then
		echo "failed checks:" >&2
		printf '  %s\n' "${TL_FAILED_NAMES[@]}" >&2
		if [ -n "$TL_LAST_LOG" ] && [ -f "$TL_LAST_LOG" ]; then
			echo "--- last 30 lines of the server log ($TL_LAST_LOG) ---" >&2
			tail -n 30 "$TL_LAST_LOG" >&2
		fi
		exit 1
	fi
	exit 0
}

# tl_die MESSAGE: a precondition failed (the server would not start, ...): report and stop.
tl_die() {
	tl_fail "$1" "${@:2}"
	tl_finish
}

# ---- ports ----------------------------------------------------------------------------

# tl_free_port [v6]: prints a port free for UDP and TCP on 127.0.0.1 (and ::1 with "v6").
# The sockets are closed again, so the caller must still handle losing a race (tl_start does).
tl_free_port() {
	python3 - "${1:-}" <<'EOF'
import socket, sys
want6 = sys.argv[1] == "v6"
for _ in range(50):
    held = []
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held.append(u)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.append(t)
        t.bind(("127.0.0.1", port))
        if want6:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET6, kind)
                held.append(s)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind(("::1", port))
        print(port)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in held:
            s.close()
sys.exit("no free port found")
EOF
}

tl_have_ipv6() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null
}

# ---- the server -----------------------------------------------------------------------

# tl_wait_ready PORT [ZONE [SECONDS]]: until the server answers the RFC 5782 test point
# 2.0.0.127.ZONE over UDP. Any answer counts (a config file may name another zone: REFUSED),
# since the server loads its zone before it opens its sockets.
tl_wait_ready() {
	local port=$1 zone=${2:-$TL_ZONE} limit=$(( ${3:-10} * TL_SLOW )) start=$SECONDS out
	while [ $((SECONDS - start)) -lt "$limit" ]; do
		if [ -n "$TL_LAST_PID" ] && ! kill -0 "$TL_LAST_PID" 2>/dev/null; then
			return 1
		fi
		out=$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 "2.0.0.127.$zone" A 2>/dev/null)
		if printf '%s\n' "$out" | grep -q 'status: '; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# tl_start [--v6] [serve options...]: starts `trapline serve` on a free port with its own data
# dir and log; sets PORT, SMTP_PORT, TL_DATA, TL_LAST_PID, TL_LAST_LOG (and HPORT with
# TL_HTTP=1). The --dns option is added here (with --v6: 127.0.0.1 and [::1] on the same port),
# --smtp on another free port unless the options name one (never the default 2525: tests run in
# parallel), and --http off unless TL_HTTP=1 or the options name one. Retries with another port
# if the first is taken between picking and binding (parallel tests). Stops the test if the
# server never answers.
TL_NSTARTS=0
tl_start() {
	local v6="" try data log dns zone=$TL_ZONE a prev="" own_smtp="" smtp=() own_http="" http=()
	if [ "${1:-}" = "--v6" ]; then
		v6=v6
		shift
	fi
	local own_data=1
	for a in "$@"; do
		[ "$prev" = --zone ] && zone=$a
		case $a in --data | --data=*) own_data=0 ;; esac
		[ "$prev" = --data ] && TL_DATA=$a
		case $a in --smtp | --smtp=*) own_smtp=1 ;; esac
		case $a in --http | --http=*) own_http=1 ;; esac
		prev=$a
	done
	for try in 1 2 3; do
		TL_NSTARTS=$((TL_NSTARTS + 1))
		PORT=$(tl_free_port $v6) || tl_die "pick a free port"
		data="$TL_TMP/data$TL_NSTARTS"
		log="$TL_TMP/server$TL_NSTARTS.log"
		case " $* " in *" --data "*) ;; *) TL_DATA=$data ;; esac
		dns="127.0.0.1:$PORT"
		[ -n "$v6" ] && dns="$dns,[::1]:$PORT"
		# A test's own --data, --smtp and --http win; a second one would be refused. The web
		# pages only where a test asks for them (TL_HTTP=1), each time on a free port (HPORT);
		# elsewhere off, so parallel tests never meet on 8080.
		local data_opt=()
		[ "$own_data" = 1 ] && data_opt=(--data "$data")
		if [ -z "$own_smtp" ]; then
			SMTP_PORT=$(tl_free_port) || tl_die "pick a free port"
			smtp=(--smtp "127.0.0.1:$SMTP_PORT")
		fi
		if [ -z "$own_http" ]; then
			http=(--http off)
			if [ -n "${TL_HTTP:-}" ]; then
				HPORT=$(tl_free_port) || tl_die "pick a free HTTP port"
				http=(--http "127.0.0.1:$HPORT")
			fi
		fi
		"$TRAPLINE" serve "${data_opt[@]}" --dns "$dns" --log-level debug "${smtp[@]}" \
			"${http[@]}" "$@" 2>"$log" >>"$log" &
		TL_LAST_PID=$!
		TL_LAST_LOG=$log
		TL_PIDS+=("$TL_LAST_PID")
		if tl_wait_ready "$PORT" "$zone"; then
			return 0
		fi
		if kill -0 "$TL_LAST_PID" 2>/dev/null; then
			kill -KILL "$TL_LAST_PID" 2>/dev/null
			wait "$TL_LAST_PID" 2>/dev/null
			tl_die "server answers on port $PORT" "the server runs but did not answer within $((10 * TL_SLOW)) s" \
				"$(tail -n 20 "$log")"
		fi
		wait "$TL_LAST_PID" 2>/dev/null
		# Exited: only a lost port race is worth another try.
		if ! grep -Eqi 'addr.*in use|EADDRINUSE|bind|cannot listen' "$log"; then
			break
		fi
	done
	tl_die "server starts (trapline serve $*)" "$(tail -n 20 "$log")"
}

# tl_stop [PID]: SIGTERM, then the server must be gone within 5 s and have exited 0.
# Prints the check result; returns non-zero if it failed.
tl_stop() {
	local pid=${1:-$TL_LAST_PID} limit=$((50 * TL_SLOW)) i=0 rc
	kill -TERM "$pid" 2>/dev/null || { tl_fail "server (pid $pid) still running at stop"; return 1; }
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $limit ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		tl_fail "server stops on SIGTERM within $((5 * TL_SLOW)) s"
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tl_fail "server exits 0 on SIGTERM" "exit status $rc" "$(tail -n 20 "$TL_LAST_LOG")"
		return 1
	fi
	tl_ok "server stops cleanly on SIGTERM (exit 0)"
}

# ---- clients --------------------------------------------------------------------------

# tl_dig NAME TYPE [dig options...]: full dig output against the server on $PORT (UDP unless +tcp).
tl_dig() {
	local name=$1 type=$2
	shift 2
	dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 +norecurse "$name" "$type" "$@" 2>&1
}

# tl_kdig NAME TYPE [kdig options...]
tl_kdig() {
	local name=$1 type=$2
	shift 2
	kdig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +retry=0 +norecurse +noidn "$name" "$type" "$@" 2>&1
}

# Parsers for dig and kdig output (both print ";; ANSWER SECTION:" etc.).
# (kdig spells NOTIMP "NOTIMPL"; dig's spelling is used.)
rcode_of() { printf '%s\n' "$1" | grep -Eo 'status: [A-Z]+' | head -n 1 | cut -d' ' -f2 | sed 's/^NOTIMPL$/NOTIMP/'; }
flags_of() { printf '%s\n' "$1" | grep -Ei '^;; flags:' | head -n 1 | sed -E 's/^;; [Ff]lags: *([^;]*);.*/\1/'; }
has_flag() { flags_of "$1" | tr ' ' '\n' | grep -qx "$2"; }
has_opt() { printf '%s\n' "$1" | grep -Eq '^;; (OPT|EDNS) PSEUDOSECTION'; }

# section_of OUTPUT ANSWER|AUTHORITY|ADDITIONAL: the records of one section, one per line,
# fields separated by single spaces ("owner ttl class type data").
section_of() {
	printf '%s\n' "$1" | awk -v s=";; $2 SECTION:" '
		$0 == s { on = 1; next }
		on && ($0 == "" || /^;;/) { on = 0 }
		on { $1 = $1; print }'
}

# rr_count OUTPUT SECTION [TYPE]
rr_count() {
	if [ -n "${3:-}" ]; then
		section_of "$1" "$2" | awk -v t="$3" '$4 == t' | grep -c .
	else
		section_of "$1" "$2" | grep -c .
	fi
}

# rev4 1.2.3.4 -> 4.3.2.1 ; rev6 2001:db8::1 -> nibble-reversed labels
rev4() { echo "$1" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }'; }
rev6() {
	python3 -c 'import ipaddress,sys; print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))))' "$1"
}

# tl_poll TENTHS WANT CMD...: until CMD prints WANT, at most TENTHS/10 s (times TL_SLOW).
tl_poll() {
	local n=$1 want=$2 _
	shift 2
	for _ in $(seq 1 $((n * TL_SLOW))); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# ip_rcode_of IP: the status the server on $PORT answers for IP's A record in $TL_ZONE
# (NOERROR, NXDOMAIN, ...; "timeout" when nothing came back).
ip_rcode_of() {
	local out rc
	out=$(dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 "$(rev4 "$1").$TL_ZONE" A 2>/dev/null)
	rc=$(rcode_of "$out")
	echo "${rc:-timeout}"
}
# check_ip_nx NAME IP [TENTHS]: IP is not listed: DNS answers NXDOMAIN (not SERVFAIL, REFUSED,
# a timeout or NODATA), within TENTHS/10 s (1 s), and still does after the writer's next
# publication could have changed it (0.3 s), so that a check right after a change does not pass
# on the answer from before the change.
check_ip_nx() {
	local name=$1 ip=$2 got
	if ! tl_poll "${3:-10}" NXDOMAIN ip_rcode_of "$ip"; then
		tl_fail "$name" "expected: NXDOMAIN" "got: $(ip_rcode_of "$ip") $(ip_a_of "$ip")"
		return
	fi
	sleep "$(awk -v s="$TL_SLOW" 'BEGIN { print 0.3 * s }')"
	got=$(ip_rcode_of "$ip")
	if [ "$got" = NXDOMAIN ]; then tl_ok "$name"; else tl_fail "$name" "expected: NXDOMAIN" "got: $got $(ip_a_of "$ip")"; fi
}
# run_ok CMD...: a command that must succeed quietly (a step of a test, not a check): exit 0
# and nothing on stderr, where a sanitizer's report would be. Otherwise a failed check that
# shows the command and what it said.
run_ok() {
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$err" ]; then
		tl_fail "command: $*" "exit status $rc" "$err"
		return 1
	fi
	return 0
}
# ip_a_of IP: the first A record the server on $PORT answers for IP in $TL_ZONE ("": none).
ip_a_of() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$(rev4 "$1").$TL_ZONE" A 2>/dev/null | head -n 1; }
# wait_ip_a IP WANT [TENTHS]: until IP answers WANT ("" = no address), within TENTHS/10 s (1 s).
wait_ip_a() { tl_poll "${3:-10}" "$2" ip_a_of "$1"; }
# check_ip_a NAME IP WANT [TENTHS]: the same as a check. WANT "" (not listed) is check_ip_nx.
check_ip_a() {
	if [ -z "$3" ]; then
		check_ip_nx "$1" "$2" "${4:-}"
		return
	fi
	if wait_ip_a "$2" "$3" "${4:-}"; then tl_ok "$1"; else tl_fail "$1" "expected: '$3'" "got: '$(ip_a_of "$2")'"; fi
}

# ---- the spamtrap -----------------------------------------------------------------------

# tl_smtp_greets [PORT]: the trap on PORT ($SMTP_PORT) greets with 220 within a second.
tl_smtp_greets() {
	python3 - "${1:-$SMTP_PORT}" "$TL_SLOW" <<'EOF' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=float(sys.argv[2]))
ok = s.recv(512).startswith(b"220 ")
s.sendall(b"QUIT\r\n")
s.close()
sys.exit(0 if ok else 1)
EOF
}

# tl_swaks [swaks options...]: swaks against the trap on $SMTP_PORT, bounded in time.
tl_swaks() {
	timeout $((30 * TL_SLOW)) swaks --server 127.0.0.1 --port "$SMTP_PORT" \
		--timeout $((10 * TL_SLOW)) "$@" 2>&1
}

# tl_db SQL: a query on the store of the last tl_start (read-only, beside the service).
tl_db() {
	python3 - "$TL_DATA" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s/trapline.db?mode=ro" % sys.argv[1], uri=True, timeout=5)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
EOF
}

# ---- the web pages ----------------------------------------------------------------------

# tl_wait_http [SECONDS]: until the web pages on $HPORT answer.
tl_wait_http() {
	local limit=$(( ${1:-10} * TL_SLOW * 10 )) _
	for _ in $(seq 1 "$limit"); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HPORT/static/style.css" && return 0
		sleep 0.1
	done
	return 1
}
# tl_http PATH [curl options...]: the body of a GET on the web pages ($HPORT).
tl_http() {
	local path=$1
	shift
	curl -s --max-time $((5 * TL_SLOW)) "$@" "http://127.0.0.1:$HPORT$path"
}
# tl_http_status PATH [curl options...]: only the status code.
tl_http_status() {
	tl_http "$1" -o /dev/null -w '%{http_code}' "${@:2}"
}

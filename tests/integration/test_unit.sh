#!/usr/bin/env bash
# test_unit.sh - the systemd unit as `make install` writes it: its paths are those of the prefix,
# `systemd-analyze verify` accepts it (offline: systemd need not be PID 1), `systemd-analyze
# security` rates it at most UNIT_MAX_EXPOSURE, and the service starts the way the unit starts
# it: as its user, with nothing but the ambient CAP_NET_BIND_SERVICE (a port below 1024
# answers; without the capability it stops with a line that says what is missing).
source "$(dirname "$0")/lib.sh"

# The score the README states for systemd 252 is 1.4; newer systemd versions weigh the same
# settings a little differently, hence the margin.
UNIT_MAX_EXPOSURE=2.0

if ! command -v systemd-analyze >/dev/null; then
	tl_skip "the systemd unit" "systemd-analyze is not installed (apt-get install systemd)"
	tl_finish
fi
BUILD=$(dirname "$TRAPLINE")
PREFIX=$TL_TMP/prefix
out=$(cmake --install "$BUILD" --prefix "$PREFIX" 2>&1) || tl_die "cmake --install" "$out"
UNIT=$PREFIX/lib/systemd/system/trapline.service
[ -f "$UNIT" ] || tl_die "make install puts trapline.service in PREFIX/lib/systemd/system" "$out"
tl_ok "make install puts trapline.service in PREFIX/lib/systemd/system"

check_match "ExecStart is the installed binary with the installed configuration" \
	"^ExecStart=$PREFIX/bin/trapline serve --config $PREFIX/etc/trapline/trapline.conf\$" \
	"$(cat "$UNIT")"
[ -f "$PREFIX/etc/trapline/trapline.conf" ] && tl_ok "the configuration it names is installed" ||
	tl_fail "the configuration it names is installed"

# Documentation= names trapline(8) and trapline.conf(5): verify looks them up, in the prefix.
out=$(MANPATH="$PREFIX/share/man" systemd-analyze verify "$UNIT" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
	tl_ok "systemd-analyze verify accepts the unit"
else
	tl_fail "systemd-analyze verify accepts the unit" "exit $rc" "$out"
fi

out=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>&1)
score=$(printf '%s\n' "$out" | sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" -v m="$UNIT_MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
	tl_ok "systemd-analyze security: exposure $score <= $UNIT_MAX_EXPOSURE"
else
	tl_fail "systemd-analyze security: exposure ${score:-?} <= $UNIT_MAX_EXPOSURE" \
		"$(printf '%s\n' "$out" | grep -E '✗|Overall')"
fi

# ---- started as the unit starts it ----------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! getent passwd "$TL_USER" >/dev/null; then
	tl_skip "started as $TL_USER with CAP_NET_BIND_SERVICE" "needs root, setpriv and the user $TL_USER"
	tl_finish
fi
# A port below 1024 that nothing holds on 127.0.0.1 (UDP and TCP), and a free one for the trap.
LOW=$(python3 - <<'EOF'
import random, socket, sys
ports = list(range(600, 1000))
random.shuffle(ports)
for p in ports:
    held = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            held.append(s)
            s.bind(("127.0.0.1", p))
        print(p)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in held:
            s.close()
sys.exit("no free port below 1000")
EOF
) || tl_die "a free port below 1024"
SMTP=$(tl_free_port) && HPORT=$(tl_free_port) || tl_die "pick a free port"
# StateDirectory=: systemd makes the data directory, the service's user owns it.
DATA=$TL_TMP/state
tl_mkdata "$DATA"
chmod 750 "$DATA"
as_unit() {
	setpriv --reuid="$TL_USER" --regid="$TL_USER" --init-groups --no-new-privs "$@"
}
SERVE=("$PREFIX/bin/trapline" serve --config "$PREFIX/etc/trapline/trapline.conf"
	--data "$DATA" --dns "127.0.0.1:$LOW" --smtp "127.0.0.1:$SMTP" --http "127.0.0.1:$HPORT")

# Without the capability: it stops at once, saying what it lacks.
log=$TL_TMP/nocap.log
as_unit --inh-caps=-all --bounding-set=-all timeout $((20 * TL_SLOW)) "${SERVE[@]}" >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
	tl_ok "without CAP_NET_BIND_SERVICE, port $LOW: it exits (status $rc)"
else
	tl_fail "without CAP_NET_BIND_SERVICE, port $LOW: it exits" "status $rc" "$(tail -5 "$log")"
fi
check_match "... saying that the port needs CAP_NET_BIND_SERVICE" \
	"addr=127.0.0.1:$LOW .*below 1024 needs root .*CAP_NET_BIND_SERVICE" \
	"$(cat "$log")"

# With it (AmbientCapabilities=CAP_NET_BIND_SERVICE, CapabilityBoundingSet= the same), under
# strace when there is one: the system calls it makes are checked against the unit's filter.
log=$TL_TMP/cap.log
STRACE=()
TRACE=$TL_TMP/trace
# Not under the sanitizers: their runtime makes calls of its own, and LeakSanitizer does not
# work under ptrace.
if command -v strace >/dev/null && [ "$TL_SLOW" = 1 ]; then
	mkdir -p "$TRACE" && chown "$TL_USER:" "$TRACE"
	STRACE=(strace -f -qq -o "$TRACE/st")
fi
printf 'trap_domains = trap.example\nexclude_default = 127.0.0.0/8, ::1/128\n' >"$TL_TMP/unit.conf"
SERVE[3]=$TL_TMP/unit.conf
setpriv --reuid="$TL_USER" --regid="$TL_USER" --init-groups --no-new-privs \
	--inh-caps=-all,+net_bind_service --ambient-caps=+net_bind_service \
	--bounding-set=-all,+net_bind_service "${STRACE[@]}" "${SERVE[@]}" >"$log" 2>&1 &
TL_LAST_PID=$!
TL_LAST_LOG=$log
TL_PIDS+=("$TL_LAST_PID")
if tl_wait_ready "$LOW" "$TL_ZONE" 20; then
	tl_ok "as $TL_USER with the ambient CAP_NET_BIND_SERVICE, DNS answers on port $LOW"
else
	tl_fail "as $TL_USER with the ambient CAP_NET_BIND_SERVICE, DNS answers on port $LOW" \
		"$(tail -5 "$log")"
fi
check_nomatch "no privilege drop or chown attempted (it is not root)" \
	"level=error|dropped privileges|cannot give|chown" "$(cat "$log")"
others=$(find "$DATA" ! -user "$TL_USER" 2>/dev/null)
check_eq "every file in the data directory is $TL_USER's" "" "$others"

# What a day of service does: DNS over UDP and TCP, a trap hit with STARTTLS, a command
# through the control socket (the listing it makes is published), and the stop.
check_eq "DNS over TCP answers" 127.0.0.2 \
	"$(dig @127.0.0.1 -p "$LOW" +tcp +short +time=$((2 * TL_SLOW)) "2.0.0.127.$TL_ZONE" A)"
SMTP_PORT=$SMTP
check_match "the trap takes a message over STARTTLS" '<~  250 2\.0\.0 Ok: stored' \
	"$(tl_swaks -tls --to a@trap.example --from x@spam.example)"
check_cmd "a command through the control socket" \
	"$PREFIX/bin/trapline" evidence add --ip 199.18.60.1 --kind trap --data "$DATA"
check_eq "the pages answer" 200 "$(tl_http_status /api/v1/lookup/199.18.60.1)"
curl -s -o /dev/null --max-time $((5 * TL_SLOW)) "http://127.0.0.1:$HPORT/metrics"
# The service's PID (strace's child when traced). ExecReload= sends SIGHUP: it reloads and
# keeps answering.
victim=$TL_LAST_PID
[ ${#STRACE[@]} -gt 0 ] && victim=$(pgrep -P "$TL_LAST_PID" | head -n 1)
kill -HUP "$victim"
reloaded() { grep -c 'module=main reload' "$log"; }
tl_poll 50 1 reloaded || tl_fail "SIGHUP (ExecReload=) reloads" "$(tail -n 5 "$log")"
check_eq "after SIGHUP, DNS answers" 127.0.0.2 \
	"$(dig @127.0.0.1 -p "$LOW" +short +time=$((2 * TL_SLOW)) "2.0.0.127.$TL_ZONE" A)"
# SIGTERM: it stops and exits 0.
kill -TERM "$victim"
for _ in $(seq 1 $((100 * TL_SLOW))); do kill -0 "$TL_LAST_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$TL_LAST_PID" 2>/dev/null; then
	tl_fail "it stops on SIGTERM"
else
	wait "$TL_LAST_PID"
	check_eq "it stops on SIGTERM, exit 0" 0 $?
fi

# Every system call it made passes the unit's SystemCallFilter= lines (an allow list, then
# what is taken out of it), groups expanded as systemd-analyze names them.
if [ ${#STRACE[@]} -eq 0 ]; then
	tl_skip "every system call is allowed by the unit's filter" "no strace, or a sanitizer build"
	tl_finish
fi
expand() {
	local x
	for x in "$@"; do
		case $x in
		@*) expand $(systemd-analyze syscall-filter "$x" | awk '/^ +[@a-z_0-9-]+$/ { print $1 }') ;;
		*) echo "$x" ;;
		esac
	done
}
allow=$(expand $(sed -n 's/^SystemCallFilter=\([^~]\)/\1/p' "$UNIT") | sort -u)
deny=$(expand $(sed -n 's/^SystemCallFilter=~//p' "$UNIT") | sort -u)
used=$(sed -E 's/^[0-9]+ +//' "$TRACE/st" | grep -oE '^[a-z_0-9]+\(' | tr -d '(' | sort -u)
[ "$(printf '%s\n' "$used" | grep -c .)" -gt 30 ] ||
	tl_fail "strace saw the service's system calls" "$(head -n 5 "$TRACE/st")"
refused=$(comm -23 <(printf '%s\n' "$used") <(comm -23 <(printf '%s\n' "$allow") <(printf '%s\n' "$deny")))
# execve is strace starting the binary (systemd's filter applies after it).
refused=$(printf '%s\n' "$refused" | grep -vx execve | tr '\n' ' ' | sed 's/ $//')
check_eq "every system call serve made is allowed by the unit's SystemCallFilter" "" "$refused"
tl_finish

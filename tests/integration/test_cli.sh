#!/usr/bin/env bash
# test_cli.sh - the command line and the config file: errors exit 2 and start nothing,
# options override the file, check-config, clean stop, privilege drop when root.
source "$(dirname "$0")/lib.sh"

# A command that must fail with exit status 2, print MESSAGE, and leave no data dir behind.
expect_usage_error() {
	local name=$1 pattern=$2 data=$TL_TMP/never-created out rc
	shift 2
	rm -rf "$data"
	out=$("$TRAPLINE" "$@" 2>&1)
	rc=$?
	check_eq "$name: exit status 2" 2 "$rc"
	check_match "$name: message names the problem" "$pattern" "$out"
	if [ -e "$data" ]; then
		tl_fail "$name: nothing started (no data dir created)"
	else
		tl_ok "$name: nothing started (no data dir created)"
	fi
}

d=$TL_TMP/never-created
expect_usage_error "unknown option" "unknown option '--frobnicate'" serve --data "$d" --frobnicate
expect_usage_error "bad --threads" "threads: 'many' is not a number" serve --data "$d" --threads many
expect_usage_error "bad --dns" "dns_listen: '127.0.0.1' is not ADDR:PORT" serve --data "$d" --dns 127.0.0.1
expect_usage_error "bad --zone" "zone: 'bad..zone' is not a domain name" serve --data "$d" --zone bad..zone
expect_usage_error "option without value" "--static needs FILE" serve --data "$d" --static
expect_usage_error "unknown command" "unknown command 'serv'" serv

printf 'zone = ok.example\nsoa_refresh = 0\n' >"$TL_TMP/bad.conf"
expect_usage_error "bad config value" "bad.conf:2: soa_refresh: 0 is out of range" \
	serve --config "$TL_TMP/bad.conf" --data "$d"
printf 'zone = ok.example\ncolour = blue\n' >"$TL_TMP/unknown.conf"
expect_usage_error "unknown config key" "unknown.conf:2: colour: unknown key" \
	serve --config "$TL_TMP/unknown.conf" --data "$d"
expect_usage_error "missing config file" "cannot open" serve --config "$TL_TMP/nope.conf" --data "$d"
expect_usage_error "check-config on a bad file" "unknown.conf:2: colour: unknown key" \
	check-config "$TL_TMP/unknown.conf"

out=$("$TRAPLINE" check-config "$TRAPLINE_SRC/etc/trapline.conf" 2>&1)
check_eq "check-config accepts etc/trapline.conf" 0 $?
for key in dns_listen zone threads static_file answer_a answer_txt soa_minimum edns_udp_max \
	tcp_max_conns tcp_idle_ms; do
	check_match "check-config prints $key with its help" "^$key = " "$out"
done

# The file sets values, an option overrides the file.
cat >"$TL_TMP/good.conf" <<CONF
# a comment
zone = file.example
answer_a = 127.0.0.4
answer_ttl = 77
CONF
tl_start --config "$TL_TMP/good.conf" --zone opt.example
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 2.0.0.127.opt.example A)
check_eq "--zone overrides the file's zone" NOERROR "$(rcode_of "$out")"
check_match "the file's answer_a and answer_ttl are used" "^2\.0\.0\.127\.opt\.example\. 77 IN A 127\.0\.0\.4$" \
	"$(section_of "$out" ANSWER)"
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 2.0.0.127.file.example A)
check_eq "the file's zone is not served once overridden" REFUSED "$(rcode_of "$out")"
check_match "the log is key=value lines" '^ts=[0-9T:.-]+Z level=info module=main ' "$(cat "$TL_LAST_LOG")"
tl_stop

# Started as root on port 53, it drops privileges once the sockets are bound.
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	addr=$(python3 - <<'PY'
import random, socket
for _ in range(50):
    ip = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(1, 254), random.randint(2, 254))
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((ip, 53))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind((ip, 53))
        u.close(); t.close(); print(ip); break
    except OSError:
        pass
PY
)
	mkdir -p "$TL_TMP/root-data"
	"$TRAPLINE" serve --data "$TL_TMP/root-data" --dns "$addr:53" --http off --user nobody 2>"$TL_TMP/root.log" &
	pid=$!
	TL_PIDS+=("$pid")
	ok=""
	for _ in $(seq 1 $((50 * TL_SLOW))); do
		a=$(dig @"$addr" -p 53 +time=1 +tries=1 +short 2.0.0.127.bl.example.org A 2>/dev/null)
		[ "$a" = 127.0.0.2 ] && { ok=1; break; }
		sleep 0.1
	done
	check_eq "as root: answers on port 53" 1 "${ok:-0}"
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
	nobody=$(id -u nobody)
	check_eq "as root: runs as nobody after binding (real/effective/saved/fs uid)" \
		"$nobody $nobody $nobody $nobody" "$uid"
	TL_LAST_LOG=$TL_TMP/root.log
	tl_stop "$pid"
else
	tl_skip "privilege drop" "not root"
fi

tl_finish

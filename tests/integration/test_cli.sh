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
expect_usage_error "bad --smtp" "smtp_listen: '127.0.0.1' is neither off nor ADDR:PORT" serve --data "$d" --smtp 127.0.0.1
printf 'trap_addresses = nobody-at-all\n' >"$TL_TMP/badtrap.conf"
expect_usage_error "a trap address without a domain" "trap_addresses: 'nobody-at-all' is not a mail address" \
	serve --config "$TL_TMP/badtrap.conf" --data "$d"
printf 'smtp_tls_cert = /etc/ssl/trap.pem\n' >"$TL_TMP/halftls.conf"
expect_usage_error "a TLS certificate without its key" "smtp_tls_cert and smtp_tls_key: give both or neither" \
	serve --config "$TL_TMP/halftls.conf" --data "$d"
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

# make install puts trapline on the PATH (here: cmake's install step into a prefix of ours).
if cmake --install "$(dirname "$TRAPLINE")" --prefix "$TL_TMP/inst" >"$TL_TMP/install.log" 2>&1; then
	check_match "installed: bin/trapline runs" '^trapline [0-9]' "$("$TL_TMP/inst/bin/trapline" version 2>&1)"
	check_cmd "installed: the commented configuration, which check-config accepts" \
		"$TL_TMP/inst/bin/trapline" check-config "$TL_TMP/inst/share/trapline/trapline.conf"
	check_cmd "installed: the operator's guide" test -s "$TL_TMP/inst/share/doc/trapline/operator.md"
else
	tl_fail "cmake --install into a prefix" "$(cat "$TL_TMP/install.log")"
fi

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
	"$TRAPLINE" serve --data "$TL_TMP/root-data" --dns "$addr:53" --smtp "127.0.0.1:$(tl_free_port)" \
		--http off --user nobody 2>"$TL_TMP/root.log" &
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

	# Paths the service cannot reach once it runs as nobody: one clear line before serving,
	# not a first load that works and every reload that fails, nor a "database error".
	mkdir -m 0700 "$TL_TMP/root-only"
	printf '192.0.2.1\n' >"$TL_TMP/root-only/list.rbl"
	out=$(timeout 20 "$TRAPLINE" serve --static "$TL_TMP/root-only/list.rbl" --dns "$addr:53" \
		--user nobody 2>&1)
	check_eq "as root: a static file nobody cannot read: exit status 1" 1 $?
	check_match "as root: ...the line names the key, the file and the user" \
		"^trapline: static_file $TL_TMP/root-only/list.rbl: user nobody cannot read it \(Permission denied\)" \
		"$out"
	check_nomatch "as root: ...and nothing was served" "ready" "$out"
	out=$(timeout 20 "$TRAPLINE" serve --data "$TL_TMP/root-only/data" --dns "$addr:53" \
		--user nobody 2>&1)
	check_eq "as root: a data directory under a directory nobody cannot search: exit status 1" 1 $?
	check_match "as root: ...the line names the key, the directory and the user" \
		"^trapline: data_dir $TL_TMP/root-only/data: user nobody cannot use it" "$out"
	chmod 0755 "$TL_TMP/root-only"
	chmod 0600 "$TL_TMP/root-only/list.rbl"
	out=$(timeout 20 "$TRAPLINE" serve --static "$TL_TMP/root-only/list.rbl" --dns "$addr:53" \
		--user nobody 2>&1)
	check_match "as root: a file only root may read is refused too" \
		"user nobody cannot read it" "$out"
else
	tl_skip "privilege drop" "not root"
fi

tl_finish

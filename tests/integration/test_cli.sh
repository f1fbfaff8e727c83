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
# The certificate and key are read before anything starts: a file that is missing, is not PEM
# or does not match is exit 2 with the key and the file named, from check-config and serve alike.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=trap.example -keyout "$TL_TMP/k1.pem" \
	-out "$TL_TMP/c1.pem" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other.example -keyout "$TL_TMP/k2.pem" \
	-out "$TL_TMP/c2.pem" >/dev/null 2>&1
printf 'not a certificate\n' >"$TL_TMP/junk.pem"
while IFS='|' read -r cert key want; do
	printf 'smtp_tls_cert = %s\nsmtp_tls_key = %s\n' "$TL_TMP/$cert" "$TL_TMP/$key" >"$TL_TMP/tls.conf"
	want=${want//@/$TL_TMP}
	expect_usage_error "TLS $cert + $key: check-config" "^trapline: $want" check-config "$TL_TMP/tls.conf"
	expect_usage_error "TLS $cert + $key: serve" "^trapline: $want" \
		serve --config "$TL_TMP/tls.conf" --data "$d" --dns "127.0.0.1:$(tl_free_port)" --http off
done <<'EOF_TLS'
missing.pem|k1.pem|smtp_tls_cert @/missing.pem: cannot read it: No such file or directory$
c1.pem|missing.pem|smtp_tls_key @/missing.pem: cannot read it: No such file or directory$
junk.pem|k1.pem|smtp_tls_cert @/junk.pem: no PEM certificate in it$
c1.pem|junk.pem|smtp_tls_key @/junk.pem: no PEM private key in it
c1.pem|k2.pem|smtp_tls_key @/k2.pem: not the key of the certificate @/c1.pem$
EOF_TLS
printf 'smtp_tls_cert = %s\nsmtp_tls_key = %s\n' "$TL_TMP/c1.pem" "$TL_TMP/k1.pem" >"$TL_TMP/tls.conf"
check_cmd "TLS: a matching certificate and key pass check-config" "$TRAPLINE" check-config "$TL_TMP/tls.conf"
# serve --help says which configuration it reads: none unless given.
out=$("$TRAPLINE" serve --help 2>&1)
check_match "serve --help: --config reads nothing unless given" \
	'--config FILE +configuration file \(none is read unless given: `make run` gives etc/trapline\.conf\)' "$out"
check_match "serve --help: --allow-nobody takes no value" '^  --allow-nobody +accept user nobody' "$out"
expect_usage_error "--allow-nobody=1 is refused: a flag takes no value" "--allow-nobody takes no value" \
	serve --allow-nobody=1 --data "$d"

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
	check_match "installed: its data directory is an absolute path (/var/lib/trapline), not ./var" \
		'^data_dir = /var/lib/trapline$' "$("$TL_TMP/inst/bin/trapline" check-config "$TL_TMP/inst/share/trapline/trapline.conf" 2>&1)"
	check_match "installed: ...and its commented configuration says so" '^#data_dir = /var/lib/trapline$' \
		"$(cat "$TL_TMP/inst/share/trapline/trapline.conf")"
	check_match "the checkout's binary keeps ./var" '^#data_dir = \./var$' "$("$TRAPLINE" config-template)"
else
	tl_fail "cmake --install into a prefix" "$(cat "$TL_TMP/install.log")"
fi

# The system user make install (and scripts/deps.sh) creates: a system account with no shell.
if [ "$(id -u)" -eq 0 ]; then
	u=tltest$$
	out=$("$TRAPLINE_SRC/scripts/user.sh" "$u" /nonexistent/tl 2>&1)
	check_match "user.sh creates the service's user" "created the system user $u" "$out"
	IFS=: read -r _ _ uid _ _ home shell <<<"$(getent passwd "$u")"
	check_eq "...a system account (uid below 1000), home the data directory, no shell" \
		"yes /nonexistent/tl nologin" "$([ "${uid:-1000}" -lt 1000 ] && echo yes || echo no) $home ${shell##*/}"
	check_eq "...and a second run changes nothing" "" "$("$TRAPLINE_SRC/scripts/user.sh" "$u" /nonexistent/tl 2>&1)"
	userdel "$u" 2>/dev/null
	groupdel "$u" 2>/dev/null
	check_eq "DESTDIR: packaging makes no user" "no" \
		"$("$TRAPLINE_SRC/scripts/user.sh" "$u" /x "$TL_TMP/pkg" >/dev/null 2>&1; getent passwd "$u" >/dev/null && echo yes || echo no)"
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

# make run serves with etc/trapline.conf, so the README's spamtrap example (a trap_domains line
# in that file) works: the recipe, then the file with that line, as make run would read it.
recipe=$(make -C "$TRAPLINE_SRC" -n -s --no-print-directory run BUILD=B 2>/dev/null | tail -n 1)
check_eq "make run reads etc/trapline.conf" "./B/trapline serve --config etc/trapline.conf" "$recipe"
cp "$TRAPLINE_SRC/etc/trapline.conf" "$TL_TMP/readme.conf"
printf 'trap_domains = trap.example\n' >>"$TL_TMP/readme.conf"
tl_start --config "$TL_TMP/readme.conf"
out=$(tl_swaks --to anyone@trap.example --from x@spam.example)
check_match "the README's example: from loopback the trap says why it records nothing" \
	'<\*\* 550 5\.7\.1 .*127\.0\.0\.1 is in 127\.0\.0\.0/8, Loopback \(RFC 1122\), a special-purpose address' "$out"
tl_stop
printf 'exclude_default = 127.0.0.0/8, ::1/128\n' >>"$TL_TMP/readme.conf"
tl_start --config "$TL_TMP/readme.conf"
out=$(tl_swaks --to anyone@trap.example --from x@spam.example)
check_match "the README's example: with its exclude_default line, the trap takes it" '<-  250 2\.0\.0 Ok: stored' "$out"
out=$("$TRAPLINE" check 127.0.0.1 --data "$TL_DATA" 2>&1)
check_match "...and check shows the hit" '^evidence: 1 trap hit, ' "$out"
check_match "...and the default exclusion" '^excluded: default exclusion' "$out"
tl_stop

# Started as root on port 53, it drops privileges once the sockets are bound.
if [ "$(id -u)" -eq 0 ] && getent passwd "$TL_USER" >/dev/null; then
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
	"$TRAPLINE" serve --data "$TL_TMP/root-data" --dns "$addr:53" --smtp "127.0.0.1:$(tl_free_port)" \
		--http off 2>"$TL_TMP/root.log" &
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
	svc=$(id -u "$TL_USER")
	check_eq "as root: runs as its own user ($TL_USER, the default) after binding (real/effective/saved/fs uid)" \
		"$svc $svc $svc $svc" "$uid"
	check_eq "as root: ...with no supplementary group" "" \
		"$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status" | tr -d ' ')"
	TL_LAST_LOG=$TL_TMP/root.log
	tl_stop "$pid"

	# Paths the service cannot reach once it runs as its user: one clear line before serving,
	# not a first load that works and every reload that fails, nor a "database error".
	mkdir -m 0700 "$TL_TMP/root-only"
	printf '192.0.2.1\n' >"$TL_TMP/root-only/list.rbl"
	out=$(timeout 20 "$TRAPLINE" serve --static "$TL_TMP/root-only/list.rbl" --dns "$addr:53" 2>&1)
	check_eq "as root: a static file the service's user cannot read: exit status 1" 1 $?
	check_match "as root: ...the line names the key, the file and the user" \
		"^trapline: static_file $TL_TMP/root-only/list.rbl: user $TL_USER cannot read it \(Permission denied\)" \
		"$out"
	check_nomatch "as root: ...and nothing was served" "ready" "$out"
	out=$(timeout 20 "$TRAPLINE" serve --data "$TL_TMP/root-only/data" --dns "$addr:53" 2>&1)
	check_eq "as root: a data directory under a directory its user cannot search: exit status 1" 1 $?
	check_match "as root: ...the line names the key, the directory and the user" \
		"^trapline: data_dir $TL_TMP/root-only/data: user $TL_USER cannot use it" "$out"
	chmod 0755 "$TL_TMP/root-only"
	chmod 0600 "$TL_TMP/root-only/list.rbl"
	out=$(timeout 20 "$TRAPLINE" serve --static "$TL_TMP/root-only/list.rbl" --dns "$addr:53" 2>&1)
	check_match "as root: a file only root may read is refused too" \
		"user $TL_USER cannot read it" "$out"
else
	tl_skip "privilege drop" "not root"
fi

tl_finish

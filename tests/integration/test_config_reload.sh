#!/usr/bin/env bash
# test_config_reload.sh - SIGHUP reloads the configuration file (issue 22): a TXT text changes
# while qblast (bench/qblast.c) queries through the reload and every query is answered; a policy
# number takes effect (the listings are recomputed); a bad file changes nothing and the log says
# why; a trap domain added is taken at once; the pages' templates are read again; a changed listen address is named in the log and
# the old one keeps serving.
source "$(dirname "$0")/lib.sh"

QB=$TL_TMP/qblast
cc -O2 -pthread -o "$QB" "$TRAPLINE_SRC/bench/qblast.c" 2>"$TL_TMP/cc.log" ||
	tl_die "qblast builds (as bench/dns.sh builds it)" "$(cat "$TL_TMP/cc.log")"

PORT=$(tl_free_port) || tl_die "pick a free port"
SMTP_PORT=$(tl_free_port) || tl_die "pick a free port"
OTHER=$(tl_free_port) || tl_die "pick a free port"
HPORT=$(tl_free_port) || tl_die "pick a free port"
WT=                        # web_templates, empty at start: the built-in pages
TDIR=$TL_TMP/templates     # the folder a reload names
mkdir -p "$TDIR"
chmod 755 "$TDIR"
sed 's/No warranty/Nothing is promised (v1)/' "$TRAPLINE_SRC/src/web/templates/warranty.html" >"$TDIR/warranty.html"
TL_DATA=$TL_TMP/data
tl_mkdata "$TL_DATA"
CONF=$TL_TMP/trapline.conf
# conf THRESHOLD TXT [DNS [TRAP_DOMAINS]]: the file the service reads, written whole then
# renamed into place. The trap is talked to over loopback: 127.0.0.1 is not excluded as a
# special-purpose address (whose MAIL the trap refuses) but by its prefix.
conf() {
	cat >"$CONF.tmp" <<EOF
data_dir = $TL_DATA
dns_listen = ${3:-127.0.0.1:$PORT}
smtp_listen = 127.0.0.1:$SMTP_PORT
http_listen = 127.0.0.1:$HPORT
web_templates = $WT
log_level = debug
policy_threshold = $1
answer_txt = "$2"
exclude_default = 127.0.0.0/8, ::1/128
trap_domains = ${4:-trap.example}
log_format = ${LOGF:-text}
EOF
	mv "$CONF.tmp" "$CONF"
}
conf 100 'Old text for $'
"$TRAPLINE" serve --config "$CONF" >"$TL_TMP/server.log" 2>&1 &
TL_LAST_PID=$!
TL_LAST_LOG=$TL_TMP/server.log
TL_PIDS+=("$TL_LAST_PID")
tl_wait_ready "$PORT" || tl_die "server starts with the config file" "$(tail -n 20 "$TL_LAST_LOG")"
tl() { "$TRAPLINE" "$@" --config "$CONF"; }
txt_of() { dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 +short "$(rev4 "$1").$TL_ZONE" TXT 2>/dev/null | head -n 1; }
log_has() { grep -Ec -- "$1" "$TL_LAST_LOG"; }

# Two trap hits each: a score of 10, under the threshold of 100.
for ip in 193.0.2.1 193.0.2.2; do
	run_ok tl evidence add --ip "$ip" --kind trap
	run_ok tl evidence add --ip "$ip" --kind trap
done
check_ip_nx "policy_threshold = 100: two trap hits do not list 193.0.2.1" 193.0.2.1

# The test point answers the TXT of the configuration ('$' is the queried address).
check_eq "the TXT text at start" '"Old text for 127.0.0.2"' "$(txt_of 127.0.0.2)"

# rcpt ADDR: the trap's answer to RCPT TO:<ADDR> (the line after it in swaks's transcript).
rcpt() { tl_swaks --to "$1" --from a@spam.example --quit-after RCPT | grep -A1 -- '-> RCPT TO' | tail -n 1; }
check_match "trap_domains = trap.example: mail for trap2.example is refused at RCPT" '<\*\* +550 5\.1\.1' "$(rcpt x@trap2.example)"

# ---- a TXT text, a policy number and the trap domains, live, with qblast running through the reload ------------
printf '%s TXT\n%s A\n' "2.0.0.127.$TL_ZONE" "$(rev4 193.0.2.1).$TL_ZONE" >"$TL_TMP/queries.txt"
# At most 8 queries outstanding, each given 5 s (x TL_SLOW): a loaded machine delays answers,
# only a dropped query goes unanswered that long.
"$QB" -s 127.0.0.1 -p "$PORT" -d "$TL_TMP/queries.txt" -l $((4 * TL_SLOW)) -q 8 -t $((5 * TL_SLOW)) \
	>"$TL_TMP/qblast.out" 2>&1 &
QBPID=$!
TL_PIDS+=("$QBPID")
sleep 1
check_match "the built-in warranty page at start" '<h1>No warranty</h1>' "$(tl_http /about/warranty)"
WT=$TDIR
conf 5 'New text for $ (reloaded)' "" "trap.example, trap2.example"
kill -HUP "$TL_LAST_PID"
tl_poll 100 '"New text for 127.0.0.2 (reloaded)"' txt_of 127.0.0.2
check_eq "SIGHUP changes the TXT text live" '"New text for 127.0.0.2 (reloaded)"' "$(txt_of 127.0.0.2)"
wait "$QBPID"
check_eq "qblast ran through the reload" 0 $?
res=$(grep '^RESULT ' "$TL_TMP/qblast.out")
sent=$(printf '%s' "$res" | grep -o 'sent=[0-9]*' | cut -d= -f2)
done_n=$(printf '%s' "$res" | grep -o 'completed=[0-9]*' | cut -d= -f2)
lost=$(printf '%s' "$res" | grep -o 'lost=[0-9]*' | cut -d= -f2)
check_eq "no query lost through the reload (qblast: $sent sent)" "0" "${lost:-missing}"
check_eq "every query answered" "${sent:-0}" "${done_n:-none}"
check_eq "qblast sent queries before and after the SIGHUP" yes "$([ "${sent:-0}" -gt 100 ] && echo yes)"
check_match "the reload is logged with what changed" 'module=main reload done changed=.*answer_txt.*policy_threshold|module=main reload done changed=.*policy_threshold' "$(cat "$TL_LAST_LOG")"

check_ip_a "policy_threshold = 5 after the reload: 193.0.2.1 is listed (the listings recomputed)" 193.0.2.1 127.0.0.2 100
check_eq "a listed address answers the new TXT" '"New text for 193.0.2.1 (reloaded)"' "$(txt_of 193.0.2.1)"
check_eq "check through the service uses the new threshold" "True 5.0" \
	"$(tl check 193.0.2.2 --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["listed"], v["threshold"])')"
out=$(tl verify 2>&1)
check_eq "verify agrees with the listings after the reload" 0 $?

tl_poll 100 1 log_has 'module=smtp reloaded'
check_match "trap2.example added on SIGHUP: its mail is taken at RCPT" '<- +250 ' "$(rcpt x@trap2.example)"

check_match "web_templates set on SIGHUP: the page's new text is served" '<h1>Nothing is promised \(v1\)</h1>' "$(tl_http /about/warranty)"
# What the reloaded settings must keep of the wiring: the metrics behind /metrics and status.
check_eq "/metrics still answers after the reload" 200 "$(tl_http_status /metrics)"
check_match "and counts the DNS queries" '^trapline_dns_queries_total' "$(tl_http /metrics)"
out=$(tl status 2>&1)
check_eq "trapline status still answers after the reload" 0 $?
# The folder's file edited, the key the same: SIGHUP reads the texts again.
sed 's/No warranty/Nothing is promised (v2)/' "$TRAPLINE_SRC/src/web/templates/warranty.html" >"$TDIR/warranty.html"
n0=$(log_has 'module=main reload done')
kill -HUP "$TL_LAST_PID"
tl_poll 100 1 eval 'echo $(( $(log_has "module=main reload done") - n0 ))'
check_match "a template edited in place is served after SIGHUP" '<h1>Nothing is promised \(v2\)</h1>' "$(tl_http /about/warranty)"
# A template that does not parse: refused, the pages as they were.
cp "$TDIR/warranty.html" "$TL_TMP/warranty.good"
printf '<h1>{{unclosed</h1>\n' >"$TDIR/warranty.html"
n0=$(log_has 'reload failed')
kill -HUP "$TL_LAST_PID"
tl_poll 100 1 eval 'echo $(( $(log_has "reload failed") - n0 ))'
check_match "a template that does not parse is refused on SIGHUP, with the reason" 'reload failed reason=.*warranty\.html.* keeping=running' "$(cat "$TL_LAST_LOG")"
check_match "and the page stays as it was" '<h1>Nothing is promised \(v2\)</h1>' "$(tl_http /about/warranty)"
cp "$TL_TMP/warranty.good" "$TDIR/warranty.html"

# ---- a bad file changes nothing ------------------------------------------------------------------
cp "$CONF" "$TL_TMP/good.conf"
conf 'not-a-number' 'Bad text $'
n0=$(log_has 'reload failed')
kill -HUP "$TL_LAST_PID"
tl_poll 100 1 eval 'echo $(( $(log_has "reload failed") - n0 ))'
check_match "a bad file on SIGHUP is logged with the reason" "reload failed reason=.*policy_threshold.*not-a-number.* keeping=running" "$(cat "$TL_LAST_LOG")"
check_eq "and the TXT text stays" '"New text for 127.0.0.2 (reloaded)"' "$(txt_of 127.0.0.2)"
check_eq "and the policy stays (193.0.2.2 still listed)" 127.0.0.2 "$(ip_a_of 193.0.2.2)"
out=$("$TRAPLINE" verify --config "$TL_TMP/good.conf" 2>&1)
check_eq "verify still agrees" 0 $?

# ---- a key that needs a restart --------------------------------------------------------------------
conf 5 'New text for $ (reloaded)' "127.0.0.1:$OTHER" "trap.example, trap2.example"
n0=$(log_has 'keys that need a restart')
kill -HUP "$TL_LAST_PID"
tl_poll 100 1 eval 'echo $(( $(log_has "keys that need a restart") - n0 ))'
check_match "a changed listen address is named in one log line" 'reload: keys that need a restart changed and keep their values keys=dns_listen$' "$(cat "$TL_LAST_LOG")"
check_eq "the old address keeps serving" '"New text for 127.0.0.2 (reloaded)"' "$(txt_of 127.0.0.2)"
check_eq "the new one is not bound" 0 "$(dig @127.0.0.1 -p "$OTHER" +time=1 +tries=1 +short "2.0.0.127.$TL_ZONE" A 2>/dev/null | grep -c '^127\.')"
check_eq "the service still runs" yes "$(kill -0 "$TL_LAST_PID" 2>/dev/null && echo yes)"

# The schema's flag is what the docs say: trapline.conf(5) and check-config mark each key.
man=$("$TRAPLINE" man 5)
check_match "trapline.conf(5): answer_txt is reloaded on SIGHUP" \
	"$(printf '%s' "$man" | grep -A1 '^\.B answer_txt$' | tail -n 1 | grep -o 'reloaded on SIGHUP')" 'reloaded on SIGHUP'
check_nomatch "trapline.conf(5): dns_listen is not" 'reloaded on SIGHUP' "$(printf '%s' "$man" | grep -A1 '^\.B dns_listen$')"
check_match "check-config says which keys SIGHUP reloads" 'default: "127.0.0.1:5353"(; changed)?; a restart changes it' "$("$TRAPLINE" check-config "$CONF" 2>&1 | grep -A1 '^dns_listen')"

# Last (the log's lines change form): log_format, live.
LOGF=json
conf 5 'New text for $ (reloaded)' "127.0.0.1:$OTHER" "trap.example, trap2.example"
kill -HUP "$TL_LAST_PID"
json_reload() { grep -c '^{.*"module": *"main".*reload done' "$TL_LAST_LOG"; }
tl_poll 100 1 json_reload
check_eq "log_format = json on SIGHUP: the reload's own line is JSON" 1 "$(json_reload)"
tl_stop
tl_finish

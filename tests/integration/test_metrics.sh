#!/usr/bin/env bash
# test_metrics.sh - what the service says it is doing: GET /metrics counts a known load exactly
# (DNS queries by rcode, qtype and transport from dig, evidence by kind and class from the CLI
# and swaks, SMTP sessions and messages, HTTP answers by route and code from curl, user reports
# by result), listings by reason agree with `trapline list`, the serial with the SOA; promtool
# accepts the text; metrics_allow refuses a client outside it (127.0.0.2) with 403; `trapline
# status` and `status --json` show the same figures; with log_format = json every log line is
# one JSON object.
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || tl_die "promtool is installed (scripts/deps.sh --test: prometheus)"

D="$TRAPLINE_SRC/tests/data/received"
DATA=$TL_TMP/data
tl_mkdata "$DATA"
mkdir -p "$TL_TMP/hooks.d"
chmod 0777 "$TL_TMP/hooks.d"
HOOKS=$TL_TMP/hooks.d/hooks
: >"$HOOKS"
chmod 0666 "$HOOKS"
export TRAPLINE_TEST_HOOKS=$HOOKS
CONF=$TL_TMP/trapline.conf
cat >"$CONF" <<'EOF'
trap_domains = trap.example
exclude_default = 127.0.0.0/8, ::1/128
metrics_allow = 127.0.0.1/32, ::1/128
log_format = json
EOF
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
cd "$TL_TMP" || tl_die "cd $TL_TMP"

TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT" "$(tail -n 20 "$TL_LAST_LOG")"
U="http://127.0.0.1:$HPORT"

# scrape FILE [curl options]: GET /metrics into FILE; prints the status code.
scrape() {
	local f=$1
	shift
	curl -s --max-time $((10 * TL_SLOW)) -o "$f" -w '%{http_code}' "$@" "$U/metrics"
}
# mval FILE SERIES: the value of one series ('name{labels}' exactly as rendered), 0 if absent.
mval() {
	awk -v s="$2" '$1 == s { v = $2 } END { print (v == "" ? 0 : v) }' "$1"
}
# delta NAME SERIES WANT: SERIES grew by exactly WANT between the scrapes before and after.
delta() {
	check_eq "$1" "$3" "$(( $(mval "$TL_TMP/after" "$2") - $(mval "$TL_TMP/before" "$2") ))"
}

echo "# a first scrape, the known load, a second scrape"
check_eq "GET /metrics answers 200 on loopback" 200 "$(scrape "$TL_TMP/before")"
check_match "...in the text exposition format" '^# TYPE trapline_dns_queries_total counter$' "$(cat "$TL_TMP/before")"

# DNS: by rcode, qtype and transport.
q() { dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 +norecurse "$@" >/dev/null 2>&1; }
for _ in 1 2 3 4 5; do q 2.0.0.127.$TL_ZONE A; done          # NOERROR A udp
for _ in 1 2 3 4; do q 9.9.9.193.$TL_ZONE TXT; done          # NXDOMAIN TXT udp
for _ in 1 2 3; do q +tcp 2.0.0.127.$TL_ZONE A; done         # NOERROR A tcp
for _ in 1 2; do q +tcp 9.9.9.193.$TL_ZONE AAAA; done        # NXDOMAIN AAAA tcp
for _ in 1 2; do q example.com A; done                        # REFUSED A udp
q $TL_ZONE SOA                                                 # NOERROR SOA udp

# Evidence: 2 trap/spam, 1 trap/bounce, 1 report/spam from the CLI; 3 trap/spam by SMTP.
run_ok tl evidence add --ip 193.0.2.10 --kind trap
run_ok tl evidence add --ip 193.0.2.10 --kind trap
run_ok tl evidence add --ip 193.0.2.11 --kind trap --class bounce
run_ok tl evidence add --ip 199.51.100.12 --kind report
for i in 1 2 3; do
	out=$(tl_swaks --to "t$i@trap.example" --from x@spam.example)
	check_match "swaks message $i is stored" '<-  250 2\.0\.0 Ok: stored' "$out"
done
# User reports: one taken (report/spam against its source), the same again a duplicate.
tl reporter add acme --trusted-relays "$D/default.trusted" >/dev/null || tl_fail "reporter add"
run_ok tl report --reporter acme "$D/postfix_direct.eml"
run_ok tl report --reporter acme "$D/postfix_direct.eml"

# HTTP: 2 home pages, 1 page we do not serve, 1 lookup through the API.
for p in / / /nothing-here /api/v1/lookup/193.0.2.10; do
	curl -s -o /dev/null --max-time $((10 * TL_SLOW)) "$U$p"
done
# The trap's sessions close after QUIT: wait until none is open, then scrape.
smtp_open() { scrape "$TL_TMP/after" >/dev/null; mval "$TL_TMP/after" trapline_smtp_sessions_open; }
tl_poll 50 0 smtp_open || tl_fail "the trap's sessions are closed" "open: $(smtp_open)"
check_eq "the second scrape answers 200" 200 "$(scrape "$TL_TMP/after")"

echo "# every figure counted exactly"
delta "dns: NOERROR A udp" 'trapline_dns_queries_total{rcode="NOERROR",qtype="A",proto="udp"}' 5
delta "dns: NXDOMAIN TXT udp" 'trapline_dns_queries_total{rcode="NXDOMAIN",qtype="TXT",proto="udp"}' 4
delta "dns: NOERROR A tcp" 'trapline_dns_queries_total{rcode="NOERROR",qtype="A",proto="tcp"}' 3
delta "dns: NXDOMAIN AAAA tcp" 'trapline_dns_queries_total{rcode="NXDOMAIN",qtype="AAAA",proto="tcp"}' 2
delta "dns: REFUSED A udp" 'trapline_dns_queries_total{rcode="REFUSED",qtype="A",proto="udp"}' 2
delta "dns: NOERROR SOA udp" 'trapline_dns_queries_total{rcode="NOERROR",qtype="SOA",proto="udp"}' 1
sum_dns() { awk '$1 ~ /^trapline_dns_queries_total\{/ { s += $2 } END { print s + 0 }' "$1"; }
check_eq "dns: 17 queries in all, nothing else counted" 17 \
	$(( $(sum_dns "$TL_TMP/after") - $(sum_dns "$TL_TMP/before") ))
delta "dns: no rate limiting" 'trapline_dns_rrl_total{action="dropped"}' 0
delta "evidence: trap spam (2 CLI + 3 SMTP)" 'trapline_evidence_total{kind="trap",class="spam"}' 5
delta "evidence: trap bounce" 'trapline_evidence_total{kind="trap",class="bounce"}' 1
delta "evidence: report spam (1 CLI + 1 report)" 'trapline_evidence_total{kind="report",class="spam"}' 2
delta "smtp: sessions accepted" 'trapline_smtp_sessions_total{result="accepted"}' 3
delta "smtp: messages stored" 'trapline_smtp_messages_total{result="stored"}' 3
delta "smtp: none deferred" 'trapline_smtp_messages_total{result="deferred"}' 0
delta "http: home 200" 'trapline_http_requests_total{route="home",code="200"}' 2
delta "http: a path not served, 404" 'trapline_http_requests_total{route="other",code="404"}' 1
delta "http: the lookup API 200" 'trapline_http_requests_total{route="api_lookup",code="200"}' 1
delta "reports: taken" 'trapline_reports_total{result="taken"}' 1
delta "reports: duplicate" 'trapline_reports_total{result="duplicate"}' 1
c0=$(mval "$TL_TMP/before" trapline_writer_commit_seconds_count)
c1=$(mval "$TL_TMP/after" trapline_writer_commit_seconds_count)
check_match "the writer's commits are timed (a round for each CLI event at least)" '^yes$' \
	"$([ $((c1 - c0)) -ge 5 ] && echo yes || echo "no: $c0 -> $c1")"
check_eq "the histogram's +Inf bucket is its count" "$c1" \
	"$(mval "$TL_TMP/after" 'trapline_writer_commit_seconds_bucket{le="+Inf"}')"
check_eq "the writer's queue is empty" 0 "$(mval "$TL_TMP/after" trapline_writer_queue_depth)"

echo "# gauges agree with what the service answers"
listed_by() { tl list --json | grep -c "\"reason\": *\"$1\""; }
check_eq "listings{traps} is what list says" "$(listed_by traps)" \
	"$(mval "$TL_TMP/after" 'trapline_listings{reason="traps"}')"
check_eq "...and 193.0.2.10 made one" 1 "$(mval "$TL_TMP/after" 'trapline_listings{reason="traps"}')"
check_eq "listings{reports} is what list says" "$(listed_by reports)" \
	"$(mval "$TL_TMP/after" 'trapline_listings{reason="reports"}')"
soa=$(dig @127.0.0.1 -p "$PORT" +short "$TL_ZONE" SOA | awk '{ print $3 }')
scrape "$TL_TMP/now" >/dev/null
check_eq "zone_serial is the SOA's serial" "$soa" "$(mval "$TL_TMP/now" trapline_zone_serial)"
check_match "publication age is a small number of seconds" '^[0-9]+(\.[0-9]+)?(e-[0-9]+)?$' \
	"$(mval "$TL_TMP/now" trapline_zone_publication_age_seconds)"

echo "# a round whose commit fails counts nothing"
echo fail-commit >"$HOOKS"
tl evidence add --ip 193.0.2.20 --kind trap >/dev/null 2>&1
check_eq "evidence add fails while commits fail" 1 $?
: >"$HOOKS"
scrape "$TL_TMP/failed" >/dev/null
check_eq "...and trapline_evidence_total did not count it" \
	"$(mval "$TL_TMP/after" 'trapline_evidence_total{kind="trap",class="spam"}')" \
	"$(mval "$TL_TMP/failed" 'trapline_evidence_total{kind="trap",class="spam"}')"
run_ok tl evidence add --ip 193.0.2.20 --kind trap
scrape "$TL_TMP/failed" >/dev/null
check_eq "...while the next one that commits counts" \
	"$(( $(mval "$TL_TMP/after" 'trapline_evidence_total{kind="trap",class="spam"}') + 1 ))" \
	"$(mval "$TL_TMP/failed" 'trapline_evidence_total{kind="trap",class="spam"}')"

echo "# promtool"
out=$(promtool check metrics <"$TL_TMP/after" 2>&1)
check_eq "promtool check metrics passes (no problem reported)" "0:" "$?:$out"

echo "# metrics_allow"
check_eq "a client outside metrics_allow (127.0.0.2) gets 403" 403 \
	"$(scrape "$TL_TMP/refused" --interface 127.0.0.2)"
check_nomatch "...and no figure" '^trapline_' "$(cat "$TL_TMP/refused")"
check_eq "...while the pages answer it" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$U/")"

echo "# trapline status"
out=$(tl status)
check_eq "status exits 0" 0 $?
ev_hour=$(tl_db "SELECT count(*) FROM evidence")
ev_traps=$(tl_db "SELECT count(*) FROM evidence WHERE kind = 1")
check_match "status: listings by reason" '^listings: [0-9]+ \(traps 1, reports [0-9]+, both 0\)$' "$out"
check_match "status: evidence of the last hour" "^evidence: last hour $ev_hour \\(traps $ev_traps, reports 2\\), last day $ev_hour " "$out"
check_match "status: smtp" '^smtp: sessions now 0, sessions 3, messages stored 3, deferred 0$' "$out"
check_match "status: zone serial" "^zone: serial $soa, published " "$out"
check_match "status: writer" '^writer: queue 0, last commit [0-9-]+T[0-9:]+Z, events [0-9]+$' "$out"
check_match "status: uptime" '^uptime: [0-9]{2}:[0-9]{2}:[0-9]{2} \(since ' "$out"
check_match "status: secondaries (none yet)" '^secondaries: none$' "$out"
tl status --json >"$TL_TMP/status.json"
check_eq "status --json exits 0" 0 $?
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(json.dumps(d))' "$TL_TMP/status.json" "$1" 2>&1; }
check_eq "status --json: listings.traps" 1 "$(j listings.traps)"
check_eq "status --json: evidence.last_hour.total" "$ev_hour" "$(j evidence.last_hour.total)"
check_eq "status --json: evidence.last_day.reports" 2 "$(j evidence.last_day.reports)"
check_eq "status --json: smtp.messages_stored" 3 "$(j smtp.messages_stored)"
check_eq "status --json: zone.serial" "$soa" "$(j zone.serial)"
check_eq "status --json: writer.queue_depth" 0 "$(j writer.queue_depth)"
check_eq "status --json: secondaries" "[]" "$(j secondaries)"
scrape "$TL_TMP/last" >/dev/null
check_eq "status --json: dns.queries is the sum of trapline_dns_queries_total" \
	"$(sum_dns "$TL_TMP/last")" "$(j dns.queries)"

tl_stop
out=$(tl status 2>&1)
check_eq "status without a service exits 1" 1 $?
check_match "...and says why" 'no service is running' "$out"
printf 'log_format = xml\n' >"$TL_TMP/bad.conf"
out=$("$TRAPLINE" check-config "$TL_TMP/bad.conf" 2>&1)
check_match "check-config refuses an unknown log_format" "log_format.*'xml' is not one of text, json" "$out"
printf 'metrics_allow = 127.0.0.1/8\n' >"$TL_TMP/bad.conf"
out=$("$TRAPLINE" check-config "$TL_TMP/bad.conf" 2>&1)
check_match "check-config refuses a metrics_allow CIDR with host bits" "metrics_allow: .127.0.0.1/8. has host bits set" "$out"

echo "# log_format = json"
out=$(python3 - "$TL_LAST_LOG" <<'PY'
import json, sys
n = bad = 0
members = {"time", "level", "module", "message"}
for line in open(sys.argv[1], encoding="utf-8"):
    n += 1
    try:
        o = json.loads(line)
        if not members <= set(o):
            bad += 1
    except ValueError:
        bad += 1
        print("bad line:", line.rstrip()[:200])
print(f"{n} lines, {bad} bad")
PY
)
check_match "every log line is one JSON object with time, level, module, message" '^[1-9][0-9]* lines, 0 bad$' "$out"
hit=$(grep -m1 '"module":"smtp","message":"hit"' "$TL_LAST_LOG")
check_match "a line's key=value fields are members" '"ip":"127\.0\.0\.1","class":"spam",' "$hit"
tl_finish

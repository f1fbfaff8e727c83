#!/usr/bin/env bash
# test_reports.sh - user reports and evidence feeds from the command line, against a running
# service (the control socket carries each message as a body) and on a bare data directory:
# reporters and their keys (trusted relays as ranges too), reports that add evidence and list
# through DNS once two reporters sent them, "user reports" and "both", the same spam counted
# once however it comes (raw, forwarded, base64, CRLF, in an mbox, under a rotated key), the
# hourly limit, and bad input of every kind refused with exit status 2 and a reason, nothing
# written (an mbox of several messages, a message whose line breaks were stripped).
source "$(dirname "$0")/lib.sh"

D="$TRAPLINE_SRC/tests/data/received"
DATA=$TL_TMP/data
tl_mkdata "$DATA"
CONF=$TL_TMP/trapline.conf
printf 'report_max_per_hour = 10\nreport_max_size = 1048576\n' >"$CONF"
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
cd "$TL_TMP" || tl_die "cd $TL_TMP"
# expect NAME STATUS ERE CMD...: the command exits STATUS, prints nothing on stdout, and its
# stderr matches ERE.
expect() {
	local name=$1 want=$2 pattern=$3 out err rc
	shift 3
	out=$("$@" 2>"$TL_TMP/err")
	rc=$?
	err=$(cat "$TL_TMP/err")
	check_eq "$name: exit status $want" "$want" "$rc"
	check_match "$name: says why" "$pattern" "$err"
	check_eq "$name: nothing on standard output" "" "$out"
}
# A message of its own: the corpus message with one header more, so its digest differs.
variant() { printf 'X-Variant: %s\n' "$2" | cat - "$D/$1"; }
# forward FILE [base64]: FILE forwarded by a mail client as a message/rfc822 attachment, as
# the reporter's own mail system delivered the forward.
forward() {
	printf 'Received: from smtp.example.org (smtp.example.org [193.0.2.50])\n'
	printf '\tby mx.example.org (Postfix) with ESMTPS id 1; Mon, 23 Nov 2026 12:00:01 +0000\n'
	printf 'From: User <user@example.org>\nTo: reports@example.org\nSubject: Fwd: spam\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="fwd-b"\n\n'
	printf -- '--fwd-b\nContent-Type: text/plain\n\nThe spam, attached.\n\n'
	printf -- '--fwd-b\nContent-Type: message/rfc822\n'
	if [ "${2:-}" = base64 ]; then
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$1"
	else
		printf '\n'
		cat "$1"
	fi
	printf -- '\n--fwd-b--\n'
}
reports_of() { tl reporter list 2>&1 | sed -n "s/^$1 .* reports=\([0-9]*\)$/\1/p"; }
evidence_of() { tl check "$1" 2>&1 | sed -n 's/^evidence: //p'; }

tl_start --data "$DATA" --config "$CONF"

echo "# reporters: the key shown once, the hash kept"
out=$(tl reporter add acme --trusted-relays "$D/default.trusted")
check_eq "reporter add exits 0" 0 $?
check_match "it says what it read of the relays" '^reporter: acme \(trusted relays: 2 ranges, 2 names\)$' "$out"
check_match "it prints the key" '^key: tlr_[0-9a-f]{64}$' "$out"
check_match "...and says it is shown once" 'This key is shown once: the store keeps only a hash' "$out"
key=$(printf '%s\n' "$out" | sed -n 's/^key: //p')
check_eq "the key is nowhere in the data directory" "" "$(grep -rl "${key#tlr_}" "$DATA" 2>/dev/null)"
check_match "reporter list shows it" '^acme created_at=[0-9T:-]+Z created_by="ctl:root" reports=0$' \
	"$(tl reporter list)"
check_match "the audit log has it" ' reporter-add acme who="ctl:root"' "$(tl audit)"
expect "the same name again" 2 'a reporter or feed named acme exists already' \
	tl reporter add acme --trusted-relays "$D/default.trusted"
printf '193.0.2.0/24\n# ok\n10.0.0.1/8\n' >bad.relays
expect "a relays file with a bad line" 2 '^trapline: bad\.relays:3: ' tl reporter add other --trusted-relays bad.relays
expect "a relays file that does not exist" 2 'nolist: No such file or directory' \
	tl reporter add other --trusted-relays nolist
expect "a name with a space" 2 "name 'a b' may hold only letters" tl reporter add 'a b' --trusted-relays "$D/default.trusted"
expect "no --trusted-relays" 2 'reporter add needs --trusted-relays' tl reporter add other
expect "--trusted-relays twice" 2 '--trusted-relays given twice' \
	tl reporter add other --trusted-relays "$D/default.trusted" --trusted-relays "$D/default.trusted"
check_eq "...none of them was added" "acme" "$(tl reporter list | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"


echo "# reports add evidence, enough list the address, DNS answers, check says user reports"
out=$(tl report --reporter acme "$D/postfix_direct.eml")
check_eq "report exits 0" 0 $?
check_match "it names the file" "^file: $D/postfix_direct\.eml$" "$out"
check_match "it gives the report an id" '^report: [0-9a-f]{32}$' "$out"
check_match "it names the source" '^source: 204\.0\.113\.7$' "$out"
check_match "...and says the address is not listed yet" '^204\.0\.113\.7: not listed$' "$out"
check_ip_nx "one report does not list" 204.0.113.7
check_eq "check counts the report" "0 trap hits, 1 report in the store" "$(evidence_of 204.0.113.7)"
out=$(variant postfix_direct.eml 2 | tl report --reporter acme -)
check_match "a second message of the same reporter (standard input) does not list it" '^204\.0\.113\.7: not listed$' "$out"
check_match "...and is named standard input" '^file: standard input$' "$out"
check_ip_nx "one reporter's two reports count once" 204.0.113.7
check_match "check says why" "^why: only one piece of evidence: one reporter's reports count once" "$(tl check 204.0.113.7)"
run_ok tl reporter add beta --trusted-relays "$D/default.trusted"
out=$(tl report --reporter beta "$D/postfix_direct.eml")
check_match "a second reporter lists the source" '^204\.0\.113\.7: listed \(reports\) until ' "$out"
check_ip_a "DNS answers the reported source" 204.0.113.7 127.0.0.2
out=$(tl check 204.0.113.7)
check_match "check: reason reports" '^reason: reports$' "$out"
check_match "check says user reports" '^meaning: user reports only' "$out"
check_match "the service logged the report" 'report id=[0-9a-f]{32} reporter="acme" source=204\.0\.113\.7 class=spam' \
	"$(cat "$TL_LAST_LOG")"

echo "# the same message twice counts once"
first=$(tl report --reporter acme "$D/postfix_direct.eml" 2>&1)
check_match "the same file again: the earlier report, marked duplicate" '^duplicate: the same message came from acme' "$first"
check_eq "...with the same id" "$(tl report --reporter acme --json "$D/postfix_direct.eml" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["duplicate"])')" "True"
check_eq "...and no evidence more" "0 trap hits, 3 reports in the store" "$(evidence_of 204.0.113.7)"
check_eq "reporter list counts 2 reports" 2 "$(reports_of acme)"

echo "# the same spam in another wrapper, or under a rotated key, counts once"
id=$(tl report --reporter beta --json "$D/postfix_direct.eml" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
same() { # same NAME FILE: FILE is beta's first report again
	local out
	out=$(tl report --reporter beta --json "$2" 2>&1)
	check_eq "$1: the earlier report, a duplicate" "$id True" "$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["id"], r["duplicate"])' 2>&1)"
}
forward "$D/postfix_direct.eml" >fwd.eml
same "forwarded as a message/rfc822 attachment" fwd.eml
forward "$D/postfix_direct.eml" base64 >fwd64.eml
same "forwarded as a base64 attachment" fwd64.eml
sed 's/$/\r/' "$D/postfix_direct.eml" >crlf.eml
same "with CRLF line ends" crlf.eml
{ printf 'From winner@spam.example  Mon Nov 23 10:00:01 2026\n'; cat "$D/postfix_direct.eml"; } >one.mbox
same "in an mbox of one message" one.mbox
forward crlf.eml >fwdcrlf.eml
same "forwarded with CRLF line ends" fwdcrlf.eml
out=$(tl reporter remove beta --why "key rotated" && tl reporter add beta --trusted-relays "$D/default.trusted")
check_match "beta's key rotated (removed, added again)" '^key: tlr_' "$out"
same "under the rotated key" "$D/postfix_direct.eml"
same "forwarded, under the rotated key" fwd.eml
check_eq "...and no evidence more" "0 trap hits, 3 reports in the store" "$(evidence_of 204.0.113.7)"
check_eq "beta's new key sent no report of its own" 0 "$(reports_of beta)"

echo "# a report and trap hits: both"
run_ok tl evidence add --ip 204.0.113.7 --kind trap
out=$(tl check 204.0.113.7)
check_match "check: reason both" '^reason: both$' "$out"
check_match "...spamtrap hits and user reports" '^meaning: spamtrap hits and user reports' "$out"

echo "# a reported bounce is evidence of class bounce (the trap's classifier)"
out=$(tl report --reporter acme "$D/bounce_dsn.eml")
check_match "the report says class bounce" '^class: bounce$' "$out"
check_eq "...and so does its evidence" 1 \
	"$(tl_db "SELECT class FROM evidence WHERE kind = 2 ORDER BY id DESC LIMIT 1")"

echo "# a refused report is stored with its refusal and adds no evidence"
out=$(tl report --reporter acme "$D/garbled_top.eml")
check_eq "a refused report is taken: exit 0" 0 $?
check_match "...it says refused and why" '^refused: no-untrusted-hop$' "$out"
check_eq "reporter list counts it" 4 "$(reports_of acme)"

echo "# several files: one report each; as JSON one array"
json=$(tl report --reporter acme --json <(variant gmail.eml 1) "$D/postfix_direct.eml")
check_eq "two files: two answers, the second a duplicate" "204.0.113.70 False|204.0.113.7 True" \
	"$(printf '%s' "$json" | python3 -c '
import json, sys
print("|".join("%s %s" % (r["source_ip"], r["duplicate"]) for r in json.load(sys.stdin)))' 2>&1)"
check_eq "...the JSON has the id, reporter and listed" "acme 32 False" "$(printf '%s' "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)[0]; print(r["reporter"], len(r["id"]), r["listed"])' 2>&1)"

echo "# bad input: exit 2 and a reason, nothing written"
before=$(reports_of acme)
printf '\x89PNG\r\n\x1a\n' >png.bin
head -c 4096 /dev/urandom >>png.bin
expect "binary junk" 2 'png\.bin: not a message: the first line is not a header field' tl report --reporter acme png.bin
printf 'Hello,\nthis is a letter, not a message.\n' >letter.txt
expect "not a message" 2 'letter\.txt: not a message' tl report --reporter acme letter.txt
: >empty.eml
expect "an empty file" 2 'empty\.eml: not a message: empty' tl report --reporter acme empty.eml
tr -d '\r\n' <"$D/postfix_direct.eml" >joined.eml
expect "a message whose line breaks were stripped (curl -d)" 2 'joined\.eml: not a message: it has no line break.*--data-binary' \
	tl report --reporter acme joined.eml
{ cat one.mbox; printf '\n'; printf 'From x@spam.example  Mon Nov 23 10:05:00 2026\n'; variant postfix_direct.eml mbox; } >two.mbox
expect "an mbox of two messages" 2 'two\.mbox: an mbox of 2 messages: a report is one message; split the mbox and send each message as a report of its own' \
	tl report --reporter acme two.mbox
{
	printf 'Received: from a (b [204.0.113.9]) by mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000\n'
	printf 'Subject: 50 MB\n\n'
	head -c 52428800 /dev/zero | tr '\0' 'x'
} >big.eml
expect "a 50 MB message" 2 'big\.eml: larger than 10485760 bytes \(10 MiB\), the most a request may carry' \
	tl report --reporter acme big.eml
head -c 2097152 big.eml >two.eml
expect "a 2 MB message, above report_max_size" 2 'two\.eml: 2097152 bytes, more than the 1048576 a report may have \(report_max_size\)' \
	tl report --reporter acme two.eml
expect "a file that does not exist" 2 'nothere\.eml: No such file or directory' tl report --reporter acme nothere.eml
expect "an unknown reporter" 2 'no reporter named nobody \(see trapline reporter list\)' \
	tl report --reporter nobody "$D/qmail.eml"
expect "no --reporter" 2 'report needs --reporter' tl report "$D/qmail.eml"
expect "no file" 2 'report needs a FILE' tl report --reporter acme
expect "--reporter twice" 2 '--reporter given twice' tl report --reporter acme --reporter acme "$D/qmail.eml"
out=$(tl report --reporter acme letter.txt "$(printf 'X-A: 1\n' >q.eml && cat "$D/qmail.eml" >>q.eml && echo q.eml)" 2>"$TL_TMP/err")
check_eq "a bad file beside a good one: exit 2" 2 $?
check_match "...the good one was taken" '^source: ' "$out"
check_eq "nothing was written for the bad ones: one report more" $((before + 1)) "$(reports_of acme)"
check_eq "...and no evidence against the 50 MB message's address" "0 trap hits, 0 reports in the store" "$(evidence_of 204.0.113.9)"

echo "# the hourly limit (report_max_per_hour = 10 here)"
run_ok tl reporter add flood --trusted-relays "$D/default.trusted"
# Ten reports and an eleventh in the same clock hour (the service's wall clock, time / 3600):
# wait out the last seconds of an hour, 20 s of them, times TL_SLOW (a sanitized or loaded run
# takes that much longer over the eleven).
into_hour=$(( $(date +%s) % 3600 ))
[ "$into_hour" -gt $((3600 - 20 * TL_SLOW)) ] && sleep $((3600 - into_hour + 1))
for i in $(seq 1 10); do
	variant postfix_direct.eml "flood$i" >"flood$i.eml"
done
run_ok tl report --reporter flood flood?.eml flood10.eml
variant postfix_direct.eml flood11 >flood11.eml
err=$(tl report --reporter flood flood11.eml 2>&1 >/dev/null)
check_eq "the eleventh report this hour: exit 1" 1 $?
check_match "...not taken, with when to try again" 'flood11\.eml: not taken: reporter flood sent 10 reports this hour, the most a reporter may send \(report_max_per_hour\); try again in [0-9]+ s' "$err"
check_eq "...nothing written" 10 "$(reports_of flood)"
out=$(tl report --reporter flood flood2.eml)
check_match "a message sent before is still answered past the limit" '^duplicate: ' "$out"

echo "# a commit that fails: not acknowledged, nothing stored"
tl_stop
mkdir -p "$TL_TMP/hooks.d"
chmod 0777 "$TL_TMP/hooks.d"
HOOKS=$TL_TMP/hooks.d/hooks
: >"$HOOKS"
TRAPLINE_TEST_HOOKS=$HOOKS tl_start --data "$DATA" --config "$CONF"
echo fail-commit >"$HOOKS"
variant postfix_direct.eml failed >failed.eml
before=$(reports_of acme)
err=$(tl report --reporter acme failed.eml 2>&1 >/dev/null)
check_eq "the report's commit fails: exit 1" 1 $?
check_match "...and it says it was not stored" 'failed\.eml: not taken: not stored: database error' "$err"
: >"$HOOKS"
check_eq "...no report was stored" "$before" "$(reports_of acme)"
out=$(tl report --reporter acme failed.eml)
check_match "once commits work, the same message is taken (not a duplicate)" '^report: [0-9a-f]{32}$' "$out"
check_nomatch "...and is no duplicate" '^duplicate' "$out"

echo "# removing a reporter ends its key, keeps its reports"
out=$(tl reporter remove flood --why "test done")
check_match "reporter remove says so" '^removed: reporter flood; its key no longer works' "$out"
expect "a report for a removed reporter" 2 'no reporter named flood' tl report --reporter flood "$D/qmail.eml"
expect "removing it again" 2 'no reporter named flood' tl reporter remove flood --why again
expect "remove needs --why" 2 'reporter remove needs --why' tl reporter remove acme
check_match "the audit log has the removal" ' reporter-remove flood who="ctl:root" why="test done"' "$(tl audit)"

echo "# trusted relays: ranges as rbldnsd writes them; a name looks like a host name"
printf '193.0.2.0-193.0.2.127\n193.0.2.200-201  # backup MX\nrelay.example.org\n' >ranges.relays
out=$(tl reporter add ranged --trusted-relays ranges.relays)
check_match "a.b.c.d-e.f.g.h and a.b.c.d-e are ranges (a /25 and a /31)" '^reporter: ranged \(trusted relays: 2 ranges, 1 names\)$' "$out"
printf 'relay.example.org\n193.0.2.10-193.0.1.1\n' >bad.relays
expect "a range that runs backwards" 2 '^trapline: bad\.relays:2: .193\.0\.2\.10-193\.0\.1\.1. is a range that runs backwards' \
	tl reporter add other --trusted-relays bad.relays
printf '193.0.2.10-193.0.2.300\n' >bad.relays
expect "a range with an octet of 300 is no host name" 2 '^trapline: bad\.relays:1: .193\.0\.2\.10-193\.0\.2\.300. is not an IPv4 range' \
	tl reporter add other --trusted-relays bad.relays
printf '# ours\nrelay.example.org\n\nrelay_1.example.org\n' >bad.relays
expect "a name that is no host name" 2 '^trapline: bad\.relays:4: .relay_1\.example\.org. is neither a host name' \
	tl reporter add other --trusted-relays bad.relays
out=$(tl report --reporter ranged "$D/postfix_direct.eml")
check_match "the MX inside the range is trusted: the source is the host that handed it over" '^source: 204\.0\.113\.7$' "$out"
run_ok tl reporter remove ranged --why "ranges tested"

echo "# feeds"
out=$(tl feed add far-trap)
check_match "feed add prints a feed key" '^key: tlf_[0-9a-f]{64}$' "$out"
check_match "feed list shows it" '^far-trap created_at=' "$(tl feed list)"
check_nomatch "...and reporter list does not" '^far-trap ' "$(tl reporter list)"
expect "a reporter of a feed's name" 2 'named far-trap exists already' tl reporter add far-trap --trusted-relays "$D/default.trusted"
run_ok tl feed remove far-trap --why "moved"
check_eq "feed list after the removal" "no feed" "$(tl feed list)"
tl_stop

echo "# without a service: the command opens the data directory itself"
out=$(tl report --reporter acme "$(variant gmail.eml local >local.eml && echo local.eml)" 2>&1)
check_match "report in-process: the source" '^source: 204\.0\.113\.70$' "$out"
check_eq "...stored (reporter list counts it)" $((before + 2)) "$(reports_of acme)"
tl_finish

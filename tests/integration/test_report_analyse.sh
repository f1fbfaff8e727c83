#!/usr/bin/env bash
# test_report_analyse.sh - `trapline report analyse` as an operator runs it: the golden corpus
# of tests/data/received (the JSON answer and the exit status of every case), the text form,
# standard input, and bad input and usage (exit 2 with a reason, nothing written anywhere).
source "$(dirname "$0")/lib.sh"

D="$TRAPLINE_SRC/tests/data/received"
cd "$TL_TMP" || tl_die "cd $TL_TMP"

echo "# the golden corpus: the whole JSON answer and the exit status"
n=0
while read -r name message trusted expect _; do
	case "$name" in '' | '#'*) continue ;; esac
	n=$((n + 1))
	want_rc=0
	case "$expect" in no-received | no-untrusted-hop | private-source) want_rc=1 ;; esac
	out=$("$TRAPLINE" report analyse --trusted-relays "$D/$trusted" --json "$D/$message" 2>"$TL_TMP/err")
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		tl_fail "$name: exit status $want_rc" "got $rc" "$(cat "$TL_TMP/err")"
		continue
	fi
	if [ -s "$TL_TMP/err" ]; then
		tl_fail "$name: nothing on stderr" "$(cat "$TL_TMP/err")"
		continue
	fi
	if diff_out=$(diff <(printf '%s\n' "$out") "$D/$name.json"); then
		tl_ok "$name: $expect, JSON as recorded"
	else
		tl_fail "$name: JSON as recorded in $name.json" "$diff_out"
	fi
done <"$D/cases.txt"
check_eq "every case of cases.txt was run" 1 "$([ "$n" -ge 40 ] && echo 1)"

echo "# the text form"
out=$("$TRAPLINE" report analyse --trusted-relays "$D/default.trusted" "$D/postfix_direct.eml")
check_eq "text: exit 0 with a source" 0 $?
check_eq "text: the first line names the source" "source: 204.0.113.7" "$(printf '%s\n' "$out" | head -n 1)"
check_match "text: every hop with its address, reverse name and HELO" \
	'^hop 2: source ip=204\.0\.113\.7 rdns=- helo=mail\.spam\.example by=mx\.example\.org form=tcp-info$' "$out"
check_match "text: why the trusted hop was trusted" \
	'why: 193\.0\.2\.25 is inside the trusted range 193\.0\.2\.0/25' "$out"
check_match "text: the forged line below is shown, ignored" '^hop 3: ignored ip=10\.9\.8\.7' "$out"
out=$("$TRAPLINE" report analyse --trusted-relays "$D/default.trusted" "$D/garbled_top.eml")
check_eq "text: exit 1 when refused" 1 $?
check_eq "text: the refusal word first" "refused: no-untrusted-hop" "$(printf '%s\n' "$out" | head -n 1)"
out=$("$TRAPLINE" report analyse --trusted-relays "$D/default.trusted" "$D/eightbit.eml")
check_match "text: 8-bit bytes of a HELO are shown escaped" 'helo=h\\xe9lo\.spam\.example' "$out"

echo "# standard input"
out=$("$TRAPLINE" report analyse --trusted-relays="$D/default.trusted" --json - <"$D/forward_attachment.eml")
check_eq "stdin: exit 0" 0 $?
check_eq "stdin: the same answer as the file" "$(cat "$D/forward_attachment.json")" "$out"

echo "# bad input: exit 2 and a reason"
bad() { # NAME ERE ARGS...: exit 2, nothing on stdout, stderr matches ERE
	local name=$1 ere=$2 out err rc
	shift 2
	out=$("$TRAPLINE" "$@" 2>"$TL_TMP/err")
	rc=$?
	err=$(cat "$TL_TMP/err")
	if [ "$rc" -ne 2 ] || [ -n "$out" ] || ! printf '%s\n' "$err" | grep -Eq -- "$ere"; then
		tl_fail "$name" "exit $rc (want 2)" "stdout: $out" "stderr: $err"
	else
		tl_ok "$name"
	fi
}
T=(report analyse --trusted-relays "$D/default.trusted")
printf '\x89PNG\r\n\x1a\n' >png.bin
head -c 4096 /dev/urandom >>png.bin
bad "binary junk" 'png\.bin: not a message: the first line is not a header field' "${T[@]}" png.bin
printf 'Hello,\nthis is a letter, not a message.\n' >letter.txt
bad "plain text" 'letter\.txt: not a message' "${T[@]}" letter.txt
printf 'Subject: a\0b\n\nbody\n' >nul.eml
bad "a NUL byte in the header" 'nul\.eml: not a message: a NUL byte in the header' "${T[@]}" nul.eml
: >empty.eml
bad "an empty file" 'empty\.eml: not a message: empty' "${T[@]}" empty.eml
{
	printf 'Received: from a (b [204.0.113.9]) by mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000\n'
	printf 'Subject: 50 MB\n\n'
	head -c 52428800 /dev/zero | tr '\0' 'x'
} >big.eml
bad "a 50 MB message" 'big\.eml: larger than 10485760 bytes \(10 MiB\)' "${T[@]}" big.eml
bad "a 50 MB message on standard input" 'standard input: larger than 10485760 bytes' "${T[@]}" - <big.eml
bad "a message that does not exist" 'nothere\.eml: No such file or directory' "${T[@]}" nothere.eml
bad "a directory" 'Is a directory' "${T[@]}" "$TL_TMP"

echo "# bad usage and bad relay lists: exit 2, the file and line named"
printf '193.0.2.0/24\n# a comment\n\nrelay.example.org  # trailing comment\n10.0.0.1/8\n' >relays
bad "a CIDR with host bits set: file and line" '^trapline: relays:5: .10\.0\.0\.1/8. .*meant 10\.0\.0\.0/8' \
	report analyse --trusted-relays relays "$D/qmail.eml"
printf 'relay.example.org\nnot a host\n' >relays2
bad "a line that is neither name nor CIDR: file and line" '^trapline: relays2:2: ' \
	report analyse --trusted-relays relays2 "$D/qmail.eml"
bad "a relay list that does not exist" 'nolist: No such file or directory' \
	report analyse --trusted-relays nolist "$D/qmail.eml"
bad "no --trusted-relays" 'trusted-relays FILE is required' report analyse "$D/qmail.eml"
bad "no MESSAGE" 'MESSAGE is required' report analyse --trusted-relays "$D/default.trusted"
bad "--trusted-relays without a FILE" 'needs a FILE' report analyse --trusted-relays
bad "an unknown option" "unexpected argument '--fast'" "${T[@]}" --fast "$D/qmail.eml"
bad "two messages" 'unexpected argument' "${T[@]}" "$D/qmail.eml" "$D/qmail.eml"
bad "no sub-command" 'usage: trapline report analyse' report
bad "another sub-command" 'usage: trapline report analyse' report submit "$D/qmail.eml"
: >none
out=$("$TRAPLINE" report analyse --trusted-relays none "$D/postfix_direct.eml" | head -n 1)
check_eq "an empty relay list: the topmost peer is the source" "source: 193.0.2.25" "$out"
check_eq "no data directory is created" "" "$(ls -d var 2>/dev/null)"

echo "# the class, from the trap's classifier"
out=$("$TRAPLINE" report analyse --trusted-relays "$D/default.trusted" "$D/postfix_direct.eml")
check_match "a plain spam: class spam in the text form" '^class: spam$' "$out"
out=$("$TRAPLINE" report analyse --trusted-relays "$D/default.trusted" --json "$D/bounce_dsn.eml")
check_eq "a DSN: class bounce in the JSON" bounce "$(printf '%s' "$out" | jq -r .class)"

echo "# classify: what the trap would make of a message"
M="$TRAPLINE_SRC/tests/data/mail"
for f in bounce_dsn:bounce bounce_null_sender:bounce autoreply_vacation:autoreply \
	autoreply_no:spam virus_notice:virus spam_plain:spam; do
	out=$("$TRAPLINE" classify "$M/${f%%:*}.eml" 2>&1)
	check_match "classify ${f%%:*}: ${f##*:}" "^class: ${f##*:}\$" "$out"
done
out=$("$TRAPLINE" classify "$M/bounce_null_sender.eml")
check_match "the null sender is named as such" '^envelope_from: <> \(null sender\)$' "$out"
check_match "the signals that decided it" '^signals: .*null-sender' "$out"
out=$("$TRAPLINE" classify "$M/spam_no_return_path.eml")
check_match "no Return-Path: the sender is unknown" '^envelope_from: \(unknown: no Return-Path\)$' "$out"
out=$("$TRAPLINE" classify --json - <"$M/virus_notice.eml")
check_eq "--json from standard input: class and signals" "virus|true" \
	"$(printf '%s' "$out" | jq -r '[.class, (.signals | index("x-amavis-alert") != null)] | join("|")')"
bad "classify: no MESSAGE" 'MESSAGE is required' classify
bad "classify: two messages" "unexpected argument" classify "$M/spam_plain.eml" "$M/spam_plain.eml"
bad "classify: --json twice" "unexpected argument '--json'" classify --json --json "$M/spam_plain.eml"
bad "classify: a message that does not exist" 'nothere\.eml: No such file or directory' classify nothere.eml
bad "classify: a 50 MB message" 'larger than 10485760 bytes' classify big.eml

tl_finish

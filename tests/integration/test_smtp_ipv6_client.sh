#!/usr/bin/env bash
# test_smtp_ipv6_client.sh - smtp_max_per_ip counts an IPv6 client by its /64: sessions from
# three addresses of one /64 share one count, a fourth address in the next /64 has its own.
# Real sockets from real addresses: the test runs in a network namespace of its own, whose
# loopback carries addresses of two /64s (ULA space, RFC 4193), so nothing outside is touched.
# The counting key itself has a unit test (test_base's test_ip_client_key).
if [ "${1:-}" != --in-netns ]; then
	# A network namespace needs root (unshare -n); a user namespace would map no user for
	# the server to drop its privileges to.
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		exec unshare -n bash "$0" --in-netns
	fi
	source "$(dirname "$0")/lib.sh"
	tl_skip "IPv6 clients counted by /64" "no network namespace here (needs root and unshare -n)"
	tl_finish
fi
source "$(dirname "$0")/lib.sh"

NET=fd00:db8:1:2
ip link set lo up || tl_die "loopback up in the namespace"
for a in "$NET::a" "$NET::b" "$NET::c" "fd00:db8:1:3::a"; do
	ip -6 addr add "$a/64" dev lo nodad || tl_die "add $a on lo"
done

CONF=$TL_TMP/trap.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
smtp_max_per_ip = 2
CONF
SMTP_PORT=$(tl_free_port v6) || tl_die "pick a free port"
tl_start --config "$CONF" --smtp "[::]:$SMTP_PORT"

out=$(timeout $((30 * TL_SLOW)) python3 - "$SMTP_PORT" "$NET" <<'PY'
import socket, sys
port, net = int(sys.argv[1]), sys.argv[2]
held = []
def session(src):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("::1", port))
    held.append(s)
    line = s.makefile("rb").readline().decode().strip()
    print("%s: %s" % (src, line))
for src in (net + "::a", net + "::b", net + "::c", "fd00:db8:1:3::a"):
    session(src)
PY
)
echo "$out" | sed 's/^/    # /'
check_match "the first address of a /64 is greeted" "^$NET::a: 220 " "$out"
check_match "a second address of the same /64 is greeted (2 sessions, the limit)" "^$NET::b: 220 " "$out"
check_match "a third address of the same /64 is one session too many: 421" \
	"^$NET::c: 421 4\.7\.0 .*too many sessions from your address" "$out"
check_match "an address of the next /64 is another client" '^fd00:db8:1:3::a: 220 ' "$out"
check_match "the refusal names the /64 it counted" \
	"session refused ip=$NET::c client=$NET::/64 reason=\"smtp_max_per_ip 2\"" "$(cat "$TL_LAST_LOG")"
tl_stop
tl_finish

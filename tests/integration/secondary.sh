# secondary.sh - NSD and Knot as secondaries of a primary on loopback, for the transfer tests.
#
# Sourced after lib.sh. Each server is an instance with a name: its own directory under
# $TL_TMP (config, pid file, database, journal, zone file, log), its own free port, run in the
# foreground as a child of the test (TL_PIDS, so lib.sh's exit trap kills it by PID). Nothing
# of the system's nsd or knot is used but the binaries.
#
#   sec_key_new                      a fresh TSIG key: SEC_KEY_NAME, SEC_KEY_SECRET and
#                                    SEC_KEY ("hmac-sha256:NAME:SECRET", what transfer_key takes)
#   sec_new NAME nsd|knot|bind|knot-primary
#                                    picks the instance's port (sec_port NAME) before anything
#                                    starts, so that a primary's notify list can name it
#   sec_start NAME PRIMARY_PORT      a secondary of 127.0.0.1@PRIMARY_PORT for $TL_ZONE: it
#                                    transfers with the key (SEC_NOKEY=1: without), takes NOTIFY
#                                    from 127.0.0.1 signed with the key, answers on its port
#   sec_start_primary NAME ZONEFILE NOTIFY_NAME...
#                                    Knot as a primary of ZONEFILE (kind knot-primary), allowing
#                                    signed transfers from loopback and notifying the named
#                                    instances; sec_primary_reload NAME makes it read the file again
#   sec_stop NAME                    SIGTERM, then SIGKILL after 5 s; sec_start again reuses the
#                                    instance's directory and port (a restart)
#   sec_serial NAME                  the SOA serial the instance answers ("" while it has none)
#   sec_wait_serial NAME SERIAL [TENTHS]
#                                    until the instance answers SERIAL (or a later one: RFC 1982
#                                    order), at most TENTHS/10 s (30 s), times TL_SLOW
#   sec_a NAME QNAME                 the first A the instance answers for QNAME ("" if none)
#   sec_log NAME                     the instance's log file

declare -A SEC_KIND SEC_PORT SEC_DIR SEC_PID SEC_PRIMARY
SEC_KEY_NAME=
SEC_KEY_SECRET=
SEC_KEY=

command -v nsd >/dev/null || tl_die "nsd installed (scripts/deps.sh --test)"
command -v knotd >/dev/null || tl_die "knotd installed (scripts/deps.sh --test)"
command -v named >/dev/null || tl_die "named installed (bind9; scripts/deps.sh --test)"

sec_key_new() {
	SEC_KEY_NAME=tl-xfr-key
	SEC_KEY_SECRET=$(openssl rand -base64 32)
	SEC_KEY="hmac-sha256:$SEC_KEY_NAME:$SEC_KEY_SECRET"
}

sec_new() {
	local name=$1 kind=$2
	case $kind in nsd | knot | bind | knot-primary) ;; *) tl_die "sec_new: unknown kind $kind" ;; esac
	SEC_KIND[$name]=$kind
	SEC_DIR[$name]="$TL_TMP/sec-$name"
	SEC_PORT[$name]=$(tl_free_port) || tl_die "pick a free port for $name"
	mkdir -p "${SEC_DIR[$name]}/db"
}

sec_port() { echo "${SEC_PORT[$1]}"; }
sec_log() {
	case ${SEC_KIND[$1]} in
	nsd) echo "${SEC_DIR[$1]}/nsd.log" ;;
	bind) echo "${SEC_DIR[$1]}/stdout.log" ;;
	*) echo "${SEC_DIR[$1]}/knot.log" ;;
	esac
}

# The NSD configuration of a secondary (nsd.conf(5)). xfrd-reload-timeout 0: NSD serves a
# transfer as soon as it is in, instead of at most one reload a second (its default).
sec_nsd_conf() {
	local name=$1 pport=$2 dir=${SEC_DIR[$1]} key=$SEC_KEY_NAME
	[ "${SEC_NOKEY:-0}" = 1 ] && key=NOKEY
	cat <<EOF
server:
	ip-address: 127.0.0.1@${SEC_PORT[$name]}
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$dir"
	database: ""
	zonefiles-write: 0
	zonelistfile: "$dir/zone.list"
	pidfile: "$dir/nsd.pid"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir/xfr"
	logfile: "$dir/nsd.log"
	verbosity: 2
	xfrd-reload-timeout: 0
	rrl-ratelimit: 0
remote-control:
	control-enable: no
key:
	name: "$SEC_KEY_NAME"
	algorithm: hmac-sha256
	secret: "$SEC_KEY_SECRET"
zone:
	name: "$TL_ZONE"
	zonefile: "$dir/$TL_ZONE.zone"
	request-xfr: 127.0.0.1@$pport $key
	allow-notify: 127.0.0.1 $key
	allow-axfr-fallback: yes
EOF
}

# The BIND configuration (named.conf(5)) of a secondary; named -g logs to its stderr.
sec_bind_conf() {
	local name=$1 pport=$2 dir=${SEC_DIR[$1]} key="key \"$SEC_KEY_NAME\""
	[ "${SEC_NOKEY:-0}" = 1 ] && key=""
	cat <<EOF
options {
	directory "$dir";
	pid-file "$dir/named.pid";
	session-keyfile "$dir/session.key";
	managed-keys-directory "$dir";
	listen-on port ${SEC_PORT[$name]} { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
};
controls { };
key "$SEC_KEY_NAME" {
	algorithm hmac-sha256;
	secret "$SEC_KEY_SECRET";
};
zone "$TL_ZONE" {
	type secondary;
	file "$dir/$TL_ZONE.zone";
	primaries port $pport { 127.0.0.1 $key; };
	allow-notify { 127.0.0.1; };
};
EOF
}

# The Knot configuration (knot.conf(5)), as a secondary (PRIMARY_PORT) or as a primary of a
# file (ZONEFILE, NOTIFY instance names).
sec_knot_conf() {
	local name=$1 dir=${SEC_DIR[$1]} remote_key="key: $SEC_KEY_NAME" n
	[ "${SEC_NOKEY:-0}" = 1 ] && remote_key=""
	cat <<EOF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@${SEC_PORT[$name]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir/db"
    journal-db-max-size: 256M
    timer-db-max-size: 16M
    kasp-db-max-size: 16M
    catalog-db-max-size: 16M
control:
    listen: "$dir/knot.sock"
log:
  - target: "$dir/knot.log"
    any: info
key:
  - id: $SEC_KEY_NAME
    algorithm: hmac-sha256
    secret: $SEC_KEY_SECRET
EOF
	if [ "${SEC_KIND[$name]}" = knot ]; then
		cat <<EOF
remote:
  - id: primary
    address: 127.0.0.1@$2
    $remote_key
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    key: $SEC_KEY_NAME
    action: notify
zone:
  - domain: $TL_ZONE
    file: "$dir/$TL_ZONE.zone"
    master: primary
    acl: notify_from_primary
    zonefile-sync: -1
    journal-content: changes
EOF
		return
	fi
	# A primary: signed transfers from loopback; NOTIFY to the named instances.
	local zonefile=$2
	shift 2
	if [ $# -gt 0 ]; then
		echo "remote:"
		for n in "$@"; do
			printf '  - id: %s\n    address: 127.0.0.1@%s\n    key: %s\n' "$n" "${SEC_PORT[$n]}" "$SEC_KEY_NAME"
		done
	fi
	cat <<EOF
acl:
  - id: transfer
    address: 127.0.0.0/8
    key: $SEC_KEY_NAME
    action: transfer
zone:
  - domain: $TL_ZONE
    file: "$zonefile"
    acl: transfer
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
    semantic-checks: off
EOF
	[ $# -gt 0 ] && echo "    notify: [$(echo "$@" | sed 's/ /, /g')]"
	return 0
}

# sec_run NAME: starts the instance from its written config; waits until it answers on its
# port (any status: a secondary without its zone yet answers SERVFAIL).
sec_run() {
	local name=$1 dir=${SEC_DIR[$1]} pid i
	case ${SEC_KIND[$name]} in
	nsd) nsd -d -c "$dir/nsd.conf" >>"$dir/stdout.log" 2>&1 & ;;
	bind) named -g -n 1 -c "$dir/named.conf" >>"$dir/stdout.log" 2>&1 & ;;
	*) knotd -c "$dir/knot.conf" >>"$dir/stdout.log" 2>&1 & ;;
	esac
	pid=$!
	SEC_PID[$name]=$pid
	TL_PIDS+=("$pid")
	for i in $(seq 1 $((100 * TL_SLOW))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			tl_die "$name (${SEC_KIND[$name]}) starts" "$(tail -n 20 "$dir/stdout.log" "$(sec_log "$name")" 2>/dev/null)"
		fi
		if dig @127.0.0.1 -p "${SEC_PORT[$name]}" +time=1 +tries=1 "$TL_ZONE" SOA 2>/dev/null |
			grep -q 'status: '; then
			return 0
		fi
		sleep 0.1
	done
	tl_die "$name (${SEC_KIND[$name]}) answers on port ${SEC_PORT[$name]} within $((10 * TL_SLOW)) s" \
		"$(tail -n 20 "$dir/stdout.log" "$(sec_log "$name")" 2>/dev/null)"
}

sec_start() {
	local name=$1 pport=$2 dir=${SEC_DIR[$1]}
	SEC_PRIMARY[$name]=$pport
	[ -n "$SEC_KEY_NAME" ] || sec_key_new
	case ${SEC_KIND[$name]} in
	nsd) sec_nsd_conf "$name" "$pport" >"$dir/nsd.conf" ;;
	knot) sec_knot_conf "$name" "$pport" >"$dir/knot.conf" ;;
	bind) sec_bind_conf "$name" "$pport" >"$dir/named.conf" ;;
	*) tl_die "sec_start: $name is a ${SEC_KIND[$name]}" ;;
	esac
	sec_run "$name"
}

sec_start_primary() {
	local name=$1 zonefile=$2 dir=${SEC_DIR[$1]}
	shift 2
	[ -n "$SEC_KEY_NAME" ] || sec_key_new
	sec_knot_conf "$name" "$zonefile" "$@" >"$dir/knot.conf"
	sec_run "$name"
}

# sec_primary_reload NAME: the Knot primary reads its file again (a new serial: the change
# goes to its journal, IXFR, and NOTIFY to its secondaries).
sec_primary_reload() {
	knotc -s "${SEC_DIR[$1]}/knot.sock" -t $((5 * TL_SLOW)) zone-reload "$TL_ZONE" >/dev/null 2>&1
}

sec_stop() {
	local name=$1 pid=${SEC_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $((50 * TL_SLOW))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SEC_PID[$name]=
	return 0
}

sec_dig() {
	local name=$1
	shift
	dig @127.0.0.1 -p "${SEC_PORT[$name]}" +time=$((2 * TL_SLOW)) +tries=1 +norecurse "$@" 2>/dev/null
}

sec_serial() { sec_dig "$1" +short "$TL_ZONE" SOA | awk 'NF == 7 && $1 !~ /^;/ && $3 ~ /^[0-9]+$/ { print $3; exit }'; }

sec_a() { sec_dig "$1" +short "$2" A | head -n 1; }

# serial_ge A B: A is B or after B in RFC 1982 serial number arithmetic (32 bits).
serial_ge() {
	[ -n "$1" ] && [ -n "$2" ] || return 1
	local d=$(( ($1 - $2) & 0xffffffff ))
	[ "$d" -lt $((0x80000000)) ]
}

sec_wait_serial() {
	local name=$1 want=$2 n=${3:-300} i got
	for i in $(seq 1 $((n * TL_SLOW))); do
		got=$(sec_serial "$name")
		serial_ge "$got" "$want" && return 0
		sleep 0.1
	done
	return 1
}

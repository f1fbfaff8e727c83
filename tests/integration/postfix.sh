# postfix.sh - a private Postfix instance for the trap's tests and benchmark: configuration,
# queue and log in one directory, smtpd on a loopback port, never the system's Postfix.
# Sourced; needs postfix installed (scripts/deps.sh --test) and root (master runs as root,
# its daemons as the postfix user).
#
#   pf_setup DIR PORT relay TRAP_PORT  # mail to trap domains goes to the trap on TRAP_PORT
#   pf_setup DIR PORT discard          # everything is accepted and thrown away (discard:)
#   pf_start DIR / pf_stop DIR         # postfix -c DIR/etc start / stop (by master's pid)

# pf_setup DIR PORT MODE [TRAP_PORT [SOURCE_ADDRESS]]
pf_setup() {
	local dir=$1 port=$2 mode=$3 trap_port=${4:-} src=${5:-127.0.0.5}
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
	chown postfix "$dir/data"
	chmod 755 "$dir" "$dir/etc"
	cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
myhostname = sender.test
mydomain = sender.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = /dev/stdout
smtp_dns_support_level = disabled
smtp_helo_name = sender.test
CF
	if [ "$mode" = relay ]; then
		printf 'trap.example smtp:[127.0.0.1]:%s\n' "$trap_port" >"$dir/etc/transport"
		# Nothing may leave this machine: mail goes to the trap, or nowhere.
		cat >>"$dir/etc/main.cf" <<CF
default_transport = error:5.0.0 this test instance delivers only to the trap
relay_transport = \$default_transport
transport_maps = texthash:$dir/etc/transport
smtp_bind_address = $src
smtp_tls_security_level = may
smtp_tls_loglevel = 1
CF
	else
		cat >>"$dir/etc/main.cf" <<CF
default_transport = discard
relay_transport = discard
CF
	fi
	# Debian's services, none chrooted (the queue is ours, not /var/spool/postfix).
	cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
}

# pf_start DIR PORT: master in the foreground of a background job (its log, on stdout, goes
# to DIR/maillog); sets PF_PID. Waits until smtpd accepts on PORT, 10 s at most.
PF_PID=
pf_start() {
	local _
	postfix -c "$1/etc" start-fg >"$1/maillog" 2>&1 </dev/null &
	PF_PID=$!
	for _ in $(seq 1 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' \
			"$2" 2>/dev/null && return 0
		kill -0 "$PF_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# pf_stop DIR: postfix stop (it signals master by the pid in its queue), then waits for our
# job PF_PID to end, 10 s at most, and kills it if it does not.
pf_stop() {
	local _
	postfix -c "$1/etc" stop >/dev/null 2>&1
	[ -n "$PF_PID" ] || return 0
	for _ in $(seq 1 100); do
		kill -0 "$PF_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PF_PID" 2>/dev/null && kill -KILL "$PF_PID" 2>/dev/null
	wait "$PF_PID" 2>/dev/null
	PF_PID=
}

#!/usr/bin/env bash
# ab.sh - the DNS and intake benchmarks on two git revisions side by side, in ABBA pairs,
# reported as ratios new / old: for a change that must show it kept the speed.
#
#   bench/ab.sh [--quick] [--pairs N] [--only dns|intake] [--no-save] OLD_REV [NEW_REV]
#
#   OLD_REV, NEW_REV  git revisions (NEW_REV: HEAD). Each is built from its commit, never
#                from the working tree (uncommitted changes are not measured), in
#                bench/out/ab/<commit>/build; a build already there is reused.
#   --pairs N    pairs per figure, old-new then new-old and so on (default 6)
#   --quick      100k entries, 3 s DNS runs, intake.sh --quick's sizes, 1 pair: for trying
#                the script; its figures mean little and its log stays in bench/out/ab/
#   --only X     dns or intake: run one half only
#   --no-save    do not copy the log of a full run into bench/results/
#
# Figures: DNS (trapline serve --static, one worker on cpu 0, dns.sh's 1M-entry zone and
# queries, qblast on cpu 1 at full load for 10 s): max qps, server CPU per query, load time
# (exec to first correct answer), VmRSS after load. Intake (each revision's bench_intake, run
# as intake.sh runs it): events/s with 64 producers and with 8 producers of 64 events a call,
# the rebuild of 1M listings, and the median of the phase ratios of DNS with 1,000 changes/s
# on and off every 500 ms. A figure the old bench_intake cannot measure is skipped, and said.
# Before every run the script waits for a quiet machine (quiet.sh). Everything is on
# loopback, bounded by timeouts, and every process it starts is stopped by PID on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
args=("$@")

die() { echo "ab.sh: $*" >&2; exit 2; }
pairs=6 pairs_set=0 quick=0 only="" save=1 revs=() flags=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 flags+=" $1"; shift ;;
	--pairs)
		[[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 20 ] || die "--pairs needs a number from 1 to 20"
		pairs=$2 pairs_set=1 flags+=" $1 $2"; shift 2 ;;
	--only)
		[[ ${2:-} =~ ^(dns|intake)$ ]] || die "--only takes dns or intake, not '${2:-}'"
		only=$2 flags+=" $1 $2"; shift 2 ;;
	--no-save) save=0; shift ;;
	-h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) revs+=("$1"); shift ;;
	esac
done
[ ${#revs[@]} -ge 1 ] || die "which revision is the old one? usage: bench/ab.sh [--quick] [--pairs N] [--only dns|intake] OLD_REV [NEW_REV]"
[ ${#revs[@]} -le 2 ] || die "two revisions at most, got: ${revs[*]}"
do_dns=1 do_intake=1
[ "$only" = dns ] && do_intake=0
[ "$only" = intake ] && do_dns=0

# Sizes: those of dns.sh and intake.sh (and of their --quick).
size=1000000 NQ=500000 dsecs=10 warm=3
events=200000 listings=1000000 psecs=30
# shellcheck disable=SC2034 # read by quiet.sh's wait_quiet
max_foreign=5 quiet_wait=60
# shellcheck disable=SC2034
if [ $quick = 1 ]; then
	size=100000 NQ=100000 dsecs=3 warm=1
	events=20000 listings=100000 psecs=3
	quiet_wait=10 save=0
	[ $pairs_set = 1 ] || pairs=1
fi
SCPU=0 CCPU=1 ZONE=bl.example.org

for t in git python3 taskset timeout flock dig cc cmake ps; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --test installs what is needed)"
done

# ------------------------------------------------------------------ revisions
commit_of() {
	git -C "$root" rev-parse --verify --quiet "$1^{commit}" ||
		die "'$1' is not a commit in this repository"
}
OLD=$(commit_of "${revs[0]}")
NEW=$(commit_of "${revs[1]:-HEAD}")
short() { git -C "$root" rev-parse --short=7 "$1"; }
OLD_S=$(short "$OLD") NEW_S=$(short "$NEW")
declare -A SHA=([old]=$OLD [new]=$NEW) SHORT=([old]=$OLD_S [new]=$NEW_S)

# ------------------------------------------------------------------ workspace, cleanup
abdir=$root/bench/out/ab
mkdir -p "$abdir"
work=$(mktemp -d "${TMPDIR:-/tmp}/trapline-ab.XXXXXX")
chmod 755 "$work" # trapline started as root drops to nobody, and must still read the zone
pids=() trees=()
cleanup() {
	local p
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
	for p in "${trees[@]+"${trees[@]}"}"; do rm -rf "$p"; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() { # drop a PID that has ended, so cleanup never signals a reused one
	local p rest=()
	for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || rest+=("$p"); done
	pids=("${rest[@]+"${rest[@]}"}")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
# Runs a command under timeout (which passes a TERM on to the command's whole process
# group), pinned to CPU unless it is "-", output to OUT; returns the command's status.
run_bounded() { # OUT LIMIT_S CPU cmd...
	local out=$1 lim=$2 cpu=$3 pid rc=0
	shift 3
	if [ "$cpu" = - ]; then
		timeout -k 5 "$lim" "$@" >"$out" 2>&1 &
	else
		taskset -c "$cpu" timeout -k 5 "$lim" "$@" >"$out" 2>&1 &
	fi
	pid=$!; pids+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	return $rc
}

stamp=$(date -u +%Y%m%d-%H%M%S)
qtag=""
[ $quick = 1 ] && qtag=-quick
log=$abdir/$stamp-$NEW_S-ab-$OLD_S${only:+-$only}$qtag.txt
say() { echo "$*" | tee -a "$log"; }

# ------------------------------------------------------------------ builds
# The sources come from `git archive`, which only reads the repository: a `git worktree`
# would write into the repository that other checkouts share. The sources are removed after
# the build; the binaries stay, and the next run for the same commit reuses them.
has_intake() { git -C "$root" cat-file -e "$1:bench/intake.c" 2>/dev/null; }
declare -A TRAPLINE INTAKE
build_rev() { # side
	local side=$1 sha=${SHA[$1]} dir lock b rc
	dir=$abdir/$sha b=$abdir/$sha/build
	mkdir -p "$dir"
	exec {lock}>"$dir/lock"
	flock -w 3600 "$lock" || die "another bench/ab.sh has held $dir/lock for an hour"
	if [ -f "$b/AB_BUILT" ] && [ -x "$b/trapline" ] && { ! has_intake "$sha" || [ -x "$b/bench_intake" ]; }; then
		say "   $side ${SHORT[$side]}: reusing the build in ${b#"$root"/}"
	else
		say "   $side ${SHORT[$side]}: building trapline and bench_intake (RelWithDebInfo) in ${b#"$root"/}"
		rm -rf "$dir/src" "$b"
		mkdir -p "$dir/src"
		trees+=("$dir/src")
		git -C "$root" archive --format=tar "$sha" | tar -x -C "$dir/src" ||
			die "git archive of $sha failed"
		rc=0
		run_bounded "$dir/build.log" 1800 - cmake -S "$dir/src" -B "$b" \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAPLINE_WERROR=OFF || rc=$?
		[ $rc = 0 ] && { run_bounded "$dir/build-trapline.log" 3600 - \
			cmake --build "$b" -j "$(nproc)" --target trapline || rc=$?; }
		if [ $rc != 0 ]; then
			tail -20 "$dir/build.log" "$dir/build-trapline.log" 2>/dev/null >&2 || true
			die "could not build trapline at ${SHORT[$side]} (exit $rc; logs in ${dir#"$root"/}/)"
		fi
		if has_intake "$sha"; then # without it the intake figures are skipped, and the next run tries again
			run_bounded "$dir/build-intake.log" 3600 - \
				cmake --build "$b" -j "$(nproc)" --target bench_intake ||
				say "   (bench_intake did not build at ${SHORT[$side]}: see ${dir#"$root"/}/build-intake.log)"
		fi
		echo "git archive $sha; cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAPLINE_WERROR=OFF" >"$b/AB_BUILT"
		rm -rf "$dir/src"
	fi
	exec {lock}>&-
	TRAPLINE[$side]=$b/trapline
	INTAKE[$side]=""
	[ -x "$b/bench_intake" ] && INTAKE[$side]=$b/bench_intake
	return 0
}

# ------------------------------------------------------------------ header
hdr() {
	local dirty=""
	[ ${#revs[@]} = 1 ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
		dirty=" (the working tree has uncommitted changes: they are not measured)"
	echo "== bench/ab.sh, $(date -u +%Y-%m-%dT%H:%MZ): new / old, $pairs pair(s)$([ $quick = 1 ] && echo ', --quick')"
	echo "   command: bench/ab.sh ${args[*]}"
	echo "   old: $OLD_S $(git -C "$root" log -1 --format='%cs %s' "$OLD")"
	echo "   new: $NEW_S $(git -C "$root" log -1 --format='%cs %s' "$NEW")$dirty"
	[ "$OLD" = "$NEW" ] && echo "   (the same commit on both sides: an A/A run, which measures the noise)"
	echo "   machine: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "   servers on cpu $SCPU, load generators and producers on cpu $CCPU; pairs run old-new, new-old, ..."
}
hdr | tee -a "$log"
say "== builds"
build_rev old
build_rev new

# ------------------------------------------------------------------ helpers
. "$here/quiet.sh" # wait_quiet, stat_busy, TCK
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"
field() { grep '^RESULT' "$2" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p" | tail -1; } # key file
isnum() { [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
median() {
	local v xs=()
	for v in "$@"; do isnum "$v" && xs+=("$v"); done
	[ ${#xs[@]} -gt 0 ] || { echo -; return; }
	printf '%s\n' "${xs[@]}" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
ratio() { if isnum "$1" && isnum "$2" && awk -v b="$2" 'BEGIN{exit !(b > 0)}'; then awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a/b}'; else echo -; fi; }
ticks() { local s; s=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; set -- $s; echo $((${12} + ${13})); }
vm_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
free_port() { # a port free on 127.0.0.1 for both UDP and TCP
	python3 - <<-'EOF'
	import socket
	for _ in range(100):
	    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
	    p = u.getsockname()[1]
	    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	    try:
	        t.bind(("127.0.0.1", p))
	    except OSError:
	        continue
	    finally:
	        u.close(); t.close()
	    print(p); break
	EOF
}
order() { if [ $(($1 % 2)) = 1 ]; then echo old new; else echo new old; fi; } # pair -> sides in turn

# Figures: VAL[fig/side/pair] holds a run's value; SKIP[fig] says why a figure was not measured.
FIGS=()
declare -A VAL SKIP FNAME FUNIT FBETTER MARK
figure() { FIGS+=("$1"); FNAME[$1]=$2; FUNIT[$1]=$3; FBETTER[$1]=$4; } # key what unit higher|lower

# ------------------------------------------------------------------ DNS
# One run: start the revision's server on the zone, time exec to the first correct answer,
# read VmRSS 0.5 s later, warm up, then qblast at full load; a run during which other
# processes used over 5% of a core is repeated twice at most and marked '!'.
wait_answer() { # port pid: polls the RFC 5782 test point every 10 ms, for 300 s at most
	local r n=0
	while :; do
		r=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "2.0.0.127.$ZONE" A 2>/dev/null || true)
		[ "$r" = 127.0.0.2 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		n=$((n + 1)); [ $n -gt 30000 ] && return 1
		sleep 0.01
	done
}
child_of() { # the process timeout started (the server itself: its CPU time and memory)
	local c i
	for i in $(seq 1 200); do
		c=$(ps -o pid= --ppid "$1" 2>/dev/null | head -1 | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.005
	done
	return 1
}
dns_run() { # side pair
	local side=$1 p=$2 port d t0 wpid spid load rss attempt c0 c1 b0 b1 t1 res qcpu foreign mark comp us qps
	port=$(free_port)
	[ -n "$port" ] || die "no free port on 127.0.0.1"
	d=$(mktemp -d "$work/var.XXXXXX")
	wait_quiet
	t0=$EPOCHREALTIME
	taskset -c $SCPU timeout -k 5 $((dsecs * 3 + warm + 900)) "${TRAPLINE[$side]}" serve --static "$work/zone" \
		--threads 1 --dns "127.0.0.1:$port" --data "$d" --log-level warn >"$work/server.log" 2>&1 &
	wpid=$!; pids+=("$wpid")
	if ! spid=$(child_of "$wpid") || ! wait_answer "$port" "$spid"; then
		tail -20 "$work/server.log" >&2
		die "trapline at ${SHORT[$side]} did not answer 2.0.0.127.$ZONE with 127.0.0.2"
	fi
	load=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
	sleep 0.5
	rss=$(awk -v k="$(vm_kb "$spid" VmRSS)" 'BEGIN{printf "%.1f", k/1024}')
	run_bounded "$work/warm.out" $((warm + 30)) $CCPU "$work/qblast" -s 127.0.0.1 -p "$port" \
		-d "$work/queries.txt" -l "$warm" -q 100 || die "qblast warm-up against ${SHORT[$side]} failed"
	for attempt in 1 2 3; do
		wait_quiet
		c0=$(ticks "$spid") b0=$(stat_busy) t0=$EPOCHREALTIME
		run_bounded "$work/qblast.out" $((dsecs + 30)) $CCPU "$work/qblast" -s 127.0.0.1 -p "$port" \
			-d "$work/queries.txt" -l "$dsecs" -q 100 ||
			{ cat "$work/qblast.out" >&2; die "qblast against ${SHORT[$side]} failed"; }
		c1=$(ticks "$spid") b1=$(stat_busy) t1=$EPOCHREALTIME
		res=$work/qblast.out
		qcpu=$(field cpu_s "$res")
		foreign=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v k="$TCK" -v q="$qcpu" -v a="$t0" -v z="$t1" \
			'BEGIN{f=100*((b-c)/k-q)/(z-a); printf "%.0f", f<0 ? 0 : f}')
		mark=""
		[ "$foreign" -le "$max_foreign" ] && break
		mark="!"
		[ $attempt -lt 3 ] && say "   ($side run disturbed: others used $foreign% of a core; repeating)"
	done
	stop "$wpid"
	qps=$(awk -v v="$(field qps "$res")" 'BEGIN{printf "%.0f", v}')
	comp=$(field completed "$res")
	us=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v n="$comp" 'BEGIN{if (n > 0) printf "%.2f", 1e6*c/k/n; else print "-"}')
	VAL[dns.qps/$side/$p]=$qps VAL[dns.us/$side/$p]=$us VAL[dns.load/$side/$p]=$load VAL[dns.rss/$side/$p]=$rss
	MARK[dns/$side/$p]=$mark
	VAL[dns.nx/$side/$p]=$(awk -v a="$(field nxdomain "$res")" -v b="$comp" 'BEGIN{printf "%.4f", b ? a/b : 0}')
	say "$(printf '   %-3s %s: load %6.3f s  VmRSS %6.1f MiB  qps %7s  server %5s us/query  cpu %3.0f%%  qblast %s%%  lost %s  others %s%% %s' \
		"$side" "${SHORT[$side]}" "$load" "$rss" "$qps" "$us" \
		"$(awk -v c=$((c1 - c0)) -v k="$TCK" -v a="$t0" -v b="$t1" 'BEGIN{print 100*c/k/(b-a)}')" \
		"$(field cpu_pct "$res")" "$(field lost "$res")" "$foreign" "$mark")"
}
if [ $do_dns = 1 ]; then
	figure dns.qps "max qps, one worker on cpu 0, qblast -q 100 on cpu 1" qps higher
	figure dns.us "server CPU time per answered query" us lower
	figure dns.load "load time of $size entries, exec to first correct answer" s lower
	figure dns.rss "VmRSS 0.5 s after the first answer" MiB lower
	data=$root/bench/out/data-$size
	say "== DNS: trapline serve --static ($size entries, ${data#"$root"/}), ${dsecs} s at full load"
	# dns.sh's data and queries (gen.py, the seeds of ANCHORS.md), in the same cache
	"$here/anchor-dns.sh" --gen-only "$data" --queries "$NQ" "$size" >/dev/null
	[ -s "$data/zone.rbldnsd" ] && [ -s "$data/queries.txt" ] || die "no data in $data"
	cp "$data/zone.rbldnsd" "$work/zone" && cp "$data/queries.txt" "$work/queries.txt"
	chmod 644 "$work/zone" "$work/queries.txt"
	for p in $(seq 1 "$pairs"); do
		say "-- pair $p"
		for s in $(order "$p"); do dns_run "$s" "$p"; done
	done
	nxs_o=() nxs_n=()
	for p in $(seq 1 "$pairs"); do nxs_o+=("${VAL[dns.nx/old/$p]}") nxs_n+=("${VAL[dns.nx/new/$p]}"); done
	nxo=$(median "${nxs_o[@]}") nxn=$(median "${nxs_n[@]}")
	awk -v a="$nxo" -v b="$nxn" 'BEGIN{d=a-b; exit !(d > 0.01 || d < -0.01)}' &&
		say "WARNING: the share of NXDOMAIN answers differs (old $nxo, new $nxn): do both serve the same answers?"
fi

# ------------------------------------------------------------------ intake
# Each revision's own bench_intake, as intake.sh runs it: throughput and rebuild unpinned,
# serve on cpu 0 with its producer and qblast on cpu 1. An option the source of a side's
# bench_intake does not know skips the figure.
intake_knows() { # side word...: does that side's bench/intake.c know every word?
	local side=$1 w src
	shift
	[ -n "${INTAKE[$side]}" ] || return 1
	src=$(git -C "$root" show "${SHA[$side]}:bench/intake.c" 2>/dev/null) || return 1
	for w in "$@"; do grep -qF "\"$w\"" <<<"$src" || return 1; done
}
needs() { # fig word...: sets SKIP[fig] when a side cannot run it
	local f=$1 s w miss
	shift
	for s in old new; do
		if [ -z "${INTAKE[$s]}" ]; then
			SKIP[$f]="$s ${SHORT[$s]} has no bench_intake"; return 1
		fi
		miss=""
		for w in "$@"; do intake_knows "$s" "$w" || miss+=" $w"; done
		if [ -n "$miss" ]; then
			SKIP[$f]="bench_intake at $s ${SHORT[$s]} does not know:$miss"; return 1
		fi
	done
}
intake_one() { # fig side pair key limit_s args...: one bench_intake run, its RESULT's key
	local f=$1 side=$2 p=$3 key=$4 lim=$5 out=$work/intake.out rc=0 v
	shift 5
	wait_quiet
	run_bounded "$out" "$lim" - "${INTAKE[$side]}" "$@" || rc=$?
	v=$(field "$key" "$out")
	if [ -z "$v" ]; then
		if grep -q 'unknown option\|unknown mode\|usage:' "$out"; then
			SKIP[$f]="bench_intake at $side ${SHORT[$side]}: $(head -1 "$out")"
			say "   $side ${SHORT[$side]}: $(head -1 "$out") (figure skipped)"
			return 1
		fi
		tail -5 "$out" >&2
		die "bench_intake $* at ${SHORT[$side]} gave no $key (exit $rc)"
	fi
	VAL[$f/$side/$p]=$v
	say "   $side ${SHORT[$side]}: $(grep '^RESULT' "$out" | tail -1)$([ $rc = 0 ] || echo " (exit $rc)")"
}
# intake.sh section 3b: the service on cpu 0 with 1,000 changes/s on and off every 500 ms,
# producer and qblast on cpu 1; the run's figure is the median of its PHASE_RATIOS.
phase_one() { # side pair
	local side=$1 p=$2 port out=$work/serve.out wpid i rc=0 v n
	wait_quiet
	port=$(free_port)
	taskset -c $SCPU timeout -k 5 $((psecs + 604)) "${INTAKE[$side]}" serve --port "$port" --changes 1000 \
		--seconds $((psecs + 4)) --listings "$listings" --producer-cpu $CCPU --phase-ms 500 >"$out" 2>&1 &
	wpid=$!; pids+=("$wpid")
	for i in $(seq 1 3000); do
		grep -q '^ready' "$out" && break
		kill -0 "$wpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' "$out"; then
		stop "$wpid"; tail -5 "$out" >&2
		die "bench_intake serve at ${SHORT[$side]} did not get ready"
	fi
	sleep 1
	run_bounded "$work/serve.q" $((psecs + 30)) $CCPU "$work/qblast" -s 127.0.0.1 -p "$port" \
		-d "$work/iq.txt" -l "$psecs" -q 100 || say "   (qblast against ${SHORT[$side]}'s serve failed)"
	wait "$wpid" || rc=$?
	forget "$wpid"
	v=$(grep '^PHASE_RATIOS' "$out" | cut -d' ' -f2- | tr ' ' '\n' | grep . | sort -g |
		awk '{a[NR]=$1} END{if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
	n=$(grep '^PHASE_RATIOS' "$out" | cut -d' ' -f2- | wc -w)
	[ -n "$v" ] && VAL[intake.phase/$side/$p]=$v
	say "   $side ${SHORT[$side]}: median of $n phase ratios ${v:--}; qblast qps $(field qps "$work/serve.q") lost $(field lost "$work/serve.q")$([ $rc = 0 ] || echo " (exit $rc)")"
}
runnable() { # fig word...: 0 if both sides can run it, else says why not
	needs "$@" && return 0
	say "   skipped: ${SKIP[$1]}"
	return 1
}
pairs_of() { # fig cmd args...: runs "cmd fig side pair args..." for each run of the pairs
	local f=$1 p s
	shift
	for p in $(seq 1 "$pairs"); do
		for s in $(order "$p"); do
			"$1" "$f" "$s" "$p" "${@:2}" || return 0
		done
	done
}
phase_wrap() { phase_one "$2" "$3"; } # fig side pair
if [ $do_intake = 1 ]; then
	figure intake.ev64 "events committed, 64 producers, one event a call" events/s higher
	figure intake.ev8 "events committed, 8 producers, 64 events a call" events/s higher
	figure intake.rebuild "start-up rebuild of $listings listings" s lower
	figure intake.phase "DNS qps with 1000 changes/s / without, alternating every 500 ms (median)" ratio higher
	say "== intake: bench_intake of each revision"
	say "-- throughput --events $events --producers 64"
	runnable intake.ev64 throughput --events --producers &&
		pairs_of intake.ev64 intake_one events_per_s 900 throughput --events "$events" --producers 64
	say "-- throughput --events $events --producers 8 --batch 64"
	runnable intake.ev8 throughput --events --producers --batch &&
		pairs_of intake.ev8 intake_one events_per_s 900 throughput --events "$events" --producers 8 --batch 64
	say "-- rebuild --listings $listings"
	runnable intake.rebuild rebuild --listings &&
		pairs_of intake.rebuild intake_one rebuild_s 900 rebuild --listings "$listings"
	say "-- serve --changes 1000 --phase-ms 500 --listings $listings, ${psecs} s under load"
	if runnable intake.phase serve --port --changes --seconds --listings --producer-cpu --phase-ms; then
		python3 - "$work/iq.txt" <<-'PY' # intake.sh's queries: 11.0.0.0/8 holds what the writer lists
		import random, sys
		random.seed(3)
		with open(sys.argv[1], "w") as f:
		    for _ in range(200000):
		        ip = 0x0b000000 + random.randrange(0, 200000)
		        f.write("%d.%d.%d.%d.bl.example.org A\n" % (ip & 255, ip >> 8 & 255, ip >> 16 & 255, ip >> 24))
		PY
		pairs_of intake.phase phase_wrap
	fi
fi

# ------------------------------------------------------------------ report
minmax() { # values -> min..max of the numeric ones
	local v xs=()
	for v in "$@"; do isnum "$v" && xs+=("$v"); done
	[ ${#xs[@]} -gt 0 ] || { echo -; return; }
	printf '%s\n' "${xs[@]}" | sort -g | sed -n '1p;$p' | paste -sd' ' | awk '{print $1 ".." ($2 == "" ? $1 : $2)}'
}
declare -A MED_O MED_N RAT SPREAD
report_fig() { # fig
	local f=$1 p o n olds=() news=() rs=()
	say ""
	say "$f: ${FNAME[$f]}, ${FUNIT[$f]} (${FBETTER[$f]} is better)"
	if [ -n "${SKIP[$f]:-}" ]; then say "   skipped: ${SKIP[$f]}"; return 0; fi
	for p in $(seq 1 "$pairs"); do
		o=${VAL[$f/old/$p]:--} n=${VAL[$f/new/$p]:--}
		olds+=("$o") news+=("$n") rs+=("$(ratio "$n" "$o")")
		say "$(printf '   %-16s old %10s%-1s new %10s%-1s new/old %s' "pair $p, $(order "$p" | tr ' ' ,)" \
			"$o" "${MARK[${f%%.*}/old/$p]:-}" "$n" "${MARK[${f%%.*}/new/$p]:-}" "${rs[-1]}")"
	done
	MED_O[$f]=$(median "${olds[@]}") MED_N[$f]=$(median "${news[@]}")
	RAT[$f]=$(ratio "${MED_N[$f]}" "${MED_O[$f]}") SPREAD[$f]=$(minmax "${rs[@]}")
	say "$(printf '   %-16s old %10s  new %10s  new/old %s  (pairs %s)' median "${MED_O[$f]}" "${MED_N[$f]}" "${RAT[$f]}" "${SPREAD[$f]}")"
}
say ""
say "== each figure: the values of each pair (in the order they ran), the medians, new/old"
[ $do_dns = 1 ] && say "   (! after a DNS value: other processes used over $max_foreign% of a core during all three tries of that run)"
for f in "${FIGS[@]}"; do report_fig "$f"; done
say ""
say "summary: medians of $pairs pair(s); new/old above 1 is better for qps, events/s and the phase ratio, below 1 for us, s and MiB"
say "$(printf '%-16s %-9s %12s %12s %8s  %s' figure unit "old $OLD_S" "new $NEW_S" new/old "pair ratios")"
line="" skipped=""
for f in "${FIGS[@]}"; do
	if [ -n "${SKIP[$f]:-}" ]; then
		say "$(printf '%-16s %-9s %12s %12s %8s  %s' "$f" "${FUNIT[$f]}" - - - "skipped")"
		skipped+=" $f"
		continue
	fi
	say "$(printf '%-16s %-9s %12s %12s %8s  %s' "$f" "${FUNIT[$f]}" "${MED_O[$f]}" "${MED_N[$f]}" "${RAT[$f]}" "${SPREAD[$f]}")"
	line+="${line:+, }$f ${RAT[$f]} (${SPREAD[$f]})"
done
say ""
say "for a commit message: bench/ab.sh$flags $OLD_S $NEW_S, new/old of the medians of $pairs ABBA pair(s) (min..max of the pairs): $line${skipped:+; not measured:$skipped}"

if [ $save = 1 ]; then
	mkdir -p "$root/bench/results"
	res=$root/bench/results/$(date -u +%Y-%m-%d)-$NEW_S-ab-$OLD_S${only:+-$only}
	dest=$res.txt i=1
	while [ -e "$dest" ]; do i=$((i + 1)); dest=$res-$i.txt; done # never over an earlier run
	cp "$log" "$dest"
	echo "ab.sh: log written to ${log#"$root"/} and ${dest#"$root"/}" >&2
else
	echo "ab.sh: log written to ${log#"$root"/}" >&2
fi

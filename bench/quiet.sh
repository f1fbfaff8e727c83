# quiet.sh - sourced by the benchmarks: wait until the machine is quiet before a run, so that
# a build or a test suite running beside us does not decide the figures.
#
#   max_foreign=PCT  (5)   others may use this much of one core
#   quiet_wait=S     (60)  wait this long at most, then go on and say so
TCK=$(getconf CLK_TCK)
stat_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
wait_quiet() { # until others use < max_foreign % of a core (call it while ours are idle)
	local waited=0 b0 b1 pct
	while :; do
		b0=$(stat_busy); sleep 1; b1=$(stat_busy)
		pct=$(((b1 - b0) * 100 / TCK))
		[ "$pct" -le "${max_foreign:-5}" ] && return 0
		if [ "$waited" -ge "${quiet_wait:-60}" ]; then
			echo "   (machine busy: others use ${pct}% of a core; going on)" >&2
			return 0
		fi
		sleep 4; waited=$((waited + 5))
	done
}

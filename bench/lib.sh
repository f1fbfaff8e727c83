# lib.sh - what the bench scripts share: a work directory and the processes they start,
# both gone when the script ends, however it ends.
#
#   . "$here/lib.sh"; bench_work NAME
#
# makes $work (mktemp, mode 755 so that a service dropped to nobody can enter it) and pids=();
# a script adds every process it starts to pids. At exit each is killed by PID and waited
# for, bench_before_cleanup runs first when the script defines it, and $work is removed
# (kept, and named, when KEEP_WORK is set).

bench_cleanup() {
	local p
	if declare -F bench_before_cleanup >/dev/null; then bench_before_cleanup || true; fi
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}

bench_work() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	chmod 755 "$work"
	pids=()
	trap bench_cleanup EXIT
}

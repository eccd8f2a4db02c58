# bench/lib.sh: helpers the bench-*.sh scripts source (not a benchmark).

# median N...: the middle value (the upper one of an even count); 0 for none.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }

# ratio A B: A / B to two decimals, "nan" when B is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

# steal_mark: prints a mark of the host's CPU time so far (total, steal),
# from /proc/stat; steal_pct MARK: the share of CPU time, in percent, the
# hypervisor took from this VM since MARK. A noisy host moves every
# contender's figure; the share says how much to trust a run.
steal_mark() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9; exit }' /proc/stat; }
steal_pct() {
	local t0=$1 s0=$2
	awk -v t0="$t0" -v s0="$s0" '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i;
		if (t > t0) printf "%.1f", ($9 - s0) * 100 / (t - t0); else print "0.0"; exit }' /proc/stat
}

# bench_abs_dirs NAME: makes OS_SRCDIR and OS_BUILDDIR absolute, since the
# benchmarks run their programs from other directories and namespaces (a
# relative build directory found nothing there, and the contender measured
# nothing); says so under NAME and fails when either is missing.
bench_abs_dirs() {
	local d
	for d in OS_SRCDIR OS_BUILDDIR; do
		if ! [ -d "${!d}" ]; then
			echo "$1: $d: no such directory: ${!d}" >&2
			return 1
		fi
		printf -v "$d" '%s' "$(cd "${!d}" && pwd)"
	done
}

#!/bin/bash
# bench-gateway.sh [--smoke]: the gateway under load, each figure beside a
# baseline measured on the same server in the same run:
#
#   1. GetSandboxConfig calls per second against Health (the trivial
#      RPC), N calls in flight on one connection, runs interleaved;
#   2. WatchSandbox fan-out: the delay from sending an UpdateConfig (a
#      policy set alternating two policies) to each of 100 watchers
#      (follow_policy, one connection each) receiving the new revision,
#      against the UpdateConfig round trip alone (no watchers open).
#
# A real gateway on a temporary state directory with one sandbox (the
# quickstart policy) and its supervisor. No network namespaces; works as
# root or not. Prints "ratio ..." and "target: ..." lines; exits 0 when
# it measured and non-zero only when it could not run.
set -u
smoke=0
[ "${1:-}" = --smoke ] && smoke=1
: "${OS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${OS_BUILDDIR:=$OS_SRCDIR/build}"
. "$OS_SRCDIR/bench/lib.sh"
bench_abs_dirs bench-gateway || exit 1
OS=$OS_BUILDDIR/openshell
LOAD=$OS_BUILDDIR/bench/gateway-load
for p in "$OS" "$OS_BUILDDIR/openshell-gateway" "$OS_BUILDDIR/openshell-sandbox" "$LOAD"; do
	[ -x "$p" ] || { echo "bench-gateway: $p is not built"; exit 1; }
done
POLICY=$OS_SRCDIR/examples/sandbox-policy-quickstart/policy.yaml
[ -r "$POLICY" ] || { echo "bench-gateway: $POLICY is missing"; exit 1; }

if [ $smoke -eq 1 ]; then
	RUNS=1; SECS=0.5; WARMUP=0.2; EVENTS=5
else
	RUNS=3; SECS=5; WARMUP=1; EVENTS=200
fi
INFLIGHT=32
WATCHERS=100
GAP_MS=25    # between updates: the supervisor's LOADED report settles

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-gateway.XXXXXX") ||
	{ echo "bench-gateway: cannot make a state directory"; exit 1; }
NAME=bench-$$
gw_pid=""
sup_pid=""
os() { "$OS" --state-dir "$DIR" "$@"; }
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	os sandbox delete "$NAME" >/dev/null 2>&1
	os gateway stop >/dev/null 2>&1
	# Whatever is still there is ours: the pids this run started (checked
	# against the state directory on their command line).
	for p in $sup_pid $gw_pid; do
		grep -qsF "$DIR" "/proc/$p/cmdline" && kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
	echo "bench-gateway: $*"
	[ -f "$DIR/gateway.log" ] && tail -n 5 "$DIR/gateway.log" | sed 's/^/  gateway.log: /'
	exit 1
}

# Context for reading the figures: client and gateway share this host.
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
os gateway start --dns hosts-only >"$DIR/start.out" 2>&1 ||
	fail "the gateway did not start: $(cat "$DIR/start.out")"
gw_pid=$(cat "$DIR/gateway.pid" 2>/dev/null)
os sandbox create --name "$NAME" --detach --policy "$POLICY" >"$DIR/create.out" 2>&1 ||
	fail "sandbox create failed: $(cat "$DIR/create.out")"
sup_pid=$(os sandbox get "$NAME" --json 2>/dev/null |
	sed -n 's/.*"supervisor_pid": *\([0-9][0-9]*\).*/\1/p' | head -n 1)

# Policy B: the quickstart plus one rule (network_policies is its last
# section, so an appended entry belongs to it).
POLICY_B=$DIR/policy-b.yaml
{
	cat "$POLICY"
	cat <<'EOF'
  bench_toggle:
    name: bench-toggle
    endpoints:
      - { host: bench-toggle.test, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
EOF
} >"$POLICY_B"

# kv KEY LINE: the value of key=value in a line of gateway-load output.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# 1. Unary rate: Health and GetSandboxConfig interleaved, median of runs.
declare -A per_s
for m in Health GetSandboxConfig; do per_s[$m]=""; done
for r in $(seq 1 $RUNS); do
	for m in Health GetSandboxConfig; do
		out=$("$LOAD" rate --state "$DIR" --method $m --sandbox "$NAME" \
			--seconds $SECS --warmup $WARMUP --inflight $INFLIGHT 2>"$DIR/load.err") ||
			fail "rate $m: $(cat "$DIR/load.err")"
		[ -s "$DIR/load.err" ] && sed 's/^/  /' "$DIR/load.err"
		per_s[$m]+=" $(kv per_s "$out")"
	done
done
h=$(median ${per_s[Health]})
c=$(median ${per_s[GetSandboxConfig]})
echo "rate Health: $h/s, GetSandboxConfig: $c/s (median of $RUNS runs of ${SECS}s, $INFLIGHT in flight; runs:${per_s[Health]} /${per_s[GetSandboxConfig]})"
echo "ratio GetSandboxConfig/Health: $(ratio "$c" "$h") (GetSandboxConfig $c/s, Health $h/s)"
echo "target: GetSandboxConfig >= 50% of Health (ratio >= 0.50)"

# 2. Fan-out of a policy change to 100 watchers.
out=$("$LOAD" fanout --state "$DIR" --sandbox "$NAME" --watchers $WATCHERS \
	--events $EVENTS --gap-ms $GAP_MS --change policy --policy-a "$POLICY" \
	--policy-b "$POLICY_B" 2>"$DIR/load.err") || fail "fanout: $(cat "$DIR/load.err")"
line() { printf '%s\n' "$out" | grep "^$1 "; }
fan=$(line fanout); last=$(line fanout_last)
alone=$(line updateconfig_alone); with=$(line updateconfig_with_watchers)
echo "fanout $WATCHERS watchers: p50 $(kv p50_ms "$fan") ms p99 $(kv p99_ms "$fan") ms max $(kv max_ms "$fan") ms ($EVENTS policy updates, $(kv n "$fan") deliveries; last watcher per update: p50 $(kv p50_ms "$last") ms p99 $(kv p99_ms "$last") ms)"
echo "UpdateConfig rtt: alone p50 $(kv p50_ms "$alone") ms p99 $(kv p99_ms "$alone") ms; with $WATCHERS watchers p50 $(kv p50_ms "$with") ms p99 $(kv p99_ms "$with") ms"
echo "ratio fanout-p99/UpdateConfig-rtt: $(ratio "$(kv p99_ms "$fan")" "$(kv p99_ms "$alone")") (fan-out p99 $(kv p99_ms "$fan") ms, UpdateConfig rtt alone p99 $(kv p99_ms "$alone") ms)"
echo "target: fan-out p99 under 10 ms on this machine (indicative)"
exit 0

#!/bin/bash
# bench-proxy.sh [--smoke]: the egress proxy against a direct connection
# and against tinyproxy, in test namespaces (root):
#
#   1. bulk throughput through a CONNECT tunnel (down and up, MB/s), over
#      whole transfers (the pass line) and in the steady state after them
#   2. new connections per second, identity lookup included
#   3. identity lookup cost, warm and cold, with 500 processes around
#
# Topology: a sink on a test host (namespace + veth) whose near end is a
# "host" namespace of the benchmark's own. The proxy listens in a client
# namespace that has only lo (unpaced, as a sandbox's), its clients run
# there as descendants of the namespace's init, and it dials from the host
# namespace, as a supervisor dials from the machine's. The direct baseline
# and tinyproxy (on 127.0.0.1 in the host namespace, so its path is also
# loopback + veth) run from the host namespace.
#
# The congestion control of the host namespace and the sink's is the
# machine's default for every section, and for the throughput section
# also Debian's default (cubic) when the machine's is another: a pacing
# one (BBR) caps what a sender has in flight by the path's idle round
# trip, which three busy processes on two CPUs stretch. The machine's own
# settings are never touched.
set -u
smoke=0
[ "${1:-}" = --smoke ] && smoke=1
: "${OS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${OS_BUILDDIR:=$OS_SRCDIR/build}"
. "$OS_SRCDIR/bench/lib.sh"
bench_abs_dirs bench-proxy || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-proxy: needs root (network namespaces)"
	exit 1
fi
. "$OS_SRCDIR/tests/e2e/lib/harness.sh"
th_init bench-proxy >/dev/null
LOAD=$OS_BUILDDIR/bench/proxy-load
IDB=$OS_BUILDDIR/bench/proxy-idbench
for p in "$LOAD" "$IDB" "$OS_BUILDDIR/tests/e2e/tools/proxy-driver"; do
	[ -x "$p" ] || { echo "bench-proxy: $p is not built"; exit 1; }
done

if [ $smoke -eq 1 ]; then
	BYTES=$((64 << 20)); RUNS=1; SECS=1; ITERS=20
else
	BYTES=$((1024 << 20)); RUNS=3; SECS=5; ITERS=200
fi
PORT=5001

hostns=$(th_netns host) || { echo "bench-proxy: no host namespace"; exit 1; }
ip=$(th_host srv "$hostns") || { echo "bench-proxy: no test host"; exit 1; }
inhost() { ip netns exec "$hostns" "$@"; }
# cc_set NAME: the congestion control of new connections on the host side
# and the sink's (the sink's listener is the one that sends downloads).
cc_set() {
	inhost sysctl -qw net.ipv4.tcp_congestion_control="$1" &&
		ip netns exec "$(th_ns srv)" sysctl -qw net.ipv4.tcp_congestion_control="$1"
}
machine_cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
cc_set "$machine_cc" || { echo "bench-proxy: cannot set congestion control $machine_cc"; exit 1; }
ip netns exec "$(th_ns srv)" "$LOAD" sink --port $PORT >"$TH_DIR/sink.out" 2>&1 &
th_track_pid $!
th_wait 10 grep -qs ready "$TH_DIR/sink.out" || { echo "bench-proxy: sink did not start"; exit 1; }
th_hosts_file srv.test="$ip" >/dev/null
th_netns_client cli >/dev/null
cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
network_policies:
  bench:
    endpoints:
      - { host: srv.test, port: $PORT }
    binaries:
      - { path: $(readlink -f "$LOAD") }
EOF
TH_PROXY_WRAP=(ip netns exec "$hostns")
th_proxy_driver cli "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" ||
	{ echo "bench-proxy: proxy driver did not start"; exit 1; }

tp_port=""
if command -v tinyproxy >/dev/null; then
	tp_port=$((20000 + RANDOM % 20000))
	cat >"$TH_DIR/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port $tp_port
Listen 127.0.0.1
Timeout 600
MaxClients 1000
LogLevel Critical
LogFile "$TH_DIR/tinyproxy.log"
PidFile "$TH_DIR/tinyproxy.pid"
Allow 127.0.0.1
EOF
	inhost tinyproxy -d -c "$TH_DIR/tinyproxy.conf" >"$TH_DIR/tinyproxy.out" 2>&1 &
	th_track_pid $!
	if ! th_wait 10 inhost bash -c "exec 3<>/dev/tcp/127.0.0.1/$tp_port" 2>/dev/null; then
		echo "bench-proxy: tinyproxy did not start: $(head -c 300 "$TH_DIR/tinyproxy.out")"
		tp_port=""
	fi
else
	echo "bench-proxy: tinyproxy is not installed (apt-get install tinyproxy); its ratios are skipped"
fi

# run_load WHERE MODE ARGS...: WHERE = direct|tunnel|tinyproxy; prints the number.
run_load() {
	local where=$1 mode=$2
	shift 2
	case $where in
	direct) inhost "$LOAD" "$mode" --to "$ip:$PORT" "$@" ;;
	tunnel) th_client_run cli "$LOAD" "$mode" --to "srv.test:$PORT" --proxy 127.0.0.1:3128 "$@" ;;
	tinyproxy) inhost "$LOAD" "$mode" --to "$ip:$PORT" --proxy "127.0.0.1:$tp_port" "$@" ;;
	esac
}

wheres="direct tunnel"
[ -n "$tp_port" ] && wheres="$wheres tinyproxy"

# collect "WHERE..." ARGS...: RUNS rounds, each a download and an upload
# by every WHERE in turn (so drift hits them alike), with proxy-load ARGS;
# their MB/s go into the caller's down[WHERE] and up[WHERE].
collect() {
	local ws=$1 w r
	shift
	for w in $ws; do down[$w]=""; up[$w]=""; done
	for r in $(seq 1 $RUNS); do
		for w in $ws; do
			down[$w]+=" $(run_load "$w" down "$@")"
			up[$w]+=" $(run_load "$w" up "$@")"
		done
	done
}

# summarize LABEL CC WHERE...: from the caller's down[] and up[] (the
# runs' MB/s), sets its tput[WHERE] to the mean of the two medians and
# prints them, then every run in order: how far apart they are says how
# far to trust the medians (on a shared VM a run can differ from the next
# by half). Stops the benchmark when a run measured nothing.
summarize() {
	local label=$1 cc=$2 w d u line
	shift 2
	line="$label cc=$cc"
	for w in "$@"; do
		if [ "$(wc -w <<<"${down[$w]} ${up[$w]}")" -ne $((2 * RUNS)) ]; then
			echo "bench-proxy: a run of $w measured nothing ($label, cc=$cc); its error is above"
			exit 1
		fi
		d=$(median ${down[$w]}); u=$(median ${up[$w]})
		tput[$w]=$(awk -v d="$d" -v u="$u" 'BEGIN { printf "%.1f", (d + u) / 2 }')
		line+=" $w=${tput[$w]} (down $d, up $u)"
	done
	echo "$line"
	for w in "$@"; do echo "  runs $w cc=$cc: down${down[$w]}; up${up[$w]}"; done
}

# 1. Throughput: runs interleaved so drift hits every contender alike;
# once per congestion control (the machine's, then cubic if it is not).
# throughput CC: the section's lines for CC.
throughput() {
	local cc=$1 st_t st_s
	local -A down up tput
	cc_set "$cc" || { echo "bench-proxy: cannot set congestion control $cc"; return 1; }
	read -r st_t st_s <<<"$(steal_mark)"
	collect "$wheres" --bytes $BYTES
	summarize throughput_MBps "$cc" $wheres
	echo "ratio tunnel_vs_direct cc=$cc: $(ratio "${tput[tunnel]}" "${tput[direct]}") (pass >= 0.75)"
	[ -n "$tp_port" ] && echo "ratio tunnel_vs_tinyproxy cc=$cc: $(ratio "${tput[tunnel]}" "${tput[tinyproxy]}") (pass >= 1.0)"
	echo "host_steal_pct cc=$cc: $(steal_pct $st_t $st_s) (CPU time the hypervisor took from this machine during these runs)"
	steady "$cc"
}

# steady CC: direct and tunnel again, 4 times as many bytes, timed after
# the first BYTES, so that the senders' start is left out. In one sweep
# here, a direct upload under BBR ran at 3.1 GB/s over 256 MiB and at 1.7
# over 8 GiB while a tunnel's stayed near 1.15; this ratio says whether
# the whole-transfer one is mostly that start. Informative: the pass line
# is the whole transfer above.
steady() {
	local cc=$1
	local -A down up tput
	collect "direct tunnel" --bytes $((4 * BYTES)) --warmup $BYTES
	summarize throughput_steady_MBps "$cc" direct tunnel
	echo "ratio tunnel_vs_direct_steady cc=$cc: $(ratio "${tput[tunnel]}" "${tput[direct]}") (of $((4 * BYTES >> 20)) MiB, after the first $((BYTES >> 20)) MiB; informative)"
}
echo "tcp_congestion: $machine_cc (this machine's default), on the upstream leg of direct, tunnel and tinyproxy alike; the sandbox's loopback leg is unpaced"
throughput "$machine_cc"
if [ "$machine_cc" != cubic ]; then
	throughput cubic || echo "bench-proxy: no cubic here; only $machine_cc measured"
	cc_set "$machine_cc"
fi

# 2. New connections per second (CONNECT + decision + identity + dial).
declare -A rate
line="connect_rate_per_s"
for w in $wheres; do
	rate[$w]=$(run_load "$w" rate --seconds $SECS --conc 4)
	[ -n "${rate[$w]}" ] || { echo "bench-proxy: $w measured no connection rate; its error is above"; exit 1; }
	line+=" $w=${rate[$w]}"
done
echo "$line"
echo "ratio connect_rate_vs_direct: $(ratio "${rate[tunnel]}" "${rate[direct]}")"
[ -n "$tp_port" ] && echo "ratio connect_rate_vs_tinyproxy: $(ratio "${rate[tunnel]}" "${rate[tinyproxy]}")"

# 3. Identity lookups with 500 processes in the client namespace.
ip netns exec "$(th_ns cli)" "$IDB" --procs 500 --iters $ITERS

th_proxy_stop >/dev/null
exit 0

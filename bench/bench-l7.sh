#!/bin/bash
# bench-l7.sh [--smoke] [--conns N]: the L7 relay (TLS terminated with
# the sandbox's CA, each HTTP/1.1 request parsed and decided, forwarded
# over verified upstream TLS) against direct TLS to the same upstream and
# against mitmproxy, in the same run (root):
#
#   1. keep-alive HTTPS requests per second: N connections (32, or
#      --conns), one GET of a small body in flight on each, runs
#      interleaved, median of runs;
#      the relay also with sandbox_log_level=warn (relay_warn), which
#      shows what shipping every allow line to the gateway costs;
#   2. the cost of a new connection with a warm leaf cache: one after
#      another, TCP (+ CONNECT) + TLS handshake + one GET + close. The
#      upstream issues session tickets like real servers; the load
#      generator never resumes (each agent process starts afresh), the
#      relay resumes its upstream sessions (upstream_resumed says how
#      many did).
#
# Topology: an HTTPS upstream (bench/l7-load serve, test CA) on a test
# host (namespace + veth). The relay is the real thing: a gateway on a
# temporary state directory (--hosts-file, --upstream-ca, --dns
# hosts-only) and one sandbox whose policy allows GET /bench/** to
# srv.test for the load generator, which runs inside the sandbox
# (openshell sandbox exec) through its proxy on 127.0.0.1:3128 and
# trusts /etc/openshell-tls/openshell-ca.pem. The direct baseline and
# mitmdump (127.0.0.1, regular mode, upstream verified against the test
# CA) run from the root namespace, so every path is loopback + veth.
#
# The host's CPUs are shared by the load generator, the relay, the
# gateway (it receives the relay's per-request log lines) and the
# upstream: CPU per request of each is printed beside the rates.
# Prints "ratio ..." and "target: ..." lines; exits 0 when it measured
# and non-zero only when it could not run.
set -u
smoke=0
conns=""
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1; shift ;;
	--conns)
		case ${2:-} in
		[1-9]|[1-9][0-9]|[1-9][0-9][0-9]) conns=$2; shift 2 ;;
		*) echo "bench-l7: --conns takes a number of connections from 1 to 999, not '${2:-}'" >&2; exit 2 ;;
		esac ;;
	*) echo "usage: bench-l7.sh [--smoke] [--conns N]" >&2; exit 2 ;;
	esac
done
: "${OS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${OS_BUILDDIR:=$OS_SRCDIR/build}"
. "$OS_SRCDIR/bench/lib.sh"
bench_abs_dirs bench-l7 || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-l7: needs root (network namespaces, sandboxes)"
	exit 1
fi
OS=$OS_BUILDDIR/openshell
LOAD=$OS_BUILDDIR/bench/l7-load
for p in "$OS" "$OS_BUILDDIR/openshell-gateway" "$OS_BUILDDIR/openshell-sandbox" "$LOAD"; do
	[ -x "$p" ] || { echo "bench-l7: $p is not built"; exit 1; }
done
LOAD=$(readlink -f "$LOAD")
# Inside, the load generator is a copy in the sandbox's /sandbox: the
# build tree may be anywhere (under /tmp, which no sandbox sees).
SLOAD=/sandbox/l7-load
. "$OS_SRCDIR/tests/e2e/lib/harness.sh"
th_init bench-l7 >/dev/null

if [ $smoke -eq 1 ]; then
	RUNS=1; SECS=0.5; WARMUP=0.2; CONNS=8; HS_SECS=0.3
else
	RUNS=5; SECS=3; WARMUP=0.5; CONNS=32; HS_SECS=3
fi
[ -n "$conns" ] && CONNS=$conns
BODY=128
PORT=8443
GW=$TH_DIR/gw
NAME=bench-l7-$$
gw_pid=""
sup_pid=""
mitm_pid=""
os() { "$OS" --state-dir "$GW" "$@"; }

# Ours first (the sandbox, the gateway), then the harness's (namespaces,
# the upstream, mitmdump, $TH_DIR).
bench_cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	if [ -d "$GW" ]; then
		os sandbox delete "$NAME" >/dev/null 2>&1
		os gateway stop >/dev/null 2>&1
		for p in $sup_pid $gw_pid; do
			grep -qsF "$GW" "/proc/$p/cmdline" && kill -KILL "$p" 2>/dev/null
		done
	fi
	(exit $rc)
	th_cleanup
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
	echo "bench-l7: $*"
	[ -f "$GW/gateway.log" ] && tail -n 5 "$GW/gateway.log" | sed 's/^/  gateway.log: /'
	exit 1
}

echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

# The upstream.
ip=$(th_host srv) || fail "no test host"
th_cert "srv.test,$ip" || fail "no test certificate"
# It issues session tickets, as real HTTPS servers do: the load generator
# (an agent) never resumes, the relay resumes its upstream sessions.
ip netns exec "$(th_ns srv)" "$LOAD" serve --port $PORT --body $BODY --tickets \
	--cert "$TH_DIR/ca/srv.test.pem" --key "$TH_DIR/ca/srv.test.key" \
	--ready "$TH_DIR/srv.ready" >"$TH_DIR/srv.out" 2>&1 &
srv_pid=$!
th_track_pid $srv_pid
th_wait 10 test -e "$TH_DIR/srv.ready" || fail "the upstream did not start: $(cat "$TH_DIR/srv.out")"
th_hosts_file srv.test="$ip" >/dev/null

# The gateway and the sandbox.
mkdir -p "$GW"
os gateway start --hosts-file "$TH_DIR/hosts" --upstream-ca "$TH_DIR/ca/ca.pem" \
	--dns hosts-only >"$TH_DIR/start.out" 2>&1 ||
	fail "the gateway did not start: $(cat "$TH_DIR/start.out")"
gw_pid=$(cat "$GW/gateway.pid" 2>/dev/null)
cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /etc]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
  bench:
    name: bench-l7
    endpoints:
      - host: srv.test
        port: $PORT
        protocol: rest
        tls: terminate
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/bench/**" }
    binaries:
      - { path: $SLOAD }
EOF
os sandbox create --name "$NAME" --detach --policy "$TH_DIR/policy.yaml" \
	>"$TH_DIR/create.out" 2>&1 || fail "sandbox create failed: $(cat "$TH_DIR/create.out")"
os sandbox exec "$NAME" -- sh -c "cat > $SLOAD && chmod 755 $SLOAD" <"$LOAD" ||
	fail "cannot copy the load generator into the sandbox"
# Every decision line stays in the sandbox's file (rotated at 64 MiB by
# default), to be counted against the answers at the end.
os settings set sandbox_log_file_mb 65536 --sandbox "$NAME" >/dev/null ||
	fail "cannot set sandbox_log_file_mb"
sup_pid=$(os sandbox get "$NAME" --json 2>/dev/null |
	sed -n 's/.*"supervisor_pid": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
[ -n "$sup_pid" ] || echo "bench-l7: no supervisor pid from 'sandbox get --json'; the relay's CPU is not measured"

# mitmproxy, when installed.
mitm_port=""
if [ -x /usr/bin/mitmdump ]; then
	mitm_port=$((20000 + RANDOM % 20000))
	mkdir -p "$TH_DIR/mitm"
	env -i PATH=$TH_PATH HOME="$TH_DIR/mitm" LANG=C.UTF-8 /usr/bin/mitmdump -q \
		--listen-host 127.0.0.1 --listen-port $mitm_port \
		--set confdir="$TH_DIR/mitm" --set ssl_insecure=false \
		--set ssl_verify_upstream_trusted_ca="$TH_DIR/ca/ca.pem" \
		--set flow_detail=0 >"$TH_DIR/mitm.out" 2>&1 &
	mitm_pid=$!
	th_track_pid $mitm_pid
	if ! th_wait 20 bash -c "test -s '$TH_DIR/mitm/mitmproxy-ca-cert.pem' &&
	    exec 3<>/dev/tcp/127.0.0.1/$mitm_port" 2>/dev/null; then
		echo "bench-l7: mitmdump did not start: $(head -c 300 "$TH_DIR/mitm.out")"
		mitm_port=""
	fi
else
	echo "bench-l7: mitmproxy is not installed (apt-get install mitmproxy); its ratio is skipped"
fi

# load WHERE MODE ARGS...: WHERE = direct|relay|mitmproxy; the tool's line.
load() {
	local where=$1 mode=$2
	shift 2
	case $where in
	direct) "$LOAD" "$mode" --to "srv.test:$PORT" --addr "$ip:$PORT" \
		--cafile "$TH_DIR/ca/ca.pem" "$@" ;;
	relay|relay_warn) os sandbox exec "$NAME" -- "$SLOAD" "$mode" --to "srv.test:$PORT" \
		--proxy 127.0.0.1:3128 --cafile /etc/openshell-tls/openshell-ca.pem "$@" </dev/null ;;
	mitmproxy) "$LOAD" "$mode" --to "$ip:$PORT" --sni srv.test \
		--proxy "127.0.0.1:$mitm_port" --cafile "$TH_DIR/mitm/mitmproxy-ca-cert.pem" "$@" ;;
	esac
}
# kv KEY LINE: the value of key=value in a line of l7-load output.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
# cpu PID: user + system clock ticks of a process, 0 when it is gone.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# us_per DELTA_TICKS N: microseconds of CPU per unit.
us_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "nan" }'; }

# relay_warn: the relay with sandbox_log_level=warn, so that allowed
# requests are logged in the sandbox's file only, not shipped to the
# gateway and stored there: what that logging costs.
wheres="direct relay relay_warn"
[ -n "$mitm_port" ] && wheres="$wheres mitmproxy"

# The first connection through the relay mints the leaf: that is not
# what is measured, but its time is shown.
out=$(load relay handshake --seconds 0 2>"$TH_DIR/load.err") ||
	fail "relay: $(cat "$TH_DIR/load.err")"
cold_ms=$(kv first_ms "$out")
# Answers the relay gave, to hold against the decisions it logged.
relay_done=$(( $(kv n "$out") + 1 ))

read -r st_t st_s <<<"$(steal_mark)"
# 1. Keep-alive requests per second, runs interleaved so that drift hits
# every contender alike; CPU per request of the processes involved.
declare -A rps cpu_line
for w in $wheres; do rps[$w]=""; done
for r in $(seq 1 $RUNS); do
	for w in $wheres; do
		[ "$w" = relay_warn ] && { os settings set sandbox_log_level warn --sandbox "$NAME" >/dev/null ||
			fail "cannot set sandbox_log_level"; sleep 0.3; }
		s0=$(cpu $srv_pid); p0=$(cpu "${sup_pid:-0}"); g0=$(cpu "${gw_pid:-0}"); m0=$(cpu "${mitm_pid:-0}")
		out=$(load "$w" get --conns $CONNS --seconds $SECS --warmup $WARMUP 2>"$TH_DIR/load.err") ||
			fail "$w: $(cat "$TH_DIR/load.err")"
		[ -s "$TH_DIR/load.err" ] && sed "s/^/  $w: /" "$TH_DIR/load.err"
		[ "$(kv errors "$out")" = 0 ] || echo "  $w: $(kv errors "$out") connections failed"
		rps[$w]+=" $(kv req_per_s "$out")"
		# Per request over the whole run (warm-up included), from /proc.
		total=$(kv total "$out")
		case $w in relay|relay_warn) relay_done=$((relay_done + total)) ;; esac
		[ "$w" = relay_warn ] && { os settings unset sandbox_log_level --sandbox "$NAME" >/dev/null ||
			fail "cannot unset sandbox_log_level"; sleep 0.3; }
		line="client=$(kv cpu_us_per_req "$out") upstream=$(us_per $(($(cpu $srv_pid) - s0)) "$total")"
		case $w in
		relay|relay_warn) line+=" relay=$(us_per $(($(cpu "${sup_pid:-0}") - p0)) "$total") gateway=$(us_per $(($(cpu "${gw_pid:-0}") - g0)) "$total")" ;;
		mitmproxy) line+=" mitmproxy=$(us_per $(($(cpu "$mitm_pid") - m0)) "$total")" ;;
		esac
		cpu_line[$w]=$line
	done
done
declare -A med
line="keepalive_req_per_s"
for w in $wheres; do
	med[$w]=$(median ${rps[$w]})
	line+=" $w=${med[$w]}"
done
echo "$line (median of $RUNS runs of ${SECS}s, $CONNS connections, ${BODY}-byte body)"
for w in $wheres; do echo "  runs $w:${rps[$w]}"; done
for w in $wheres; do echo "cpu_us_per_req $w: ${cpu_line[$w]} (last run; from /proc over the whole run)"; done
echo "ratio l7_vs_direct: $(ratio "${med[relay]}" "${med[direct]}") (relay ${med[relay]} req/s, direct ${med[direct]} req/s)"
echo "ratio l7_warnlog_vs_direct: $(ratio "${med[relay_warn]}" "${med[direct]}") (relay with sandbox_log_level=warn: allowed requests logged in the sandbox only)"
[ -n "$mitm_port" ] &&
	echo "ratio l7_vs_mitmproxy: $(ratio "${med[relay]}" "${med[mitmproxy]}") (relay ${med[relay]} req/s, mitmproxy ${med[mitmproxy]} req/s)"
echo "host_steal_pct: $(steal_pct $st_t $st_s) (CPU time the hypervisor took from this machine during the keep-alive runs)"

# 2. New connections, one after another, leaf cache warm.
# srv_counts: "HANDSHAKES RESUMED" the upstream has accepted so far.
srv_lines() { grep -c '^handshakes=' "$TH_DIR/srv.out"; }
srv_more() { [ "$(srv_lines)" -gt "$1" ]; }
srv_counts() {
	local before after
	before=$(srv_lines)
	kill -USR1 $srv_pid 2>/dev/null
	th_wait 5 srv_more "$before" || { echo "? ?"; return; }
	after=$(grep '^handshakes=' "$TH_DIR/srv.out" | tail -n 1)
	echo "$(kv handshakes "$after") $(kv resumed "$after")"
}
declare -A hs_ms hs_rate hs_cpu hs_resumed
hs_wheres=${wheres/ relay_warn/}   # the log level does not change a handshake
for w in $hs_wheres; do
	read -r h0 r0 <<<"$(srv_counts)"
	p0=$(cpu "${sup_pid:-0}"); m0=$(cpu "${mitm_pid:-0}")
	out=$(load "$w" handshake --seconds $HS_SECS 2>"$TH_DIR/load.err") ||
		fail "$w handshake: $(cat "$TH_DIR/load.err")"
	[ -s "$TH_DIR/load.err" ] && sed "s/^/  $w: /" "$TH_DIR/load.err"
	hs_ms[$w]=$(kv ms_per_conn "$out")
	hs_rate[$w]=$(kv conns_per_s "$out")
	n=$(( $(kv n "$out") + 1 ))
	[ "$w" = relay ] && relay_done=$((relay_done + n))
	hs_cpu[$w]="client=$(kv cpu_us_per_conn "$out")"
	case $w in
	relay) hs_cpu[$w]+=" relay=$(us_per $(($(cpu "${sup_pid:-0}") - p0)) $n)" ;;
	mitmproxy) hs_cpu[$w]+=" mitmproxy=$(us_per $(($(cpu "$mitm_pid") - m0)) $n)" ;;
	esac
	read -r h1 r1 <<<"$(srv_counts)"
	if [ "$h0" = "?" ] || [ "$h1" = "?" ]; then
		hs_resumed[$w]="?"     # the upstream did not answer SIGUSR1
	else
		hs_resumed[$w]="$((r1 - r0))/$((h1 - h0))"
	fi
done
line="handshake_ms"
for w in $hs_wheres; do line+=" $w=${hs_ms[$w]}"; done
echo "$line (new connection + one GET + close, one at a time, ${HS_SECS}s each; relay and mitmproxy include CONNECT; first relay connection, cold leaf cache: ${cold_ms} ms)"
line="handshake_per_s"
for w in $hs_wheres; do line+=" $w=${hs_rate[$w]}"; done
echo "$line"
for w in $hs_wheres; do echo "cpu_us_per_conn $w: ${hs_cpu[$w]}"; done
line="upstream_resumed"
for w in $hs_wheres; do line+=" $w=${hs_resumed[$w]}"; done
echo "$line (upstream handshakes that resumed a TLS session / all; the client's own handshake is always full)"
# Every request answered through the relay was decided and logged first
# (the sandbox's own log file: the gateway's copy may be thinned).
decided=$(cat "$GW"/sandboxes/*/log/openshell.log* 2>/dev/null | grep -c 'l7_decision=allow')
echo "relay: $decided L7 decisions logged for $relay_done answered requests$([ "$decided" -ge "$relay_done" ] || echo ' (FEWER: not every request was decided?)')"
echo "ratio l7_handshake_vs_direct: $(ratio "${hs_rate[relay]}" "${hs_rate[direct]}") (relay ${hs_rate[relay]} conn/s, direct ${hs_rate[direct]} conn/s)"
echo "target: relay >= 40% of direct keep-alive req/s (ratio l7_vs_direct >= 0.40; ~0.50 is the ceiling)"
echo "target: relay >= 5x mitmproxy keep-alive req/s (ratio l7_vs_mitmproxy >= 5.0)"
exit 0

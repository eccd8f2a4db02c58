# The end-to-end test harness, sourced by tests/e2e/t-*.sh (bash, root).
#
#   TAP        ok / not_ok / is / like / unlike / skip / diag / done_testing
#   th_init    NAME: a unique id, a temporary directory, and an EXIT trap
#              that removes every namespace, veth, process and file made
#   th_host    NAME: a test host (network namespace + veth on a private /30),
#              prints its address
#   th_standin HOST --http|--https PORT [--cert-name N] [--record FILE]
#              [--record-dir DIR]: a stand-in upstream server on a test host
#   th_ca, th_cert NAME: a test CA and leaf certificates (openssl CLI)
#   th_hosts_file NAME=IP...: a hosts file (prints its path)
#   th_netns_client NAME: a namespace with only lo (plays the sandbox) and a
#              long-running init in it (prints its pid); th_client_run NAME
#              -- CMD runs CMD as a descendant of that init
#   th_proxy_driver CLIENT POLICY [ARGS...]: the egress proxy for CLIENT
#
# Traffic goes only to loopback and to namespaces made here. Names carry
# the prefix "oshth-" (namespaces, /tmp directories) or "th<id>" (veths);
# leftovers older than an hour from a killed run are removed by th_init.
# State lives in files under $TH_DIR so that helpers called in $(...)
# subshells are still cleaned up.

: "${OS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${OS_BUILDDIR:=$OS_SRCDIR/build}"
TH_LIB=$OS_SRCDIR/tests/e2e/lib
TH_PY=/usr/bin/python3          # never a pyenv shim
TH_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The tests read our messages in English, whatever the caller's locale
# (the German catalog is tested in tests/unit/t-i18n.sh).
unset LANGUAGE LC_ALL
export LC_MESSAGES=C
TH_N=0
TH_FAILED=0

# ---------------------------------------------------------------------------
# TAP
ok() { TH_N=$((TH_N + 1)); echo "ok $TH_N - $*"; }
not_ok() { TH_N=$((TH_N + 1)); TH_FAILED=$((TH_FAILED + 1)); echo "not ok $TH_N - $*"; }
diag() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*"; }
# check DESC CMD...: ok when CMD succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
is() {  # is GOT WANT DESC
	if [ "$1" == "$2" ]; then ok "$3"; else
		not_ok "$3"; diag "got:  '$1'"; diag "want: '$2'"; fi
}
like() {  # like GOT ERE DESC
	if [[ $1 =~ $2 ]]; then ok "$3"; else
		not_ok "$3"; diag "got:  '$1'"; diag "want match: $2"; fi
}
unlike() {  # unlike GOT ERE DESC
	if [[ $1 =~ $2 ]]; then not_ok "$3"; diag "got:  '$1'"; diag "must not match: $2"
	else ok "$3"; fi
}
skip() { TH_N=$((TH_N + 1)); echo "ok $TH_N - $1 # SKIP ${2:-}"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$TH_N"; }
bail() { echo "Bail out! $*"; exit 1; }

# ---------------------------------------------------------------------------
# Set-up and clean-up

# th_umount_under DIR: what is mounted below DIR (a test's small disk),
# deepest first; rm -rf would leave a mount and the files in it.
th_umount_under() {
	findmnt -rn -o TARGET 2>/dev/null | grep -F -- "$1/" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}

# A namespace's /run/netns file carries its creation time.
th_cleanup_stale() {
	local f name now age d id
	now=$(date +%s)
	for f in /run/netns/oshth-*; do
		[ -e "$f" ] || continue
		age=$((now - $(stat -c %Y "$f" 2>/dev/null || echo "$now")))
		[ "$age" -gt 3600 ] || continue
		name=${f##*/}
		ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null
		# Processes outside it that name it (a proxy driver's --netns).
		id=${name#oshth-}; id=${id%%-*}
		[ -n "$id" ] && pkill -9 -f -- "oshth-$id-" 2>/dev/null
		ip netns del "$name" 2>/dev/null   # its veth peers go with it
	done
	for d in /tmp/oshth.*; do
		[ -d "$d" ] || continue
		age=$((now - $(stat -c %Y "$d" 2>/dev/null || echo "$now")))
		[ "$age" -gt 3600 ] || continue
		th_umount_under "$d"
		rm -rf "$d"
	done
	return 0
}

th_cleanup() {
	local rc=$? pid ns link i
	trap - EXIT INT TERM HUP
	[ -n "${TH_DIR:-}" ] && [ -d "$TH_DIR" ] || exit "$rc"
	# Our own processes first (drivers, stand-ins, inits), gently.
	if [ -f "$TH_DIR/pids" ]; then
		while read -r pid; do kill -TERM "$pid" 2>/dev/null; done <"$TH_DIR/pids"
		for i in 1 2 3 4 5 6 7 8 9 10; do
			local alive=0
			while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$TH_DIR/pids"
			[ $alive -eq 0 ] && break
			sleep 0.1
		done
		while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$TH_DIR/pids"
	fi
	if [ -f "$TH_DIR/netns" ]; then
		while read -r ns; do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		done <"$TH_DIR/netns"
	fi
	if [ -f "$TH_DIR/links" ]; then
		while read -r link; do ip link del "$link" 2>/dev/null; done <"$TH_DIR/links"
	fi
	th_umount_under "$TH_DIR"
	if [ -n "${TH_KEEP:-}" ]; then
		echo "# TH_KEEP: left $TH_DIR" >&2
	else
		rm -rf "$TH_DIR"
	fi
	exit "$rc"
}

# th_init NAME
th_init() {
	[ "$(id -u)" -eq 0 ] || skip_all "end-to-end tests need root"
	command -v ip >/dev/null || skip_all "iproute2 (ip) is not installed"
	TH_NAME=$1
	TH_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	th_cleanup_stale
	TH_DIR=$(mktemp -d "/tmp/oshth.$TH_NAME.$$.$TH_ID.XXXXXX") || bail "mktemp"
	chmod 755 "$TH_DIR"
	: >"$TH_DIR/pids"; : >"$TH_DIR/netns"; : >"$TH_DIR/links"
	mkdir -p "$TH_DIR/hosts.d" "$TH_DIR/clients"
	trap th_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	export TH_DIR TH_ID TH_NAME
}

th_track_pid() { echo "$1" >>"$TH_DIR/pids"; }
# Namespace names: oshth-<random id>-<test name>-<name>.
th_ns() { echo "oshth-$TH_ID-$TH_NAME-$1"; }

# th_wait TIMEOUT_S CMD...: polls CMD every 50 ms.
th_wait() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# A free /30 in 10.240.0.0/16: random, checked against every address in
# use. The caller holds /run/oshth.lock until the address is assigned.
th_alloc_subnet() {
	local k a b try
	for try in $(seq 1 200); do
		k=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 16384 ))
		a=$((k / 64)); b=$(((k % 64) * 4))
		if ! ip -4 -o addr show 2>/dev/null | grep -q " 10\.240\.$a\.$((b + 1))/30 "; then
			echo "10.240.$a.$b"
			return 0
		fi
	done
	return 1
}

# th_netns NAME: a namespace with only lo (up); prints its name. A place
# for the "host" side of a benchmark, whose settings (sysctls) are then
# the benchmark's and not the machine's.
th_netns() {
	local ns
	ns=$(th_ns "$1")
	ip netns add "$ns" || return 1
	echo "$ns" >>"$TH_DIR/netns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# th_host NAME [PEER_NS]: prints the host's address. Its veth's near end is
# in the root namespace, or in PEER_NS (from th_netns).
th_host() {
	local name=$1 peer=${2:-} ns base n ra ha
	local -a near=(ip)
	[ -n "$peer" ] && near=(ip -n "$peer")
	ns=$(th_ns "$name")
	n=$(ls "$TH_DIR/hosts.d" | wc -l)
	ra="th$TH_ID$(printf %02d "$n")r"
	ha="th$TH_ID$(printf %02d "$n")h"
	(
		exec 9>/run/oshth.lock
		flock 9
		base=$(th_alloc_subnet) || { echo "th_host: no free /30" >&2; exit 1; }
		IFS=. read -r o1 o2 o3 o4 <<<"$base"
		ip netns add "$ns" || exit 1
		echo "$ns" >>"$TH_DIR/netns"
		ip link add "$ra" type veth peer name "$ha" netns "$ns" || exit 1
		echo "$ra" >>"$TH_DIR/links"
		[ -n "$peer" ] && { ip link set "$ra" netns "$peer" || exit 1; }
		"${near[@]}" addr add "$o1.$o2.$o3.$((o4 + 1))/30" dev "$ra"
		"${near[@]}" link set "$ra" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$o1.$o2.$o3.$((o4 + 2))/30" dev "$ha"
		ip -n "$ns" link set "$ha" up
		ip -n "$ns" route add default via "$o1.$o2.$o3.$((o4 + 1))"
		echo "$o1.$o2.$o3.$((o4 + 2))" >"$TH_DIR/hosts.d/$name"
	) || return 1
	cat "$TH_DIR/hosts.d/$name"
}

th_host_ip() { cat "$TH_DIR/hosts.d/$1"; }

# ---------------------------------------------------------------------------
# TLS material

th_ca() {
	local d=$TH_DIR/ca
	[ -f "$d/ca.pem" ] && return 0
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		-subj "/CN=OpenShell test CA $TH_ID" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# th_cert NAME[,NAME...]: $TH_DIR/ca/NAME.pem and NAME.key (NAME = the
# first), valid for every name or address listed.
th_cert() {
	local names=$1 name=${1%%,*} d=$TH_DIR/ca san="" n
	th_ca || return 1
	[ -f "$d/$name.pem" ] && return 0
	for n in ${names//,/ }; do
		if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then san+="${san:+,}IP:$n"
		else san+="${san:+,}DNS:$n"; fi
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$name" 2>/dev/null &&
	openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/$name.pem" -days 2 \
		-extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") 2>/dev/null
}

# ---------------------------------------------------------------------------
# Stand-in upstream servers

# th_standin HOST --http|--https PORT [--cert-name NAME] [--record FILE]
#            [--record-dir DIR] [--files DIR]
th_standin() {
	local host=$1 mode=$2 port=$3 cert="" record="" recdir="" files="" ns ready args=()
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--cert-name) cert=$2; shift 2 ;;
		--record) record=$2; shift 2 ;;
		--record-dir) recdir=$2; shift 2 ;;
		--files) files=$2; shift 2 ;;
		*) echo "th_standin: unknown option $1" >&2; return 1 ;;
		esac
	done
	ns=$(th_ns "$host")
	ready=$TH_DIR/standin-$host-$port.ready
	args=(--port "$port" --ready "$ready")
	if [ "$mode" = --https ]; then
		[ -n "$cert" ] || cert=$host
		th_cert "$cert" || return 1
		args+=(--tls-cert "$TH_DIR/ca/${cert%%,*}.pem" --tls-key "$TH_DIR/ca/${cert%%,*}.key")
	fi
	[ -n "$record" ] && args+=(--record "$record")
	[ -n "$recdir" ] && { mkdir -p "$recdir" && args+=(--record-dir "$recdir"); }
	[ -n "$files" ] && args+=(--files "$files")
	ip netns exec "$ns" env -i PATH=$TH_PATH "$TH_PY" "$TH_LIB/standin.py" "${args[@]}" \
		>>"$TH_DIR/standin-$host-$port.log" 2>&1 &
	th_track_pid $!
	th_wait 10 test -e "$ready" || { echo "th_standin: $host:$port did not start" >&2
		cat "$TH_DIR/standin-$host-$port.log" >&2; return 1; }
}

# th_hosts_file NAME=IP...: writes $TH_DIR/hosts, prints its path.
th_hosts_file() {
	local kv f=$TH_DIR/hosts
	: >"$f"
	for kv in "$@"; do echo "${kv#*=} ${kv%%=*}" >>"$f"; done
	echo "$f"
}

# ---------------------------------------------------------------------------
# The client side: a namespace with only lo, and an init in it

# th_netns_client NAME: prints the init's pid.
th_netns_client() {
	local name=$1 ns d
	ns=$(th_ns "$name")
	d=$TH_DIR/clients/$name
	mkdir -p "$d/jobs"
	ip netns add "$ns" || return 1
	echo "$ns" >>"$TH_DIR/netns"
	ip -n "$ns" link set lo up
	# As a sandbox's init does (sandbox/isolate-net.c): an unpaced
	# congestion control on the loopback-only namespace.
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_congestion_control=cubic 2>/dev/null ||
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_congestion_control=reno 2>/dev/null
	mkfifo "$d/fifo"
	# `ip netns exec` execs the command itself: the background pid is the
	# init, and every job is its descendant (as in a real sandbox).
	ip netns exec "$ns" env -i PATH=$TH_PATH HOME=/root LANG=C.UTF-8 \
		/usr/bin/bash "$TH_LIB/spawner.sh" "$d/fifo" </dev/null >/dev/null 2>&1 &
	echo $! >"$d/init.pid"
	th_track_pid $!
	cat "$d/init.pid"
}

th_client_pid() { cat "$TH_DIR/clients/$1/init.pid"; }

# th_client_spawn NAME CMD...: starts CMD under the client's init; prints
# the job directory (out, err, rc appear there).
th_client_spawn() {
	local name=$1 d job n
	shift
	d=$TH_DIR/clients/$name
	n=$(ls "$d/jobs" | wc -l)
	job=$d/jobs/$n.$RANDOM
	mkdir -p "$job"
	{ printf 'cd %q || exit 1\n' "$job"; printf '%q ' "$@"; echo; } >"$job/cmd"
	echo "$job" >"$d/fifo"
	echo "$job"
}

# th_client_wait JOB [TIMEOUT_S]: prints out (err to stderr), returns rc.
th_client_wait() {
	local job=$1
	th_wait "${2:-60}" test -e "$job/rc" || { echo "th_client_wait: timed out: $(cat "$job/cmd")" >&2; return 124; }
	cat "$job/out"
	cat "$job/err" >&2
	return "$(cat "$job/rc")"
}

# th_client_run NAME CMD...: runs CMD in the client as a descendant of its init.
th_client_run() {
	local job
	job=$(th_client_spawn "$@") || return 1
	th_client_wait "$job"
}

# ---------------------------------------------------------------------------
# The egress proxy (tests/e2e/tools/proxy-driver)

# th_proxy_driver CLIENT POLICY [ARGS...]: listens on 127.0.0.1:3128 in
# CLIENT's namespace; log lines in $TH_DIR/proxy.log; pid in $TH_DIR/proxy.pid.
# POLICY "" = no policy (deny everything). --dns hosts-only unless ARGS
# say otherwise.
th_proxy_driver() {
	local client=$1 policy=$2 drv=$OS_BUILDDIR/tests/e2e/tools/proxy-driver pargs=()
	shift 2
	[ -x "$drv" ] || { echo "th_proxy_driver: $drv not built" >&2; return 1; }
	[ -n "$policy" ] && pargs=(--policy "$policy")
	: >"$TH_DIR/proxy.log"
	# TH_PROXY_WRAP: a command (array) to run the driver under.
	${TH_PROXY_WRAP[@]+"${TH_PROXY_WRAP[@]}"} "$drv" --netns "$(th_ns "$client")" --listen 127.0.0.1:3128 \
		--init-pid "$(th_client_pid "$client")" "${pargs[@]}" \
		--dns hosts-only --reload-on-sighup "$@" \
		>>"$TH_DIR/proxy.log" 2>>"$TH_DIR/proxy.err" &
	echo $! >"$TH_DIR/proxy.pid"
	th_track_pid $!
	th_wait 10 grep -q '^listening on' "$TH_DIR/proxy.log" || {
		echo "th_proxy_driver: did not start" >&2; cat "$TH_DIR/proxy.err" >&2; return 1; }
}

# th_proxy_stop: SIGTERM and wait; returns the driver's exit status.
th_proxy_stop() {
	local pid rc
	pid=$(cat "$TH_DIR/proxy.pid")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	echo "$rc" >>"$TH_DIR/proxy.exits"
	return $rc
}

# th_proxy_check_clean: one TAP line: every driver run exited 0 and no
# sanitizer (ASan/UBSan/LSan build) reported anything.
th_proxy_check_clean() {
	local bad
	bad=$(grep -v '^0$' "$TH_DIR/proxy.exits" 2>/dev/null)
	if [ -z "$bad" ] && ! grep -qE 'Sanitizer|runtime error|handles left open' "$TH_DIR/proxy.err" 2>/dev/null; then
		ok "proxy driver exited cleanly every time (no sanitizer reports)"
	else
		not_ok "proxy driver exited cleanly every time (no sanitizer reports)"
		diag "exit statuses: $(tr '\n' ' ' <"$TH_DIR/proxy.exits" 2>/dev/null)"
		diag "$(grep -E -A12 'Sanitizer|runtime error|handles left open' "$TH_DIR/proxy.err" 2>/dev/null | head -n 40)"
	fi
}

# th_proxy_reload POLICY_FILE: copy the policy in place and SIGHUP; waits
# for the driver to report the reload.
th_proxy_reload() {
	local n
	n=$(grep -c '^reloaded policy generation' "$TH_DIR/proxy.log")
	kill -HUP "$(cat "$TH_DIR/proxy.pid")"
	th_wait 10 test "$(grep -c '^reloaded policy generation' "$TH_DIR/proxy.log")" -gt "$n"
}

# th_curl CLIENT ARGS...: curl in CLIENT through the proxy, trusting the test CA.
th_curl() {
	local client=$1
	shift
	th_client_run "$client" curl -sS --max-time 20 --cacert "$TH_DIR/ca/ca.pem" \
		-x http://127.0.0.1:3128 "$@"
}

# th_pyclient CLIENT ARGS...: tests/e2e/lib/client.py in CLIENT (its binary
# is whatever /usr/bin/python3 resolves to).
th_pyclient() {
	local client=$1
	shift
	th_client_run "$client" /usr/bin/python3 "$TH_LIB/client.py" "$@"
}

# th_log_grep ERE: the proxy's log lines matching ERE.
th_log_grep() { grep -E -- "$1" "$TH_DIR/proxy.log"; }

# th_json_get JSON KEY: one top-level value of a JSON object (strings bare).
th_json_get() {
	"$TH_PY" -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v,str) else json.dumps(v))' "$1" "$2" 2>/dev/null
}

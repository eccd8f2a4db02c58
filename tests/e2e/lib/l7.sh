# Helpers for the L7 end-to-end tests (t-sandbox-l7*.sh,
# t-sandbox-smuggling.sh), sourced after harness.sh and gateway.sh:
#
#   l7_policy FILE [YAML...]  a policy file: the quickstart's static
#                             sections, then network_policies: and the
#                             YAML lines given (one argument per line)
#   sx SB CMD...              CMD in sandbox SB (no stdin), stdout+stderr
#   sb_put SB FILE PATH       copies FILE from the host to PATH in SB
#   sb_tunnel SB ARGS...      tests/e2e/lib/tunnel.py in SB (copied there
#                             by sb_put first: /sandbox/tunnel.py)
#   sb_logs SB [ARGS...]      `openshell logs SB ARGS` (default: every
#                             line the gateway holds)
#   logs_wait SB ERE [ARGS...]
#                             waits (10 s) for a line of `sb_logs SB ARGS`
#                             matching ERE, prints the matching lines
#   logs_count SB ERE         how many lines of SB match ERE
#   rec_settle DIR            waits until every connection the stand-in
#                             with --record-dir DIR accepted is recorded
#   rec_mark DIR              the number the next connection will get
#   rec_since DIR N           "METHOD TARGET" of each request recorded in
#                             connections N and later
#   rec_bytes DIR N           the raw bytes of connections N and later
#   rec_check DIR HOST PORT SB|FILE...
#                             one TAP line: every request that reached the
#                             stand-in was let through by a logged
#                             decision (of the sandboxes SB, or in the
#                             saved logs FILE), and every such decision's
#                             request reached it

L7_PY=$(readlink -f /usr/bin/python3)
ZEN="Anything added dilutes everything else."

l7_policy() {
	local f=$1 line
	shift
	{
		cat <<'EOF'
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /etc, /var/log]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
EOF
		for line in "$@"; do echo "$line"; done
	} >"$f"
}

sx() { local sb=$1; shift; os sandbox exec -n "$sb" -- "$@" 2>&1; }
sb_put() { os sandbox exec "$1" -- sh -c "cat > '$3'" <"$2"; }
sb_tunnel() { local sb=$1; shift; os sandbox exec -n "$sb" -- python3 /sandbox/tunnel.py "$@" 2>&1; }
sb_logs() {
	local sb=$1
	shift
	[ $# -gt 0 ] || set -- -n 1000000
	os logs "$sb" "$@" 2>&1
}

logs_has() { local sb=$1 re=$2; shift 2; sb_logs "$sb" "$@" | grep -Eq -- "$re"; }
logs_wait() {
	th_wait 10 logs_has "$@"
	local sb=$1 re=$2
	shift 2
	sb_logs "$sb" "$@" | grep -E -- "$re"
}
logs_count() { sb_logs "$1" | grep -Ec -- "$2"; }

rec_open_none() { ! compgen -G "$1/*.open" >/dev/null; }
rec_settle() { th_wait 10 rec_open_none "$1"; }
rec_mark() {
	local n
	rec_settle "$1"
	n=$(find "$1" -name '*.raw' | wc -l)
	echo $((n + 1))
}
rec_since() { rec_settle "$1"; "$TH_PY" "$TH_LIB/l7rec.py" requests "$1" "$2"; }
rec_bytes() {
	local n
	rec_settle "$1"
	for n in $(ls "$1" | sed -n 's/\.raw$//p' | sort -n); do
		[ "$n" -ge "$2" ] && cat "$1/$n.raw"
	done
}

rec_cmp() {
	local dir=$1 host=$2 port=$3 s
	shift 3
	for s in "$@"; do
		if [ -f "$s" ]; then cat "$s"; else sb_logs "$s"; fi
	done >"$TH_DIR/rec-check.log"
	"$TH_PY" "$TH_LIB/l7rec.py" compare "$dir" "$TH_DIR/rec-check.log" "$host" "$port" \
		>"$TH_DIR/rec-check.out"
}
rec_check() {
	local dir=$1 host=$2 port=$3 n
	rec_settle "$dir"
	n=$("$TH_PY" "$TH_LIB/l7rec.py" requests "$dir" | wc -l)
	# The log lines may still be on their way to the gateway.
	if th_wait 10 rec_cmp "$@"; then
		ok "all $n requests that reached $host:$port were decided and logged first; every request let through reached it"
	else
		not_ok "all $n requests that reached $host:$port were decided and logged first; every request let through reached it"
		diag "$(cat "$TH_DIR/rec-check.out")"
	fi
}

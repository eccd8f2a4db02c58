#!/bin/bash
# Restart persistence: after `gateway stop` and `gateway start` on the same
# state directory, every sandbox, policy revision (version, hash, status,
# times), setting and log line is still there; the sandboxes kept running
# all along, and exec and live policy changes work through the new
# gateway. A supervisor that died while the gateway was down is reported.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-restart
th_gateway_start || bail "gateway start failed"
P=$TH_DIR/policies
mkdir -p "$P"

net_policy() {  # net_policy FILE HOST
	cat >"$1" <<-EOF
	version: 1
	network_policies:
	  api:
	    name: api
	    endpoints: [{ host: $2, port: 443 }]
	    binaries: [{ path: /usr/bin/curl }]
	EOF
}
net_policy "$P/one.yaml" one.test
net_policy "$P/two.yaml" two.test
net_policy "$P/three.yaml" three.test

a=$(th_sbname rs-a)
b=$(th_sbname rs-b)
c=$(th_sbname rs-c)
th_sb_create "$a" --policy "$P/one.yaml" || bail "create a"
th_sb_create "$b" || bail "create b"
th_sb_create "$c" || bail "create c"
quiet os policy set "$a" --policy "$P/two.yaml" --wait || bail "policy set"
quiet os policy set "$a" --policy "$P/two.yaml"
quiet os policy set "$b" --policy "$P/three.yaml" --wait || bail "policy set"
quiet os settings set draft_expiry 2h
quiet os settings set draft_pending_cap 7 --sandbox "$a"
quiet os settings set approval_mode auto --sandbox "$b"
quiet os settings set policy_advisor false --sandbox "$b"
quiet os settings set policy_advisor true
token=$(cat "$OPENSHELL_STATE_DIR/operator.token")

snapshot() {  # snapshot DIR: everything a user can list
	local d=$1 s
	mkdir -p "$d"
	os sandbox list --json | jq -S '.sandboxes|map(del(.updated_at_ms))' >"$d/sandboxes"
	for s in "$a" "$b"; do
		os policy list "$s" --json | jq -S . >"$d/revisions-$s"
		os policy get "$s" --json | jq -S . >"$d/policy-$s"
		os settings list --sandbox "$s" --json | jq -S . >"$d/settings-$s"
	done
	os settings list --json | jq -S . >"$d/settings"
	os logs "$a" >"$d/logs-$a"
}
snapshot "$TH_DIR/before"
pida=$(th_sb_pid "$a")
pidb=$(th_sb_pid "$b")
pidc=$(th_sb_pid "$c")
gw1=$(th_gw_pid)

# --- Stop -----------------------------------------------------------------
out=$(os gateway stop)
is "$out" "gateway stopped (pid $gw1)" "gateway stop"
check "sandbox a's supervisor keeps running without the gateway" kill -0 "$pida"
check "sandbox b's supervisor keeps running without the gateway" kill -0 "$pidb"
out=$(os policy set "$a" --policy "$P/three.yaml" 2>&1)
is "$out" "openshell: no gateway is running on $OPENSHELL_STATE_DIR (start one with 'openshell gateway start')" \
	"while the gateway is down the CLI says how to start it"
# A supervisor that dies while nobody watches.
kill -KILL "$pidc"
th_wait 5 th_gone "$pidc"

# --- Start again ------------------------------------------------------------
th_gateway_restart || bail "restart failed"
gw2=$(th_gw_pid)
check "a new gateway process" test "$gw2" != "$gw1"
is "$(cat "$OPENSHELL_STATE_DIR/operator.token")" "$token" "the operator token survives the restart"
is "$(th_sb_field "$c" .phase)" SANDBOX_PHASE_STOPPED "the supervisor that died meanwhile: its sandbox is stopped"
is "$(th_sb_field "$c" .error_message)" "the supervisor is gone (it stopped while the gateway was down)" \
	"... and says why"
snapshot "$TH_DIR/after"
for f in sandboxes revisions-$a revisions-$b policy-$a policy-$b settings settings-$a settings-$b; do
	if [ "$f" = sandboxes ]; then
		# Sandbox c changed on purpose; the others must not have.
		got=$(jq -S "map(select(.name!=\"$c\"))" "$TH_DIR/after/$f")
		want=$(jq -S "map(select(.name!=\"$c\"))" "$TH_DIR/before/$f")
	else
		got=$(cat "$TH_DIR/after/$f")
		want=$(cat "$TH_DIR/before/$f")
	fi
	if [ "$got" == "$want" ]; then ok "after the restart: $f unchanged"; else
		not_ok "after the restart: $f unchanged"
		diag "$(diff <(echo "$want") <(echo "$got") | head -n 20)"
	fi
done
is "$(jq -r '[.revisions[]|"\(.version):\(.status)"]|join(" ")' "$TH_DIR/after/revisions-$a")" \
	"2:POLICY_STATUS_LOADED 1:POLICY_STATUS_SUPERSEDED" "sandbox a: revisions 2 loaded, 1 superseded"
is "$(jq -r '.settings[]|select(.key=="draft_pending_cap")|"\(.effective.value.int_value) \(.effective.scope)"' "$TH_DIR/after/settings-$a")" \
	"7 SETTING_SCOPE_SANDBOX" "sandbox a's own setting survives"
is "$(os settings get draft_expiry)" "2h" "the gateway setting survives"
is "$(os settings get policy_advisor --sandbox "$b")" "true" "gateway scope still wins over sandbox b's value"
is "$(os settings get approval_mode --sandbox "$b")" "auto" "sandbox b's own setting survives"
check "the log lines from before are kept" diff -q "$TH_DIR/before/logs-$a" <(head -n "$(wc -l <"$TH_DIR/before/logs-$a")" "$TH_DIR/after/logs-$a")

# The sandboxes kept running and work through the new gateway.
is "$(th_sb_pid "$a")" "$pida" "sandbox a: the same supervisor (pid $pida)"
is "$(th_sb_pid "$b")" "$pidb" "sandbox b: the same supervisor (pid $pidb)"
is "$(th_sb_field "$a" .phase)" SANDBOX_PHASE_READY "sandbox a is ready"
is "$(os sandbox exec "$a" -- echo still here)" "still here" "exec in sandbox a after the restart"
is "$(echo piped | os sandbox exec "$b" -- cat)" "piped" "exec with stdin in sandbox b after the restart"
out=$(os policy set "$a" --policy "$P/three.yaml" --wait --timeout 30)
is "$?" 0 "a live policy change after the restart: loaded (the supervisor reconnected)"
like "$out" "version 3 loaded and enforced$" "... as version 3"
out=$(os sandbox exec "$c" -- true 2>&1)
is "$out" "openshell: sandbox '$c' is not ready (it is stopped: the supervisor is gone (it stopped while the gateway was down))" \
	"exec in the stopped sandbox says why it cannot run"

# An adopted supervisor that dies later: stopped, with a reason (its exit
# status went to init, not to this gateway).
quiet th_gateway_stop
th_gateway_restart || bail "restart failed"
kill -KILL "$pidb"
check "an adopted supervisor that dies: its sandbox is stopped" th_wait 10 \
	sh -c "[ \"\$($OS_CLI sandbox get $b --json | jq -r .sandbox.phase)\" = SANDBOX_PHASE_STOPPED ]"
is "$(th_sb_field "$b" .error_message)" \
	"the supervisor exited (it was started by an earlier gateway, so its exit status is unknown)" "... and says why"

# A second restart keeps the new state too.
quiet th_gateway_stop
th_gateway_restart || bail "second restart failed"
is "$(os policy get "$a" --json | jq -r '"\(.revision.version) \(.revision.status)"')" "3 POLICY_STATUS_LOADED" \
	"after a second restart: version 3 loaded"
is "$(os sandbox exec "$a" -- echo again)" "again" "after a second restart: exec works"

# A gateway killed between starting a supervisor and storing its pid:
# played by a stopped gateway and a store that lost the pid. The next
# gateway finds the supervisor by its lock and adopts it (no orphan).
quiet th_gateway_stop
ida=$(jq -r ".[]|select(.name==\"$a\")|.id" "$TH_DIR/before/sandboxes")
check "the supervisor holds its sandbox's lock, with its pid" \
	grep -qx "$pida" "$OPENSHELL_STATE_DIR/sandboxes/$ida/supervisor.lock"
"$TH_PY" - "$OPENSHELL_STATE_DIR/openshell.db" "$ida" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE sandboxes SET supervisor_pid = 0, supervisor_start = 0 WHERE id = ?", (sys.argv[2],))
db.commit()
PY
th_gateway_restart || bail "restart failed"
is "$(th_sb_pid "$a")" "$pida" "an unrecorded supervisor is found by its lock: its pid is back"
is "$(th_sb_field "$a" .phase)" SANDBOX_PHASE_READY "... and its sandbox is ready"
is "$(os sandbox exec "$a" -- echo adopted)" "adopted" "... and exec reaches it"
# A second supervisor for the same sandbox refuses to start.
out=$("$OS_BUILDDIR/openshell-sandbox" --gateway "unix:$OPENSHELL_STATE_DIR/gateway.sock" \
	--dir "$OPENSHELL_STATE_DIR/sandboxes/$ida" --secret-fd 3 --name "$a" 3</dev/null 2>&1)
rc=$?
is "$rc" 1 "a second supervisor for a sandbox exits 1"
like "$out" "another supervisor \(pid $pida\) already runs this sandbox \(.*/sandboxes/$ida/supervisor\.lock is locked\)" \
	"... saying which one runs it"
check "... and the first one keeps running" kill -0 "$pida"

# Deleting after a restart stops the adopted supervisor.
quiet os sandbox delete "$a"
check "deleting an adopted sandbox stops its supervisor" th_wait 10 th_gone "$pida"
check "... and removes its directory" test -z "$(ls "$OPENSHELL_STATE_DIR/sandboxes" | grep -x "$(jq -r ".[]|select(.name==\"$a\")|.id" "$TH_DIR/before/sandboxes")")"
quiet os sandbox delete "$b" "$c"
is "$(os sandbox list --json | jq '.sandboxes|length')" 0 "every sandbox deleted"
th_gateway_stop
done_testing

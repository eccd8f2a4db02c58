#!/bin/bash
# The gateway's life from a user's point of view: start, status, stop; one
# gateway per state directory; the CLI without a gateway; remote operators
# over mTLS; and the answers a raw gRPC client gets for unknown methods,
# missing credentials and malformed requests.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-life

# --- No gateway yet -------------------------------------------------------
OPENSHELL_STATE_DIR=$(th_gateway_new_state)
export OPENSHELL_STATE_DIR
th_gateway_trap
out=$(os sandbox list 2>&1)
rc=$?
is "$rc" 1 "no gateway: sandbox list exits 1"
is "$out" "openshell: no gateway is running on $OPENSHELL_STATE_DIR (start one with 'openshell gateway start')" \
	"no gateway: one line saying how to start one"
out=$(os gateway status 2>&1)
is "$out" "openshell: no gateway is running on $OPENSHELL_STATE_DIR (start one with 'openshell gateway start')" \
	"no gateway: gateway status says the same"
out=$(os gateway stop 2>&1)
is "$out" "no gateway is running on $OPENSHELL_STATE_DIR" "no gateway: gateway stop says there is none"

# --- Start, status --------------------------------------------------------
# The caller's open descriptors (a redirection, a directory) must not stay
# with the daemon, nor reach supervisors and sandboxed processes.
exec 7>"$TH_DIR/leak-marker" 8<"$TH_DIR"
th_gateway_start || bail "gateway start failed"
exec 7>&- 8<&-
pid=$(th_gw_pid)
like "$TH_GW_START_OUT" "^gateway started \(pid $pid\), state directory $OPENSHELL_STATE_DIR$" \
	"gateway start prints the pid and the state directory"
check "the gateway runs in the background" kill -0 "$pid"
is "$(stat -c %a "$OPENSHELL_STATE_DIR")" 700 "the state directory is 0700"
is "$(stat -c %a "$OPENSHELL_STATE_DIR/operator.token")" 600 "the operator token is 0600"
like "$(cat "$OPENSHELL_STATE_DIR/operator.token")" '^[0-9a-f]{64}$' "the operator token is 256 random bits"

out=$(os gateway status)
like "$out" "(^|$NL)gateway: +running \(pid $pid\)" "status: running, with the pid"
like "$out" $'\nversion: +[0-9]+\\.[0-9]+' "status: version"
like "$out" $'\nuptime: +[0-9]+s \\(since [0-9-]+ [0-9:]+\\)' "status: uptime"
like "$out" $'\nsandboxes: +0(\n|$)' "status: sandboxes"
like "$out" $'\nlistening: +unix:'"$OPENSHELL_STATE_DIR/gateway.sock" "status: listen address"
json=$(os gateway status --json)
is "$(jq -r .pid <<<"$json")" "$pid" "status --json: pid"
is "$(jq -r '.listen_addresses|join(",")' <<<"$json")" "unix:$OPENSHELL_STATE_DIR/gateway.sock" \
	"status --json: listen addresses"

# One sandbox shows in the count.
sb=$(th_sbname life)
th_sb_create "$sb" || bail "sandbox create failed"
like "$(os gateway status)" $'\nsandboxes: +1(\n|$)' "status counts the sandbox"

fdlinks() { for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null; }
unlike "$(fdlinks "$pid")" "$TH_DIR(/leak-marker)?$NL|$TH_DIR(/leak-marker)?$" \
	"the gateway did not keep the descriptors its caller had open"
unlike "$(fdlinks "$(th_sb_pid "$sb")")" "$TH_DIR(/leak-marker)?$NL|$TH_DIR(/leak-marker)?$" \
	"the supervisor did not inherit them"
out=$(os sandbox exec "$sb" -- sh -c 'ls /proc/$$/fd')
is "$(echo $out)" "0 1 2" "a process in the sandbox has stdin, stdout and stderr, nothing else"

# --- A second gateway on the same state directory ---------------------------
out=$(os gateway start --dns hosts-only 2>&1)
rc=$?
is "$rc" 1 "a second 'gateway start' exits 1"
is "$out" "openshell: a gateway (pid $pid) is already running on state directory $OPENSHELL_STATE_DIR" \
	"a second 'gateway start' names the running pid"
out=$("$OS_BUILDDIR/openshell-gateway" --state-dir "$OPENSHELL_STATE_DIR" --dns hosts-only 2>&1)
rc=$?
is "$rc" 1 "openshell-gateway itself refuses a locked state directory"
is "$out" "openshell-gateway: another gateway (pid $pid) is already running on state directory $OPENSHELL_STATE_DIR" \
	"openshell-gateway names the pid holding the state directory"
check "the first gateway still serves" quiet os sandbox get "$sb"

# --- Raw gRPC: unknown methods, credentials, malformed requests -----------
out=$(th_grpc call Health)
is "$out" '{"status":"serving"}' "python grpcio: Health with the operator token"
out=$(timeout 20 "$TH_PY" "$TH_LIB/grpc_client.py" --pb "$TH_DIR/pb" --state "$OPENSHELL_STATE_DIR" \
	raw /openshell.v1.OpenShell/NoSuchMethod)
is "$out" "UNIMPLEMENTED: /openshell.v1.OpenShell/NoSuchMethod" "unknown method of the service: UNIMPLEMENTED"
out=$(timeout 20 "$TH_PY" "$TH_LIB/grpc_client.py" --pb "$TH_DIR/pb" --state "$OPENSHELL_STATE_DIR" \
	raw /some.other.Service/Call)
is "$out" "UNIMPLEMENTED: /some.other.Service/Call" "unknown service: UNIMPLEMENTED (no hang)"
out=$(th_grpc --no-token raw /some.other.Service/Call)
like "$out" "^UNIMPLEMENTED: " "unknown method without a token: UNIMPLEMENTED too"

unauth="UNAUTHENTICATED: missing or invalid credentials (operators present the token in the gateway's state directory or a client certificate)"
is "$(th_grpc --no-token call Health)" "$unauth" "no token: UNAUTHENTICATED"
is "$(th_grpc --no-token call ListSandboxes)" "$unauth" "no token: ListSandboxes UNAUTHENTICATED"
is "$(th_grpc --token "$(printf '%064d' 0)" call ListSandboxes)" "$unauth" "a made-up token: UNAUTHENTICATED"
out=$(th_grpc --no-token watch '{"all_sandboxes":true,"follow_status":true}' --duration 5)
is "$(tail -n 1 <<<"$out")" "END $unauth" "no token: WatchSandbox ends UNAUTHENTICATED"
out=$(echo hi | th_grpc --no-token exec "$sb" echo hi)
is "$out" "$unauth" "no token: ExecSandbox UNAUTHENTICATED"

is "$(th_grpc call CreateSandbox '{"name":"Bad_Name"}')" \
	"INVALID_ARGUMENT: name: invalid sandbox name 'Bad_Name' (use 1-63 lower-case letters, digits and '-', not starting with '-')" \
	"bad sandbox name: INVALID_ARGUMENT naming the field"
is "$(th_grpc call GetSandbox '{}')" "INVALID_ARGUMENT: name: a sandbox name is required" \
	"no sandbox name: INVALID_ARGUMENT naming the field"
is "$(th_grpc call GetSandboxConfig '{}')" "INVALID_ARGUMENT: sandbox_id: a sandbox name is required" \
	"GetSandboxConfig without sandbox_id: INVALID_ARGUMENT naming that field"
is "$(echo | th_grpc exec "" true)" "INVALID_ARGUMENT: start.sandbox: a sandbox name is required" \
	"ExecSandbox without start.sandbox: INVALID_ARGUMENT naming that field"
like "$(th_grpc call UpdateConfig '{"name":"'"$sb"'","setting_key":"no_such_key","setting_value":{"int_value":1}}')" \
	"^INVALID_ARGUMENT: setting_key: unknown setting 'no_such_key' \(known: approval_mode, " \
	"unknown setting key: INVALID_ARGUMENT naming the field"
is "$(th_grpc call UpdateConfig '{"name":"'"$sb"'","setting_key":"draft_pending_cap","setting_value":{"int_value":5000}}')" \
	"INVALID_ARGUMENT: draft_pending_cap: 5000 is out of range (1 to 1000)" \
	"setting value out of range: INVALID_ARGUMENT naming the setting"
is "$(th_grpc call UpdateConfig '{"name":"'"$sb"'","setting_key":"draft_pending_cap","setting_value":{"bool_value":true}}')" \
	"INVALID_ARGUMENT: draft_pending_cap: expected an integer" \
	"setting value of the wrong type: INVALID_ARGUMENT"
is "$(th_grpc call UpdateConfig '{"name":"'"$sb"'","setting_key":"draft_pending_cap"}')" \
	"INVALID_ARGUMENT: setting_value: a value is required" "setting without a value: INVALID_ARGUMENT"
is "$(th_grpc call UpdateConfig '{"name":"'"$sb"'","setting_key":"draft_pending_cap","setting_value":{"int_value":3},"policy_yaml":"version: 1\n"}')" \
	"INVALID_ARGUMENT: give exactly one of a policy (policy or policy_yaml) or a setting (setting_key)" \
	"policy and setting in one UpdateConfig: INVALID_ARGUMENT"
is "$(th_grpc call UpdateConfig '{"name":"'"$sb"'"}')" \
	"INVALID_ARGUMENT: give exactly one of a policy (policy or policy_yaml) or a setting (setting_key)" \
	"UpdateConfig with neither: INVALID_ARGUMENT"
is "$(th_grpc call UpdateConfig '{"policy_yaml":"version: 1\n","gateway_scope":true}')" \
	"INVALID_ARGUMENT: gateway_scope: policies belong to one sandbox" "policy with gateway_scope: INVALID_ARGUMENT"
is "$(th_grpc call CreateSandbox '{"name":"x-'"$TH_ID"'","spec":{"trusted_cidrs":["10.0.0.1/8"]}}')" \
	"INVALID_ARGUMENT: trusted_cidrs[0]: '10.0.0.1/8' has host bits set; give the network address" \
	"bad trusted CIDR: INVALID_ARGUMENT naming the field"
is "$(th_grpc call GetSandboxPolicyStatus '{"name":"'"$sb"'","version":99}')" \
	"NOT_FOUND: sandbox '$sb' has no policy revision 99" "missing revision: NOT_FOUND"
is "$(th_grpc call GetSandbox '{"name":"nope-'"$TH_ID"'"}')" "NOT_FOUND: no sandbox named 'nope-$TH_ID'" \
	"missing sandbox: NOT_FOUND"
is "$(th_grpc raw /openshell.v1.OpenShell/GetSandbox ffffffff)" \
	"INVALID_ARGUMENT: malformed openshell.v1.GetSandboxRequest request message" \
	"undecodable request body: INVALID_ARGUMENT"
out=$(th_grpc watch '{"name":"'"$sb"'","follow_logs":true,"log_min_level":"loud"}' --duration 5)
is "$(tail -n 1 <<<"$out")" "END INVALID_ARGUMENT: log_min_level: unknown level 'loud' (expected error, warn, info or debug)" \
	"watch with a bad log level: INVALID_ARGUMENT naming the field"
check "the gateway survived all of that" quiet os sandbox get "$sb"

# The CLI shows the gateway's field names too.
out=$(os settings set draft_pending_cap abc --sandbox "$sb" 2>&1)
is "$out" "openshell: draft_pending_cap: 'abc' is not an integer" "CLI: a bad setting value names the setting"
out=$(os sandbox create --name Bad_Name --detach 2>&1)
like "$out" "^openshell: name: invalid sandbox name 'Bad_Name'" "CLI: a bad sandbox name names the field"

# --- Stop -----------------------------------------------------------------
out=$(os gateway stop)
is "$out" "gateway stopped (pid $pid)" "gateway stop"
check "the gateway process is gone" th_wait 5 th_gone "$pid"
check "its socket is removed" test ! -e "$OPENSHELL_STATE_DIR/gateway.sock"
check "its pid file is removed" test ! -e "$OPENSHELL_STATE_DIR/gateway.pid"
out=$(os sandbox list 2>&1)
is "$out" "openshell: no gateway is running on $OPENSHELL_STATE_DIR (start one with 'openshell gateway start')" \
	"after stop: the one-line error again"

# --- TLS: remote operators with the generated certificate -----------------
port=$("$TH_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
th_gateway_restart --tls --listen "127.0.0.1:$port" || bail "gateway start --tls failed"
like "$TH_GW_START_OUT" $'\n'"  listening on 127.0.0.1:$port \\(mTLS; operator certificate in $OPENSHELL_STATE_DIR/tls\\)" \
	"start --tls says where the operator certificate is"
tls=$OPENSHELL_STATE_DIR/tls
for f in ca.pem server.pem server-key.pem operator.pem operator-key.pem; do
	check "start --tls generated $f" test -s "$tls/$f"
done
is "$(stat -c %a "$tls/operator-key.pem")" 600 "the operator key is 0600"
like "$(os gateway status)" $'\nlistening: +127\\.0\\.0\\.1:'"$port" "status lists the TCP listener"
out=$(env -u OPENSHELL_STATE_DIR "$OS_CLI" --state-dir "$TH_DIR/nowhere" --gateway "127.0.0.1:$port" --tls-dir "$tls" sandbox list)
rc=$?
is "$rc" 0 "remote operator over mTLS: sandbox list works"
like "$out" "(^|$NL)$sb +ready " "remote operator sees the sandbox (still ready after the restart)"
out=$(env -u OPENSHELL_STATE_DIR "$OS_CLI" --gateway "127.0.0.1:$port" --tls-dir "$tls" sandbox exec "$sb" -- echo remote 2>&1)
is "$out" "remote" "remote operator: exec works over mTLS"
out=$(th_grpc --target "127.0.0.1:$port" --tls-ca "$tls/ca.pem" --tls-cert "$tls/operator.pem" \
	--tls-key "$tls/operator-key.pem" call Health)
is "$out" '{"status":"serving"}' "python grpcio over mTLS with the operator certificate"
out=$(th_grpc --target "127.0.0.1:$port" --tls-ca "$tls/ca.pem" --no-token call Health)
like "$out" "^UNAVAILABLE: " "TLS without a client certificate: refused"
out=$(th_grpc --target "127.0.0.1:$port" --tls-ca "$tls/ca.pem" --token "$(cat "$OPENSHELL_STATE_DIR/operator.token")" call Health)
like "$out" "^UNAVAILABLE: " "TLS without a client certificate: refused even with the operator token"
th_cert intruder >/dev/null 2>&1
out=$(th_grpc --target "127.0.0.1:$port" --tls-ca "$tls/ca.pem" --tls-cert "$TH_DIR/ca/intruder.pem" \
	--tls-key "$TH_DIR/ca/intruder.key" call Health)
like "$out" "^UNAVAILABLE: " "a client certificate from another CA: refused"
out=$(th_grpc --target "127.0.0.1:$port" --no-token call Health)
like "$out" "^UNAVAILABLE: " "plaintext on the TLS port: refused"
mkdir -p "$TH_DIR/empty-tls"
cp "$tls/ca.pem" "$TH_DIR/empty-tls/"
out=$(env -u OPENSHELL_STATE_DIR "$OS_CLI" --gateway "127.0.0.1:$port" --tls-dir "$TH_DIR/empty-tls" sandbox list 2>&1)
rc=$?
is "$rc" 1 "CLI without the operator certificate exits 1"
like "$out" "^openshell: cannot read the operator certificate for 127\\.0\\.0\\.1:$port: " \
	"CLI without the operator certificate says what is missing"
out=$("$OS_BUILDDIR/openshell-gateway" --state-dir "$TH_DIR/other" --listen 127.0.0.1:1 2>&1)
is "$out" "openshell-gateway: --listen needs --tls (remote operators authenticate with client certificates)" \
	"--listen without --tls is refused"
rm -rf "$TH_DIR/other"

out=$("$OS_CLI" --gateway "127.0.0.1:$port" --tls-dir "$tls" gateway stop 2>&1)
is "$?" 2 "gateway stop with --gateway: a usage error (it would stop a local gateway)"
is "$out" "openshell: gateway stop manages the gateway of a local state directory; it does not take --gateway 127.0.0.1:$port" \
	"... saying so"
check "... and the gateway still runs" quiet os gateway status
like "$(env -u OPENSHELL_STATE_DIR "$OS_CLI" --gateway "127.0.0.1:$port" --tls-dir "$tls" gateway status)" \
	"(^|$NL)gateway: +running " "gateway status with --gateway asks the remote gateway"

# Listening on another address later: the server certificate follows it,
# and the operator certificate (same CA) stays valid.
cp "$tls/operator.pem" "$TH_DIR/operator-before.pem"
quiet th_gateway_stop
port2=$("$TH_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2",0)); print(s.getsockname()[1])')
th_gateway_restart --tls --listen "127.0.0.2:$port2" || bail "gateway start --tls on 127.0.0.2 failed"
out=$(env -u OPENSHELL_STATE_DIR "$OS_CLI" --gateway "127.0.0.2:$port2" --tls-dir "$tls" sandbox get "$sb" --json 2>&1)
is "$(jq -r .sandbox.name <<<"$out" 2>/dev/null)" "$sb" "a new listen address: remote operators reach it (the server certificate names it)"
[ "$(jq -r .sandbox.name <<<"$out" 2>/dev/null)" = "$sb" ] || diag "$out"
check "... with the operator certificate they already had" cmp -s "$tls/operator.pem" "$TH_DIR/operator-before.pem"

os sandbox delete "$sb" >/dev/null
check "gateway stop after the TLS run" th_gateway_stop

# --- Start-up failures are reported, at once ---------------------------------
# A TCP address that is taken.
"$TH_PY" -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$TH_DIR/busy.port" &
busy=$!
th_track_pid $busy
th_wait 10 test -s "$TH_DIR/busy.port"
bport=$(cat "$TH_DIR/busy.port")
OPENSHELL_STATE_DIR=$(th_gateway_new_state)
out=$(os gateway start --dns hosts-only --tls --listen "127.0.0.1:$bport" 2>&1)
is "$?" 1 "gateway start on a TCP port in use: exit 1"
is "$out" "openshell-gateway: cannot listen on 127.0.0.1:$bport: Address already in use" \
	"gateway start on a TCP port in use: says so"
check "... and no gateway is left running" th_gw_none_left "$OPENSHELL_STATE_DIR"
kill "$busy"
# A damaged database: the daemon exits after the fork; start says so
# without waiting for its deadline, with the log's last lines.
OPENSHELL_STATE_DIR=$(th_gateway_new_state)
head -c 8192 /dev/urandom >"$OPENSHELL_STATE_DIR/openshell.db"
out=$(os gateway start --dns hosts-only 2>&1)
is "$?" 1 "gateway start with a damaged database: exit 1"
like "$out" "^openshell: the gateway exited before it started serving${NL}last lines of $OPENSHELL_STATE_DIR/gateway.log:${NL}.* error: store: $OPENSHELL_STATE_DIR/openshell.db: .*file is not a database" \
	"gateway start with a damaged database: says the gateway exited, and why"
check "... and no gateway is left running" th_gw_none_left "$OPENSHELL_STATE_DIR"
done_testing

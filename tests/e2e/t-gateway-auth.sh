#!/bin/bash
# Identity: a sandbox's token reaches its supervisor on an inherited fd and
# is stored nowhere (only its hash, in the database); with it, a sandbox may
# read its own config, report its own policy status and push its own logs,
# and nothing else: operator calls get PERMISSION_DENIED, and naming another
# sandbox gets the same answer whether that sandbox exists or not.
#
# The token is recovered the way an attacker with root would: by scanning
# the supervisor's writable memory (/proc/PID/maps + /proc/PID/mem) for
# 64-hex-digit strings and trying each as a bearer token.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-auth
th_gateway_start || bail "gateway start failed"

a=$(th_sbname auth-a)
b=$(th_sbname auth-b)
th_sb_create "$a" || bail "create $a"
th_sb_create "$b" || bail "create $b"
ida=$(th_sb_field "$a" .id)
idb=$(th_sb_field "$b" .id)
pida=$(th_sb_pid "$a")
pidb=$(th_sb_pid "$b")

# --- Recover the tokens from the supervisors' memory ----------------------
toka=$(th_grpc find-token "$pida" "$ida" 2>"$TH_DIR/find-a.err")
tokb=$(th_grpc find-token "$pidb" "$idb" 2>"$TH_DIR/find-b.err")
diag "sandbox a: $(cat "$TH_DIR/find-a.err")"
if ! [[ $toka =~ ^[0-9a-f]{64}$ && $tokb =~ ^[0-9a-f]{64}$ ]]; then
	skip "sandbox token cases" "the token could not be recovered from the supervisor's memory"
	done_testing
	exit 0
fi
ok "a sandbox token is recovered from its supervisor's memory (256 bits, hex)"
isnt() { if [ "$1" != "$2" ]; then ok "$3"; else not_ok "$3"; fi; }
isnt "$toka" "$tokb" "each sandbox has its own token"
isnt "$toka" "$(cat "$OPENSHELL_STATE_DIR/operator.token")" "a sandbox token is not the operator token"

# Where it is not: argv, environment, any file of the state directory,
# the logs. Only its hash is stored.
unlike "$(tr '\0' ' ' </proc/"$pida"/cmdline)" "$toka" "the token is not on the supervisor's command line"
unlike "$(tr '\0' '\n' </proc/"$pida"/environ)" "$toka" "the token is not in the supervisor's environment"
check "the token is in no file of the state directory" sh -c "! grep -rqa '$toka' '$OPENSHELL_STATE_DIR'"
hash=$(printf %s "$toka" | sha256sum | cut -d' ' -f1)
check "the database holds the token's sha256" sh -c "cat '$OPENSHELL_STATE_DIR'/openshell.db* | grep -qa '$hash'"
fd3=$(readlink "/proc/$pida/fd/3" 2>/dev/null)
unlike "$fd3" '^pipe:' "the supervisor closed the fd the token came on"
# Its zygote and the sandbox's init are forks of the same binary: they
# should not keep a copy (with isolation on, init lives in the sandbox).
kids=$(ps -e -o pid=,ppid= | awk -v p="$pida" '
	{ pp[$1] = $2 } END { for (k in pp) { q = k; while (q in pp && q != 1) {
		q = pp[q]; if (q == p) { print k; break } } } }')
holders=""
for k in $kids; do
	"$TH_PY" - "$k" "$toka" <<'EOF2' && holders+="$k "
import sys
pid, tok = int(sys.argv[1]), sys.argv[2].encode()
with open("/proc/%d/maps" % pid) as m, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in m:
        f = line.split()
        if not f[1].startswith("rw"):
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(lo)
            if tok in mem.read(hi - lo):
                sys.exit(0)
        except (OSError, ValueError, OverflowError):
            pass
sys.exit(1)
EOF2
done
check "the supervisor has child processes to look at ($(echo $kids))" test -n "$kids"
if [ -n "$holders" ]; then
	not_ok "no process of the sandbox but the supervisor holds the token"; diag "held by $holders"
else
	ok "no process of the sandbox but the supervisor holds the token"
fi

sbx() { th_grpc --token "$toka" "$@"; }

# --- Its own config -------------------------------------------------------
out=$(sbx call GetSandboxConfig "{\"sandbox_id\":\"$ida\"}")
is "$(jq -r '.sandbox_name + " " + .sandbox_id' <<<"$out")" "$a $ida" "own config by id"
is "$(sbx call GetSandboxConfig "{\"sandbox_id\":\"$a\"}" | jq -r .sandbox_name)" "$a" "own config by name"
is "$(sbx call GetSandboxConfig '{}' | jq -r .sandbox_name)" "$a" "own config with no name"
is "$(sbx call Health)" '{"status":"serving"}' "Health with a sandbox token"
out=$(sbx watch '{"follow_config":true}' --count 1 --duration 10)
is "$(head -n 1 <<<"$out" | jq -r '.config.sandbox_id')" "$ida" "own watch stream: the config snapshot"

# --- Other sandboxes: the same answer whether they exist or not -----------
same_answer() {  # same_answer DESC CALL_FOR_EXISTING CALL_FOR_MISSING (with NAME)
	local desc=$1 x y
	x=$(sbx call "$2" "${3//NAME/$b}" | sed "s/$b/NAME/g")
	y=$(sbx call "$2" "${3//NAME/nope-$TH_ID}" | sed "s/nope-$TH_ID/NAME/g")
	is "$x" "PERMISSION_DENIED: sandbox 'NAME' is not this sandbox" "$desc: another sandbox is PERMISSION_DENIED"
	is "$y" "$x" "$desc: a sandbox that does not exist gets the same answer"
}
same_answer "GetSandboxConfig by name" GetSandboxConfig '{"sandbox_id":"NAME"}'
x=$(sbx call GetSandboxConfig "{\"sandbox_id\":\"$idb\"}" | sed "s/$idb/ID/")
y=$(sbx call GetSandboxConfig "{\"sandbox_id\":\"$(printf '%032d' 7)\"}" | sed "s/$(printf '%032d' 7)/ID/")
is "$x" "PERMISSION_DENIED: sandbox 'ID' is not this sandbox" "GetSandboxConfig by another sandbox's id: PERMISSION_DENIED"
is "$y" "$x" "GetSandboxConfig by a made-up id: the same answer"
same_answer "PushSandboxLogs" PushSandboxLogs '{"sandbox_id":"NAME","lines":[{"level":"info","message":"x"}]}'
same_answer "ReportPolicyStatus" ReportPolicyStatus '{"sandbox_id":"NAME","version":1,"status":"POLICY_STATUS_LOADED"}'
x=$(sbx watch "{\"name\":\"$b\",\"follow_status\":true}" --duration 5 | tail -n 1 | sed "s/$b/NAME/")
y=$(sbx watch "{\"name\":\"nope-$TH_ID\",\"follow_status\":true}" --duration 5 | tail -n 1 | sed "s/nope-$TH_ID/NAME/")
is "$x" "END PERMISSION_DENIED: sandbox 'NAME' is not this sandbox" "WatchSandbox of another sandbox: PERMISSION_DENIED"
is "$y" "$x" "WatchSandbox of a missing sandbox: the same answer"
is "$(sbx watch '{"all_sandboxes":true,"follow_status":true}' --duration 5 | tail -n 1)" \
	"END PERMISSION_DENIED: only operators may watch every sandbox" "WatchSandbox of every sandbox: PERMISSION_DENIED"

# --- Operator calls refuse a sandbox token ---------------------------------
denied="PERMISSION_DENIED: this call needs operator credentials; a sandbox token cannot make it"
for c in "GetGatewayInfo {}" "ListSandboxes {}" "GetSandbox {\"name\":\"$a\"}" \
    "CreateSandbox {\"name\":\"evil-$TH_ID\"}" "DeleteSandbox {\"name\":\"$a\"}" \
    "DeleteSandbox {\"name\":\"$b\"}" \
    "UpdateConfig {\"name\":\"$a\",\"policy_yaml\":\"version: 1\\n\"}" \
    "UpdateConfig {\"name\":\"$a\",\"setting_key\":\"draft_pending_cap\",\"setting_value\":{\"int_value\":3}}" \
    "GetSandboxPolicyStatus {\"name\":\"$a\"}" "ListSandboxPolicies {\"name\":\"$a\"}" \
    "GetSandboxLogs {\"name\":\"$a\"}" "ListSettings {}"; do
	is "$(sbx call ${c%% *} "${c#* }")" "$denied" "${c%% *} ${c#* } with a sandbox token: PERMISSION_DENIED"
done
is "$(echo | sbx exec "$a" echo hi)" "$denied" "ExecSandbox with a sandbox token: PERMISSION_DENIED"
check "the sandboxes are all still there" quiet os sandbox get "$b"
is "$(os sandbox list --json | jq '.sandboxes|length')" 2 "no sandbox was created or deleted by the refused calls"
is "$(th_grpc call ReportPolicyStatus "{\"sandbox_id\":\"$ida\",\"version\":1,\"status\":\"POLICY_STATUS_LOADED\"}")" \
	"PERMISSION_DENIED: only a sandbox reports its own policy status" "ReportPolicyStatus with the operator token: PERMISSION_DENIED"

# --- What a sandbox may write ----------------------------------------------
out=$(sbx call PushSandboxLogs "{\"sandbox_id\":\"$ida\",\"lines\":[{\"level\":\"warn\",\"target\":\"test\",\"message\":\"event=auth_probe id=$TH_ID\"}]}")
is "$(jq -r .accepted <<<"$out")" 1 "PushSandboxLogs of its own: accepted"
like "$(os logs "$a" --level warn)" "warn +test: event=auth_probe id=$TH_ID" "the pushed line shows in 'openshell logs'"
unlike "$(os logs "$b")" "auth_probe" "... and not in the other sandbox's logs"

# A sandbox's log text cannot forge lines or drive the operator's
# terminal: controls are shown escaped (JSON keeps them exactly).
evil=$(printf 'event=evil id=%s\n2026-01-01T00:00:00.000Z info  policy: forged\033]0;pwned\007 \302\233c' "$TH_ID")
out=$(sbx call PushSandboxLogs "$(jq -nc --arg id "$ida" --arg m "$evil" '{sandbox_id:$id,lines:[{level:"warn",target:"x\ty",message:$m}]}')")
is "$(jq -r .accepted <<<"$out")" 1 "a line with control characters is accepted"
out=$(os logs "$a" | grep "event=evil id=$TH_ID")
like "$out" "warn  x	y: event=evil id=$TH_ID\\\\n2026-01-01T00:00:00\\.000Z info  policy: forged\\\\x1b\\]0;pwned\\\\x07 \\\\u009bc$" \
	"openshell logs shows the newline, ESC, BEL and C1 CSI escaped, on one line"
check "no raw escape character reaches the terminal" sh -c "! $OS_CLI logs '$a' | grep -q \"\$(printf '\\033')\""
is "$(os logs "$a" | grep -c '^2026-01-01T00:00:00.000Z info  policy: forged')" 0 "no forged line appears"
is "$(os logs "$a" --json | jq -r "select(.message|startswith(\"event=evil id=$TH_ID\"))|.message")" "$evil" \
	"logs --json keeps the text exactly"

# The gateway keeps a bounded ring per sandbox (setting log_ring_lines).
quiet os settings set log_ring_lines 100
lines=$(jq -nc '[range(1;251)|{level:"info",target:"ring",message:"event=ring n=\(.)"}]')
out=$(sbx call PushSandboxLogs "{\"sandbox_id\":\"$ida\",\"lines\":$lines}")
is "$(jq -r .accepted <<<"$out")" 250 "PushSandboxLogs of 250 lines: accepted"
out=$(th_grpc call GetSandboxLogs "{\"name\":\"$a\",\"lines\":100000}")
is "$(jq -r '"\(.buffer_total) \(.logs|length)"' <<<"$out")" "100 100" "with log_ring_lines 100 the ring keeps 100 lines"
is "$(jq -r '.logs[-1].message' <<<"$out")" "event=ring n=250" "... the newest ones"
is "$(os logs "$a" -n 1000 | grep -c 'event=ring')" 100 "openshell logs shows the 100 kept lines"
quiet os settings unset log_ring_lines

# Long lines: the gateway cuts a message to 64 KiB when it stores it, so
# that no answer carrying it is too large for a client, and says so.
is "$(sbx push-logs "$ida" 1 200000)" 1 "a line of 200000 bytes: accepted"
msg=$(os logs "$a" --json -n 100 | jq -r 'select(.message|startswith("n=000001 "))|.message')
check "... stored cut to 64 KiB (${#msg} bytes)" test "${#msg}" -le 65536 -a "${#msg}" -gt 60000
like "${msg: -60}" ' \.\.\. \[cut by the gateway: [0-9]+ of 200000 bytes\]$' "... saying how much was cut"
big=$(sbx push-logs "$ida" 1 $((16 * 1024 * 1024 - 256)))
is "$big" 1 "a line just under the 16 MiB message limit: accepted"
out=$(os logs "$a" -n 5 2>&1)
rc=$?
is "$rc" 0 "openshell logs still works with it the newest line"
like "$(tail -n 1 <<<"$out")" "push: n=000001 A+ \\.\\.\\. \\[cut by the gateway: [0-9]+ of 16776960 bytes\\]$" \
	"... and shows it cut"

# A stalled watcher holds at most 8 MiB of queued events: lines of 60000
# bytes overflow it long before 512 events.
th_stall "$TH_DIR/big" "{\"name\":\"$a\",\"follow_logs\":true}" 5 ||
	bail "stalled watcher did not start"
stall=$TH_STALL_PID
is "$(sbx push-logs "$ida" 300 60000)" 300 "300 lines of 60000 bytes: accepted"
touch "$TH_DIR/big.go"
wait "$stall"
like "$(grep -m1 ' warning ' "$TH_DIR/big.out")" \
	'warning resync watch stream fell behind \(more than 512 events or 8 MiB queued\)' \
	"the stalled watcher is resynchronised after 8 MiB, not 512 lines"
n=$(grep -c ' log$' "$TH_DIR/big.out")
check "... having been sent fewer than the 300 lines ($n)" test "$n" -lt 300

# A sandbox's token holds at most 8 watch streams, its supervisor's one
# among them.
rm -f "$TH_DIR"/w*.ready "$TH_DIR/w.go"
for i in 1 2 3 4 5 6 7; do
	sbx stall "{\"name\":\"$a\",\"follow_status\":true}" --ready "$TH_DIR/w$i.ready" \
		--go "$TH_DIR/w.go" --brief --duration 1 >/dev/null 2>&1 &
	th_track_pid $!
done
check "seven more watch streams with the sandbox's token open" th_wait 20 \
	sh -c "[ \$(ls '$TH_DIR'/w*.ready 2>/dev/null | wc -l) -eq 7 ]"
out=$(sbx watch "{\"name\":\"$a\",\"follow_status\":true}" --brief --duration 2 | tail -n 1)
is "$out" "END RESOURCE_EXHAUSTED: a sandbox holds at most 8 watch streams" "the ninth is refused"
touch "$TH_DIR/w.go"
check "... and the sandbox is still ready" \
	th_wait 20 sh -c "'$OS_CLI' sandbox get '$a' --json | jq -e '.sandbox.phase==\"SANDBOX_PHASE_READY\"' >/dev/null"

# A FAILED report reaches `policy set --wait` (exit 1). The report is made
# with the sandbox's own token while its supervisor is stopped: a real
# supervisor does not fail a policy the gateway has validated.
cat >"$TH_DIR/p.yaml" <<'EOF'
version: 1
network_policies:
  api:
    name: api
    endpoints: [{ host: fail.test, port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
EOF
kill -STOP "$pida"
os policy set "$a" --policy "$TH_DIR/p.yaml" --wait --timeout 30 >"$TH_DIR/wait.out" 2>&1 &
waiter=$!
th_wait 10 grep -qs "policy version 2" "$TH_DIR/wait.out"
# (Its text is the sandbox's: the CLI shows controls escaped.)
lerr=$(printf 'synthetic failure %s\033[2J\nforged' "$TH_ID")
out=$(sbx call ReportPolicyStatus "$(jq -nc --arg id "$ida" --arg e "$lerr" \
	'{sandbox_id:$id,version:2,status:"POLICY_STATUS_FAILED",load_error:$e}')")
is "$out" "{}" "ReportPolicyStatus FAILED for its own revision: accepted"
wait "$waiter"
rc=$?
is "$rc" 1 "policy set --wait exits 1 when the revision is reported FAILED"
like "$(cat "$TH_DIR/wait.out")" "${NL}openshell: sandbox '$a' failed to load policy version 2: synthetic failure $TH_ID\\\\x1b\\[2J\\\\nforged$" \
	"... with the sandbox's error, controls escaped"
like "$(os policy list "$a")" "${NL}2 +[0-9a-f]{12} +failed +[0-9-]+ [0-9:]+ +policy set +synthetic failure $TH_ID\\\\x1b\\[2J\\\\nforged${NL}" \
	"policy list: revision 2 failed, with the error escaped"
like "$(os policy get "$a" --version 2)" "${NL}error:    synthetic failure $TH_ID\\\\x1b\\[2J\\\\nforged${NL}" \
	"policy get: the error, escaped"
kill -CONT "$pida"
is "$(sbx call ReportPolicyStatus "{\"sandbox_id\":\"$ida\",\"version\":77,\"status\":\"POLICY_STATUS_LOADED\"}")" \
	"NOT_FOUND: version: no policy revision 77" "ReportPolicyStatus for a missing revision: NOT_FOUND"
is "$(sbx call ReportPolicyStatus "{\"sandbox_id\":\"$ida\",\"version\":2,\"status\":\"POLICY_STATUS_PENDING\"}")" \
	"INVALID_ARGUMENT: status: only LOADED or FAILED can be reported" "ReportPolicyStatus PENDING: INVALID_ARGUMENT"

# --- A deleted sandbox's token is worthless ---------------------------------
os sandbox delete "$b" >/dev/null
out=$(th_grpc --token "$tokb" call GetSandboxConfig "{\"sandbox_id\":\"$idb\"}")
like "$out" "^UNAUTHENTICATED: " "a deleted sandbox's token: UNAUTHENTICATED"

os sandbox delete "$a" >/dev/null
th_gateway_stop
done_testing

#!/bin/bash
# WatchSandbox: events arrive without any action of the watcher (within a
# generous 10 s; latency belongs in bench/), in the order things happened,
# with increasing sequence numbers; a watcher that never reads is bounded
# (a warning, a resync) and holds up neither the gateway nor the others.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-watch
th_gateway_start || bail "gateway start failed"
W=$TH_DIR/watch
mkdir -p "$W"

# th_watch NAME JSON [ARGS]: a background watcher writing $W/NAME.out;
# returns once its stream is open.
th_watch() {
	local name=$1 req=$2
	shift 2
	rm -f "$W/$name.ready"
	th_grpc watch "$req" --ready "$W/$name.ready" "$@" >"$W/$name.out" 2>"$W/$name.err" &
	echo $! >"$W/$name.pid"
	th_track_pid $!
	th_wait 10 test -e "$W/$name.ready"
}
# th_watch_end NAME: waits for the watcher to end (its --duration).
th_watch_end() { wait "$(cat "$W/$1.pid")" 2>/dev/null; }
# th_watch_has NAME JQ: a line of NAME's output satisfies JQ.
th_watch_has() { grep -v "^END" "$W/$1.out" | jq -n -e "[inputs|select($2)]|length>0" >/dev/null 2>&1; }
th_watch_until() { th_wait 10 th_watch_has "$@"; }
events() { grep -v '^END' "$W/$1.out" | jq -c "$2"; }

# --- Status changes of a new sandbox, on an every-sandbox stream ------------
# (A stream counts as open once its first event, a snapshot, is in: one
# sandbox exists beforehand.)
first=$(th_sbname first)
th_sb_create "$first" || bail "create"
th_watch all '{"all_sandboxes":true,"follow_status":true,"follow_policy":true}' --duration 60 ||
	bail "watcher did not start"
sb=$(th_sbname watch)
os sandbox create --name "$sb" --keep --detach >/dev/null 2>&1 || bail "create"
check "a new sandbox's events arrive without any watcher action (10 s)" \
	th_watch_until all ".sandbox.name==\"$sb\" and .sandbox.phase==\"SANDBOX_PHASE_READY\""
phases=$(events all "select(.sandbox.name==\"$sb\")|.sandbox.phase" | uniq | tr -d '"' | tr '\n' ' ')
is "$phases" "SANDBOX_PHASE_PROVISIONING SANDBOX_PHASE_READY " "status events in order: provisioning, then ready"
th_watch_until all ".policy_revision.revision.version==1 and .sandbox_name==\"$sb\" and .policy_revision.revision.status==\"POLICY_STATUS_LOADED\""
check "revision 1 is reported loaded on the stream" test $? -eq 0
is "$(events all "select(.sandbox_name!=\"$first\")|.sandbox_name" | sort -u | tr -d '"')" "$sb" "every event names its sandbox"

# --- A policy set: PENDING then LOADED, and the status in between -----------
th_watch one "{\"name\":\"$sb\",\"follow_status\":true,\"follow_policy\":true,\"follow_logs\":true}" --duration 60 ||
	bail "watcher did not start"
cat >"$TH_DIR/p2.yaml" <<'EOF'
version: 1
network_policies:
  api:
    name: api
    endpoints: [{ host: two.test, port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
EOF
os policy set "$sb" --policy "$TH_DIR/p2.yaml" >/dev/null || bail "policy set"
check "revision 2 LOADED arrives without any watcher action (10 s)" \
	th_watch_until one '.policy_revision.revision.version==2 and .policy_revision.revision.status=="POLICY_STATUS_LOADED"'
statuses=$(events one 'select(.policy_revision.revision.version==2)|.policy_revision.revision.status' | tr -d '"' | tr '\n' ' ')
is "$statuses" "POLICY_STATUS_PENDING POLICY_STATUS_LOADED " "revision events in order: PENDING, then LOADED"
# The sandbox's own view follows: latest version 2 before active version 2.
seen=$(events one 'select(.sandbox)|"\(.sandbox.policy_version)/\(.sandbox.active_policy_version)"' | tr -d '"' | uniq | tr '\n' ' ')
like "$seen" "^1/1 (.* )?2/1 (.* )?2/2 $" "status events: version 2 stored, then active (${seen% })"
check "the supervisor's 'policy_loaded' log line arrives on the stream" \
	th_watch_until one '(.log.message // "")|test("event=policy_loaded version=2 ")'
seqs=$(events one '.seq|tonumber' | tr '\n' ' ')
want=$(seq 1 "$(events one '.seq' | wc -l)" | tr '\n' ' ')
is "$seqs" "$want" "sequence numbers count up from 1 with no gap"
ts=$(events one '.timestamp_ms|tonumber')
is "$ts" "$(sort -n <<<"$ts")" "event timestamps never go backwards"
check "events carry the sandbox's id" th_watch_has one ".sandbox_id==\"$(th_sb_field "$sb" .id)\""

# `openshell logs -f` sees a new line the same way.
os logs "$sb" -f >"$W/follow.out" 2>&1 &
follow=$!
th_track_pid $follow
th_wait 10 grep -q 'event=policy_loaded version=2 ' "$W/follow.out"
check "logs -f prints the existing lines" test $? -eq 0
os policy set "$sb" --policy "$TH_DIR/p2.yaml" >/dev/null
sed 's/two\.test/three.test/' "$TH_DIR/p2.yaml" >"$TH_DIR/p3.yaml"
os policy set "$sb" --policy "$TH_DIR/p3.yaml" >/dev/null
check "logs -f prints a new line without any action (10 s)" th_wait 10 grep -q 'event=policy_loaded version=3 ' "$W/follow.out"
kill "$follow" 2>/dev/null
wait "$follow" 2>/dev/null

# --- A watch with nothing to say yet is open at once ----------------------
# Logs only, errors only, no tail: nothing to send, yet the stream's headers
# arrive (the client sees it established, not still connecting).
if th_watch quiet "{\"name\":\"$sb\",\"follow_logs\":true,\"log_min_level\":\"error\"}" --duration 3; then
	ok "a logs-only watch with nothing to send is established at once (10 s)"
	th_watch_end quiet
	is "$(cat "$W/quiet.out")" "END TIMEOUT" "... and it sent no event"
else
	# Its client still waits for the headers: it would wait for ever.
	kill "$(cat "$W/quiet.pid")" 2>/dev/null
	not_ok "a logs-only watch with nothing to send is established at once (10 s)"
fi

# --- A slow watcher is bounded ---------------------------------------------
# It opens a stream with a small receive window and reads nothing while a
# burst of setting changes makes one config event each.
n=1500
th_stall "$W/stall" "{\"name\":\"$sb\",\"follow_config\":true}" 8 ||
	bail "stalled watcher did not start"
stall=$TH_STALL_PID
th_watch fast "{\"name\":\"$sb\",\"follow_config\":true}" --brief --duration 120 || bail "watcher did not start"
th_grpc burst "$sb" "$n" >"$W/burst.out" &
burst=$!
# While the burst runs and the slow watcher backs up, the gateway answers.
sleep 0.5
is "$(th_grpc call Health)" '{"status":"serving"}' "during the burst: the gateway answers"
check "during the burst: the CLI works" quiet os sandbox get "$sb"
wait "$burst"
is "$(cat "$W/burst.out")" "$n" "every one of $n setting changes was acknowledged"
check "the other watcher receives all $n events" th_wait 30 \
	sh -c "[ \$(grep -c ' config\$' '$W/fast.out') -ge $((n + 1)) ]"
unlike "$(grep warning "$W/fast.out")" "warning" "the other watcher got no warning"
fseq=$(grep -v '^END' "$W/fast.out" | cut -d' ' -f1 | tr '\n' ' ')
is "$fseq" "$(seq 1 $((n + 1)) | tr '\n' ' ')" "the other watcher's events are complete and in order"
touch "$W/stall.go"
wait "$stall"
warn=$(grep -m1 ' warning ' "$W/stall.out")
like "$warn" "^[0-9]+ warning resync watch stream fell behind \\(more than 512 events or 8 MiB queued\\); queued events were dropped, a fresh snapshot follows$" \
	"the slow watcher gets a warning with resync"
after=$(grep -A1 -m1 ' warning ' "$W/stall.out" | tail -n 1)
like "$after" "^[0-9]+ config$" "the warning is followed by a fresh snapshot"
lines=$(grep -vc '^END' "$W/stall.out")
check "the slow watcher was sent far fewer than $n events ($lines)" test "$lines" -lt "$n"
like "$(grep 'watcher fell behind' "$OPENSHELL_STATE_DIR/gateway.log" | head -n 1)" \
	"warn: watcher fell behind; resynchronised \\(1 times\\)" "the gateway logs the resync"
check "the gateway still serves after the burst" quiet os sandbox get "$sb"

# --- Deleting the sandbox ends its streams ----------------------------------
os logs "$sb" -f -n 1 >"$W/follow2.out" 2>"$W/follow2.err" &
follow=$!
th_track_pid $follow
th_wait 10 test -s "$W/follow2.out"
os sandbox delete "$sb" >/dev/null
check "the sandbox's watcher sees it deleted" th_watch_until one ".deleted.name==\"$sb\""
th_watch_end one
is "$(tail -n 1 "$W/one.out")" "END OK: " "its stream ends cleanly"
wait "$follow"
is "$?" 0 "logs -f ends (exit 0) when the sandbox is deleted"
is "$(cat "$W/follow2.err")" "openshell: sandbox '$sb' was deleted" "... saying it was deleted"
check "the every-sandbox watcher sees it deleted too" th_watch_until all ".deleted.name==\"$sb\""
phases=$(events all "select(.sandbox.name==\"$sb\")|.sandbox.phase" | uniq | tr -d '"' | tail -n 1)
is "$phases" SANDBOX_PHASE_DELETING "the last status before the deletion is 'deleting'"

# --- Gateway shutdown ends every stream with UNAVAILABLE --------------------
os sandbox delete "$first" >/dev/null
th_gateway_stop
th_watch_end all
like "$(tail -n 1 "$W/all.out")" "^END UNAVAILABLE: " "gateway stop ends the every-sandbox stream UNAVAILABLE"
done_testing

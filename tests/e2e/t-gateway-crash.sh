#!/bin/bash
# kill -9 durability: several clients write concurrently (policy sets,
# setting changes, sandbox creation) and record every acknowledgement;
# the gateway is killed with SIGKILL while writes are in flight; after a
# restart every acknowledged write is there, and every stored revision's
# hash is the sha256 of its stored canonical YAML.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-crash
th_gateway_start || bail "gateway start failed"
D=$TH_DIR/writers
mkdir -p "$D"

threads=4
names=()
for i in $(seq 0 $((threads - 1))); do
	names+=("$(th_sbname crash$i)")
	th_sb_create "${names[$i]}" || bail "create"
done
list=$(IFS=,; echo "${names[*]}")

th_grpc --timeout 20 writers "$D" --threads "$threads" --sandboxes "$list" --creates "new-$TH_ID" \
	>"$D/out" 2>"$D/err" &
writers=$!
th_track_pid $writers
th_wait 30 test -e "$D/ready" || bail "the writers did not get going: $(cat "$D/err")"
# Let acknowledgements pile up, then kill while calls are in flight.
acked() { cat "$D"/writer-*.log | grep -c '^ack '; }
th_wait 60 sh -c "[ \$(cat '$D'/writer-*.log | grep -c '^ack ') -ge 120 ]"
gw=$(th_gw_pid)
kill -KILL "$gw"
wait "$writers"
is "$?" 0 "the writers stopped when the gateway went away"
nack=$(acked)
ncreate=$(cat "$D"/writer-*.log | grep -c '^ack create ')
diag "acknowledged before the kill: $nack writes ($ncreate sandbox creations)"
check "writes were in flight when the gateway was killed" \
	sh -c "cat '$D'/writer-*.log | grep -q '^error UNAVAILABLE'"
check "the writers saw creations acknowledged" test "$ncreate" -gt 0
check "the gateway is gone" th_wait 5 th_gone "$gw"
out=$(os sandbox list 2>&1)
is "$out" "openshell: no gateway is running on $OPENSHELL_STATE_DIR (start one with 'openshell gateway start')" \
	"after kill -9 (socket and pid file left behind) the CLI says how to start one"
out=$(os gateway status 2>&1)
is "$?" 1 "gateway status after kill -9: exit 1"

th_gateway_restart || bail "restart after kill -9 failed"
check "the gateway starts again after kill -9 (stale socket and pid file)" quiet os gateway status

# --- Every acknowledged write is stored ---------------------------------------
# One line per stored revision: NAME VERSION STATUS HASH SHA256(YAML) HOSTS
th_grpc --timeout 30 revisions >"$D/stored" || bail "cannot list the stored revisions"
missing=0
bad=""
while read -r _ _ sb host v hash; do
	grep -qx "$sb $v [A-Z_]* $hash [0-9a-f]* $host" "$D/stored" || {
		missing=$((missing + 1))
		bad+="$sb v$v $host; "
	}
done < <(cat "$D"/writer-*.log | grep '^ack policy ')
npol=$(cat "$D"/writer-*.log | grep -c '^ack policy ')
is "$missing" 0 "all $npol acknowledged policy revisions are stored with their version, hash and content"
[ -n "$bad" ] && diag "missing: $bad"

missing=0
stored_ids=$(os sandbox list --json | jq -r '.sandboxes[]|"\(.name) \(.id)"')
while read -r _ _ name id; do
	grep -qx "$name $id" <<<"$stored_ids" || missing=$((missing + 1))
done < <(cat "$D"/writer-*.log | grep '^ack create ')
is "$missing" 0 "all $ncreate acknowledged sandbox creations are stored"

# Settings: each thread writes its own sandbox's key one call at a time, so
# the stored value is its last acknowledged one, or the one in flight.
for i in $(seq 0 $((threads - 1))); do
	log=$D/writer-$i.log
	last=$(grep '^ack setting ' "$log" | tail -n 1 | cut -d' ' -f5)
	inflight=$(grep -E '^(sent|ack) setting ' "$log" | tail -n 1 | awk '$1=="sent"{print $5}')
	stored=$(os settings list --sandbox "${names[$i]}" --json |
		jq -r '.settings[]|select(.key=="draft_pending_cap")|.sandbox_value.int_value // "unset"')
	if [ "$stored" = "$last" ] || { [ -n "$inflight" ] && [ "$stored" = "$inflight" ]; }; then
		ok "sandbox ${names[$i]}: the stored setting is the last acknowledged ($last) or in-flight one"
	else
		not_ok "sandbox ${names[$i]}: the stored setting is the last acknowledged ($last) or in-flight one"
		diag "stored: $stored, in flight: ${inflight:-none}"
	fi
done

# --- Every stored revision is intact --------------------------------------------
total=$(wc -l <"$D/stored")
badhash=$(awk '$4 != $5' "$D/stored")
is "$badhash" "" "every one of the $total stored revisions has hash = sha256(canonical YAML)"
gaps=$(awk '{ if ($1 != n) { n = $1; want = 1 } if ($2 != want) print $1 " v" $2; want++ }' "$D/stored")
is "$gaps" "" "every sandbox's versions run 1..N without a gap"
check "no more revisions than writes were attempted" test "$total" -le \
	"$(( $(cat "$D"/writer-*.log | grep -c '^sent policy ') + $(cat "$D"/writer-*.log | grep -c '^sent create ') + threads ))"

# The gateway works normally afterwards.
out=$(os policy set "${names[0]}" --policy <(printf 'version: 1\nnetwork_policies:\n  z:\n    name: z\n    endpoints: [{ host: z.test, port: 443 }]\n    binaries: [{ path: /usr/bin/curl }]\n') --wait --timeout 30)
is "$?" 0 "after the crash: a policy set loads in a surviving sandbox"
is "$(os sandbox exec "${names[1]}" -- echo ok)" "ok" "after the crash: exec works"
done_testing

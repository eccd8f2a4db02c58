#!/bin/bash
# The gateway's disk fills up (its state directory is a small tmpfs, and
# the sandbox's /var/log is on it too): the sandbox goes on enforcing;
# writes through the CLI fail with the reason and store nothing; reads
# still work; the gateway keeps running and says, without flooding its
# log, which sandbox's lines wait; once there is room again every line
# the sandbox logged meanwhile reaches the gateway, and the sandbox's
# own log file says how many lines it could not take.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-full
command -v findmnt >/dev/null || skip_all "findmnt (util-linux) is not installed"

ip=$(th_host up) || bail "test host"
th_standin up --https 443 --cert-name api.example.test || bail "stand-in 443"
hf=$(th_hosts_file api.example.test="$ip")
TH_GW_TMPFS=64m th_gateway_start --hosts-file "$hf" || bail "gateway start"
state=$OPENSHELL_STATE_DIR
sb=$(th_sbname full)
cat >"$TH_DIR/p1.yaml" <<'EOF'
version: 1
network_policies:
  example:
    endpoints:
      - { host: api.example.test, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
EOF
cat >"$TH_DIR/p2.yaml" <<'EOF'
version: 1
network_policies:
  other:
    endpoints:
      - { host: other.test, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
EOF
th_sb_create "$sb" --policy "$TH_DIR/p1.yaml" || bail "sandbox"
gw=$(th_gw_pid)
work=$state/sandboxes/$(th_sb_field "$sb" .id)/work
filelog=$work/../log/openshell.log
os sandbox exec "$sb" -- sh -c 'cat > /sandbox/ca.pem' <"$TH_DIR/ca/ca.pem"
os sandbox exec "$sb" -- sh -c 'cat > /sandbox/client.py' <"$TH_LIB/client.py"
scurl() { os sandbox exec -n "$sb" -- curl -sS --max-time 20 --cacert /sandbox/ca.pem "$@" 2>&1; }
ZEN="Anything added dilutes everything else."
logs() { os logs "$sb" -n 10000; }
os sandbox exec "$sb" -- python3 /sandbox/client.py connect before.test:443 >/dev/null 2>&1
th_wait 10 sh -c "'$OS_CLI' logs '$sb' | grep -q 'dst_host=before\.test'" ||
	bail "the first denial did not reach the gateway"

# --- the disk fills up ---------------------------------------------------
dd if=/dev/zero of="$state/filler" bs=1M >/dev/null 2>&1
dd if=/dev/zero of="$state/filler2" bs=4k >/dev/null 2>&1
is "$(df --output=avail -B1 "$state" | tail -n 1 | tr -d ' ')" 0 "the gateway's disk is full"

is "$(scurl https://api.example.test/zen)" "$ZEN" "disk full: what the policy allows still works"
out=$(scurl https://denied.test/; echo "rc=$?")
like "$out" 'rc=56$' "disk full: what it denies is still denied"
out=$(os sandbox exec "$sb" -- python3 /sandbox/client.py flood during.test:443 3000 2>&1)
is "$out" "denied 3000" "disk full: 3000 more denials"
t0=$(grep -c 'log lines not stored' "$state/gateway.log")

out=$(os policy set "$sb" --policy "$TH_DIR/p2.yaml" --wait 2>&1; echo "rc=$?")
like "$out" 'disk is full' "disk full: policy set says the disk is full"
like "$out" 'rc=1$' "disk full: policy set exits 1"
out=$(os sandbox create --name "$(th_sbname new)" --keep --detach 2>&1; echo "rc=$?")
like "$out" 'disk is full' "disk full: sandbox create says the disk is full"
unlike "$out" 'rc=0$' "disk full: sandbox create fails"
out=$(os settings set log_ring_lines 5000 2>&1; echo "rc=$?")
like "$out" "disk is full.*rc=1\$" "disk full: settings set says the disk is full and exits 1"

out=$(os sandbox list 2>&1)
like "$out" "$sb +ready" "disk full: sandbox list still answers, the sandbox ready"
unlike "$out" "$(th_sbname new)" "disk full: the sandbox that could not be created is not listed"
like "$(logs)" 'dst_host=before\.test' "disk full: openshell logs shows what was stored"
like "$(os policy get "$sb")" 'example' "disk full: the stored policy is still the first"

# The supervisor sends the waiting lines again, less and less often.
sleep 6
t1=$(grep -c 'log lines not stored' "$state/gateway.log")
like "$(grep -m1 'log lines not stored' "$state/gateway.log")" \
	"error: sandbox $sb: [0-9]+ log lines not stored \\(the sandbox sends them again\\): .*disk is full" \
	"disk full: the gateway's log names the sandbox whose lines wait, and why"
n=$((t1 - t0))
check "disk full: in 6 s the sandbox tried again a few times ($n), not every 100 ms" \
	test "$n" -ge 1 -a "$n" -le 15
is "$(th_gw_pid)" "$gw" "disk full: the gateway is still the same process"

# --- room again ------------------------------------------------------------
rm -f "$state/filler" "$state/filler2"
os sandbox exec "$sb" -- python3 /sandbox/client.py connect after.test:443 >/dev/null 2>&1
th_wait 30 sh -c "'$OS_CLI' logs '$sb' -n 10000 | grep -q 'dst_host=after\.test'"
all=$(logs)
like "$all" 'dst_host=after\.test' "room again: new lines arrive"
is "$(grep -c 'dst_host=during\.test' <<<"$all")" 3000 \
	"room again: all 3000 lines logged while the disk was full reach the gateway"
like "$(grep -F event=log_file_failed <<<"$all")" \
	'warn +supervisor: event=log_file_failed path=/var/log/openshell\.log error="No space left on device"$' \
	"room again: the gateway hears that the sandbox's log file could not be written"
note=$(grep -F event=log_file_dropped "$filelog")
like "$note" \
	'warn +supervisor: event=log_file_dropped count=[0-9]+ reason="No space left on device"$' \
	"room again: the sandbox's log file says how many lines it missed"
lost=$(sed -E 's/.*count=([0-9]+).*/\1/' <<<"$note")
grep -F 'dst_host=during.test' "$filelog" >"$TH_DIR/kept"
kept=$(wc -l <"$TH_DIR/kept")
is "$(grep -vxFf <(cat <<<"$all") "$TH_DIR/kept" | wc -l)" 0 \
	"room again: each flood line the file kept ($kept) is whole, a line the gateway has byte for byte"
# The count is every line it missed: the flood's, and the few others the
# sandbox logged meanwhile (the curl decisions, the exec sessions).
check "room again: the file's count ($lost) covers the $((3000 - kept)) flood lines it missed, and little else" \
	test "$lost" -ge $((3000 - kept)) -a "$lost" -le $((3000 - kept + 20))
like "$(grep -F event=log_file_dropped <<<"$all")" "count=$lost " \
	"room again: the gateway has the same note"
check "room again: policy set works" quiet os policy set "$sb" --policy "$TH_DIR/p2.yaml" --wait
is "$(th_gw_pid)" "$gw" "room again: the gateway never restarted"

# --- the sandbox's own file is rotated at a size --------------------------
# (sandbox_log_file_mb; 64 by default): a flood of denials alone would
# fill the disk again.
quiet os settings set sandbox_log_file_mb 1 --sandbox "$sb" || bail "settings set sandbox_log_file_mb"
sleep 1   # the setting reaches the supervisor on its watch stream
out=$(os sandbox exec "$sb" -- python3 /sandbox/client.py flood rotate.test:443 12000 2>&1)
is "$out" "denied 12000" "12000 denials (about 2.5 MB of log lines)"
os sandbox exec "$sb" -- python3 /sandbox/client.py connect last-rotate.test:443 >/dev/null 2>&1
th_wait 5 grep -qs 'dst_host=last-rotate\.test' "$filelog"
size=$(stat -c %s "$filelog")
size1=$(stat -c %s "$filelog.1" 2>/dev/null || echo 0)
check "the file was rotated at 1 MiB: openshell.log ($size bytes) and openshell.log.1 ($size1) each at most 1 MiB" \
	test "$size" -le 1048576 -a "$size1" -le 1048576 -a "$size1" -gt 900000
like "$(head -n 1 "$filelog")" \
	'info +supervisor: event=log_file_rotated previous=/var/log/openshell\.log\.1 max_mb=1$' \
	"the new file's first line says where the older lines went"
check "the newest line is in the new file" grep -q 'dst_host=last-rotate\.test' "$filelog"
is "$(os sandbox exec "$sb" -- sh -c 'ls /var/log/openshell.log*' 2>&1 | tr '\n' ' ')" \
	"/var/log/openshell.log /var/log/openshell.log.1 " "inside, the agent's /var/log has the file and the older one"
like "$(logs | tail -n 3)" 'dst_host=last-rotate\.test' "the gateway has the lines all the same, in its own ring"

done_testing

#!/bin/bash
# A real sandbox's network at L4, through the gateway and the CLI: default
# deny with the curl error and a logged line; an allowed host, wildcard
# hosts, wrong port, wrong binary, ancestors and a binary named through a
# symlink; loopback and link-local never, private addresses only when
# declared; a connection that skips the proxy has no route and a DNS query
# is a logged bypass; a new policy applies without a restart and closes a
# tunnel it no longer admits; while the gateway is away the last good
# policy stays enforced, and lines beyond what the sandbox queues for it
# are dropped oldest first and counted; the log lines in text and JSON.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/gateway.sh"
th_init sbnet

ip=$(th_host up) || bail "test host"
th_standin up --https 443 --cert-name api.example.test,api2.example.test,other.test ||
	bail "stand-in 443"
th_standin up --https 8443 --cert-name api.example.test || bail "stand-in 8443"
hf=$(th_hosts_file api.example.test="$ip" api2.example.test="$ip" \
	other.test="$ip" loop.test=127.0.0.1 meta.test=169.254.169.254)
# A low soft limit on open files for everything started here, so that the
# supervisor's raising its own is seen, and the agent's keeping it.
ulimit -Sn 512 || bail "ulimit -Sn 512"
th_gateway_start --hosts-file "$hf" || bail "gateway start"
sb=$(th_sbname net)
host_cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
th_sb_create "$sb" || bail "sandbox"
ZEN="Anything added dilutes everything else."

# The test CA, so that curl in the sandbox can verify the stand-in.
os sandbox exec "$sb" -- sh -c 'cat > /sandbox/ca.pem' <"$TH_DIR/ca/ca.pem"
scurl() { os sandbox exec -n "$sb" -- curl -sS --max-time 20 --cacert /sandbox/ca.pem "$@" 2>&1; }
spy() {   # spy URL: python3 through the proxy, prints the status or error
	os sandbox exec -n "$sb" -- python3 -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="/sandbox/ca.pem")
try:
    print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=20).read().decode())
except Exception as e:
    print(type(e).__name__, e)' "$1" 2>&1
}
setpol() { os policy set "$sb" --policy "$1" --wait >/dev/null 2>&1; }
# logline ERE [SECS]: the newest log line matching, waiting up to SECS
# (10) for it.
logline() {
	th_wait "${2:-10}" sh -c "'$OS_CLI' logs '$sb' -n 10000 | grep -qE -- '$1'" || return 1
	os logs "$sb" -n 10000 | grep -E -- "$1" | tail -n 1
}

# --- the loopback inside is not paced ------------------------------------
# Both ends of the agent's connection to the proxy: the agent's socket
# (the namespace's default) and the proxy's (accepted in that namespace), seen
# with ss inside. BBR or another pacing default of the host stays the
# host's.
out=$(os sandbox exec "$sb" -- python3 -c '
import socket, subprocess
s = socket.create_connection(("127.0.0.1", 3128))
mine = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
ss = subprocess.run(["ss", "-Htin", "sport", "=", ":3128"], capture_output=True, text=True)
words = ss.stdout.split()
print(mine, "proxy=" + next((w for w in words if w in ("cubic", "reno", "bbr")), "?" + ss.stderr.strip()))' 2>&1)
like "$out" '^(cubic|reno) proxy=(cubic|reno)$' \
	"the agent's socket and the proxy's end of it use an unpaced congestion control"
is "$(cat /proc/sys/net/ipv4/tcp_congestion_control)" "$host_cc" \
	"the host's default congestion control is left as it was ($host_cc)"

# --- open files: the proxy's limit is the host's, the agent's its own ------
sup_pid=$(os sandbox get "$sb" --json | jq -r .sandbox.supervisor_pid)
read -r soft hard <<<"$(awk '/^Max open files/ { print $4, $5 }' "/proc/$sup_pid/limits" 2>/dev/null)"
want=$hard
[ "$hard" = unlimited ] || [ "$hard" -gt 1048576 ] && want=1048576
is "$soft" "$want" "the supervisor (the proxy) raises its soft limit on open files to the hard one ($hard)"
is "$(os sandbox exec "$sb" -- sh -c 'ulimit -Sn' 2>&1)" 512 \
	"the agent keeps the soft limit the sandbox was started with"

# --- default deny --------------------------------------------------------
out=$(scurl https://api.example.test/zen; echo "rc=$?")
like "$out" 'rc=56' "default deny: curl fails (exit 56)"
like "$out" '(Received HTTP code 403 from proxy after CONNECT|CONNECT tunnel failed, response 403)' \
	"default deny: curl reports the proxy's 403 after CONNECT"
line=$(logline 'action=deny dst_host=api\.example\.test dst_port=443 ')
like "$line" 'binary=/usr/bin/curl .*deny_reason="no matching network policy" engine=l4' \
	"the deny line names the binary and the reason"
json=$(os logs "$sb" --json -n 10000 | grep '"api.example.test"' | tail -n 1)
is "$(jq -r '.action + " " + .dst_endpoint.hostname + " " + (.dst_endpoint.port|tostring) + " " + .process.file.path' <<<"$json")" \
	"Denied api.example.test 443 /usr/bin/curl" "logs --json: OCSF-style action, dst_endpoint, process"

# --- an allowed host, then what does not match ----------------------------
py_real=$(readlink -f /usr/bin/python3)
cat >"$TH_DIR/p1.yaml" <<EOF
version: 1
network_policies:
  api:
    name: example-api
    endpoints: [{ host: api.example.test, port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
  wild:
    endpoints: [{ host: "*.example.test", port: 8443 }]
    binaries: [{ path: /usr/bin/curl }]
  pylink:
    endpoints: [{ host: other.test, port: 443 }]
    binaries: [{ path: /usr/bin/python3 }]
  timeout:
    endpoints: [{ host: api2.example.test, port: 443 }]
    binaries: [{ path: /usr/bin/timeout }]
EOF
check "policy set --wait loads an L4 policy" setpol "$TH_DIR/p1.yaml"
is "$(scurl https://api.example.test/zen)" "$ZEN" "allowed: curl reaches api.example.test:443"
line=$(logline 'action=allow dst_host=api\.example\.test dst_port=443 ')
like "$line" 'policy=example-api' "the allow line names the policy"
# A wildcard matches, and then SSRF refuses: a wildcard may not reach a
# private address (the test host is one) unless told so, see below.
scurl https://api.example.test:8443/zen >/dev/null
line=$(logline 'dst_host=api\.example\.test dst_port=8443 ')
like "$line" 'engine=ssrf' "wildcard *.example.test matches api.example.test:8443 (then SSRF decides)"
out=$(scurl https://other.test:8443/zen; echo "rc=$?")
like "$out" 'rc=56' "a wildcard does not match another domain"
line=$(logline 'dst_host=other\.test dst_port=8443 ')
like "$line" 'deny_reason="no matching network policy" engine=l4' \
	"other.test:8443 matches no policy"
out=$(scurl https://api2.example.test/zen; echo "rc=$?")
like "$out" 'rc=56' "wrong port/endpoint: api2.example.test:443 is not curl's"
out=$(spy https://api.example.test/zen)
like "$out" '403' "wrong binary: python3 is refused where only curl is allowed"
line=$(logline "action=deny dst_host=api\\.example\\.test dst_port=443 binary=${py_real//./\\.}")
like "$line" "binary '${py_real//./\\.}' not allowed in policy 'example-api' \\(allows /usr/bin/curl\\)" \
	"the reason says which binary the policy allows"
is "$(spy https://other.test/zen)" "$ZEN" \
	"a policy naming the symlink /usr/bin/python3 admits $py_real"
out=$(os sandbox exec -n "$sb" -- timeout 20 python3 -c '
import ssl, urllib.request
ctx = ssl.create_default_context(cafile="/sandbox/ca.pem")
print(urllib.request.urlopen("https://api2.example.test/zen", context=ctx).read().decode())' 2>&1)
is "$out" "$ZEN" "an allowed ancestor (timeout) admits the python3 it runs"

# --- SSRF: loopback, link-local, private ----------------------------------
cat >"$TH_DIR/p2.yaml" <<EOF
version: 1
network_policies:
  loop:
    endpoints: [{ host: loop.test, port: 80 }, { host: meta.test, port: 80 }]
    binaries: [{ path: /usr/bin/curl }]
  private_wild:
    endpoints: [{ host: "*.example.test", port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
EOF
check "policy set: loopback and wildcard endpoints" setpol "$TH_DIR/p2.yaml"
out=$(os sandbox exec -n "$sb" -- curl -sS -i --max-time 20 -x http://127.0.0.1:3128 http://loop.test/ 2>&1)
like "$out" '"error":"ssrf_denied"' "a host resolving to loopback is refused even when listed"
out=$(os sandbox exec -n "$sb" -- curl -sS -i --max-time 20 -x http://127.0.0.1:3128 http://meta.test/ 2>&1)
like "$out" '"error":"ssrf_denied"' "the metadata address is refused even when listed"
out=$(scurl https://api.example.test/zen; echo "rc=$?")
like "$out" 'rc=56' "a wildcard host resolving to a private address is refused"
line=$(logline 'dst_host=api\.example\.test dst_port=443 .*engine=ssrf')
like "$line" "private address ${ip//./\\.}" "the SSRF line names the private address"

sb2=$(th_sbname trusted)
net=${ip%.*}.0/24
th_sb_create "$sb2" --trusted-cidr "$net" || bail "sandbox with --trusted-cidr"
os sandbox exec "$sb2" -- sh -c 'cat > /sandbox/ca.pem' <"$TH_DIR/ca/ca.pem"
os policy set "$sb2" --policy "$TH_DIR/p2.yaml" --wait >/dev/null 2>&1
out=$(os sandbox exec -n "$sb2" -- curl -sS --max-time 20 --cacert /sandbox/ca.pem https://api.example.test/zen 2>&1)
is "$out" "$ZEN" "--trusted-cidr $net admits the private address behind a wildcard"
cat >"$TH_DIR/p3.yaml" <<EOF
version: 1
network_policies:
  ips:
    endpoints: [{ host: "*.example.test", port: 443, allowed_ips: ["$ip/32"] }]
    binaries: [{ path: /usr/bin/curl }]
EOF
check "policy set: allowed_ips" setpol "$TH_DIR/p3.yaml"
is "$(scurl https://api.example.test/zen)" "$ZEN" "allowed_ips admits the private address"

# --- no way around the proxy ---------------------------------------------
out=$(os sandbox exec -n "$sb" -- curl -sS --noproxy '*' --max-time 5 "http://$ip/" 2>&1; echo "rc=$?")
like "$out" 'rc=7' "a connection that skips the proxy has no route (curl exit 7)"
out=$(os sandbox exec -n "$sb" -- getent hosts api.example.test; echo "rc=$?")
like "$out" 'rc=2' "DNS inside the sandbox resolves nothing"
line=$(logline 'dst_host=api\.example\.test dst_port=53 binary=/usr/bin/getent')
like "$line" 'engine=bypass' "the DNS query is logged as a bypass with the querying binary"

# --- live reload closes what it no longer admits --------------------------
check "policy set: back to the L4 policy" setpol "$TH_DIR/p1.yaml"
os sandbox exec -n "$sb" -- python3 -c '
import socket, ssl, time, os
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT other.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n")
assert s.recv(4096).startswith(b"HTTP/1.1 200")
t = ssl.create_default_context(cafile="/sandbox/ca.pem").wrap_socket(s, server_hostname="other.test")
def get():
    t.sendall(b"GET /zen HTTP/1.1\r\nHost: other.test\r\n\r\n")
    return t.recv(4096)
print("first", b"dilutes" in get(), flush=True)
open("/tmp/tunnel-open", "w").close()
for i in range(200):
    if os.path.exists("/tmp/go"): break
    time.sleep(0.05)
try:
    r = get()
    print("second", b"dilutes" in r, len(r))
except (OSError, ssl.SSLError) as e:
    print("second closed")
' >"$TH_DIR/tunnel.out" 2>&1 &
tpid=$!
th_wait 10 os sandbox exec -n "$sb" -- test -e /tmp/tunnel-open
cat >"$TH_DIR/p4.yaml" <<'EOF'
version: 1
network_policies: {}
EOF
check "policy set: nothing allowed" setpol "$TH_DIR/p4.yaml"
os sandbox exec -n "$sb" -- touch /tmp/go
wait "$tpid"
out=$(cat "$TH_DIR/tunnel.out")
like "$out" 'first True' "a tunnel admitted under the old policy worked"
like "$out" 'second (closed|False 0)' "the new policy closed the tunnel (no restart)"
line=$(logline 'action=close dst_host=other\.test')
like "$line" 'no longer allows other\.test:443' "the close is logged with the reason"
is "$(os sandbox list --json | jq -r ".sandboxes[] | select(.name == \"$sb\") | .phase")" \
	"SANDBOX_PHASE_READY" "the sandbox kept running through every reload"

# --- the gateway goes away: the last good policy stays enforced ----------
# Exec goes through the gateway, so a process started before waits in the
# sandbox for a file the test drops into its /sandbox from the host.
# Then 25002 denials, more than the 20000 lines the sandbox queues for
# the gateway: the oldest go, and a note says how many.
check "policy set: the L4 policy again" setpol "$TH_DIR/p1.yaml"
quiet os settings set log_ring_lines 40000 || bail "settings set log_ring_lines"
work=$OPENSHELL_STATE_DIR/sandboxes/$(th_sb_field "$sb" .id)/work
os sandbox exec "$sb" -- sh -c 'cat > /sandbox/client.py' <"$TH_LIB/client.py"
os sandbox exec -n "$sb" -- sh -c 'setsid sh -c "
	while [ ! -e /sandbox/go-down ]; do sleep 0.1; done
	curl -sS --max-time 20 --cacert /sandbox/ca.pem https://api.example.test/zen >/sandbox/down-allow 2>&1
	curl -sS --max-time 20 --cacert /sandbox/ca.pem https://api2.example.test/zen >/sandbox/down-deny 2>&1
	echo \$? >/sandbox/down-done
	python3 /sandbox/client.py connect first-flood.test:443 >/dev/null 2>&1
	python3 /sandbox/client.py flood flood.test:443 25000 >/sandbox/flood-out 2>&1
	python3 /sandbox/client.py connect last-flood.test:443 >/dev/null 2>&1
	echo \$? >/sandbox/flood-done" </dev/null >/dev/null 2>&1 &'
th_gateway_stop
touch "$work/go-down"
th_wait 30 test -s "$work/down-done"
is "$(cat "$work/down-allow")" "$ZEN" "gateway down: what the policy allows still works"
like "$(cat "$work/down-deny"; cat "$work/down-done")" '56$' \
	"gateway down: what it denies is still denied (never fails open)"
th_wait 120 test -s "$work/flood-done"
is "$(cat "$work/flood-out")" "denied 25000" "gateway down: 25000 more denials"
th_gateway_restart --hosts-file "$hf" || bail "gateway restart"
# The supervisor retries at most 10 s apart, then sends 20000 lines.
like "$(logline 'dst_host=last-flood\.test' 40)" 'action=deny' \
	"gateway back: the newest lines arrive"
all=$(os logs "$sb" -n 40000)
like "$(grep -F event=log_dropped <<<"$all")" \
	'^[^ ]+ warn +supervisor: event=log_dropped count=50[0-9][0-9] reason="the queue was full[^"]*"$' \
	"gateway back: one note says how many of the 25000+ lines the full queue dropped"
unlike "$all" 'first-flood\.test' \
	"gateway back: the oldest lines were the ones dropped"
check "the sandbox's own log file still has every line" \
	grep -q 'dst_host=first-flood\.test' "$work/../log/openshell.log"
check "gateway back: policy set --wait reaches the reconnected sandbox" setpol "$TH_DIR/p4.yaml"
out=$(scurl https://api.example.test/zen; echo "rc=$?")
like "$out" 'rc=56' "gateway back: the new policy is enforced"

done_testing

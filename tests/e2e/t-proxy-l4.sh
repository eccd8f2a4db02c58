#!/bin/bash
# The egress proxy's L4 decisions, end to end: default deny with the exact
# answer and log line a user sees, exact and wildcard hosts, ports,
# binaries (direct, through an ancestor, through a symlink), and the
# identity of a client that is not a descendant of the sandbox's init.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-l4

ip=$(th_host api) || bail "cannot make a test host"
th_standin api --https 443 --cert-name api.github.com,a.svc.test,b.c.svc.test,svc.test,anc.test,link.test,real.test \
	|| bail "stand-in"
th_hosts_file api.github.com="$ip" a.svc.test="$ip" b.c.svc.test="$ip" svc.test="$ip" \
	anc.test="$ip" link.test="$ip" real.test="$ip" >/dev/null
th_netns_client sbx >/dev/null || bail "client namespace"
py_real=$(readlink -f /usr/bin/python3)
ZEN="Anything added dilutes everything else."
CURL403='(Received HTTP code 403 from proxy after CONNECT|CONNECT tunnel failed, response 403)'

# ---------------------------------------------------------------------------
# No policy yet: everything is denied.
th_proxy_driver sbx "" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"
out=$(th_curl sbx https://api.github.com/zen 2>&1); rc=$?
is "$rc" 56 "before any policy: curl fails (exit 56)"
like "$out" "$CURL403" "before any policy: curl reports the proxy's 403"
resp=$(th_pyclient sbx connect api.github.com:443)
like "$resp" $'^HTTP/1.1 403 Forbidden\r\n' "before any policy: raw CONNECT gets 403"
body=${resp#*$'\r\n\r\n'}
like "$(th_json_get "$body" reason)" '^no policy loaded' "before any policy: reason says no policy is loaded"
th_proxy_stop

# ---------------------------------------------------------------------------
cat >"$TH_DIR/empty.yaml" <<'EOF'
version: 1
network_policies: {}
EOF
cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
network_policies:
  github_api:
    name: github-api-readonly
    endpoints:
      - { host: api.github.com, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
  svc:
    endpoints:
      - { host: "*.svc.test", port: 443, allowed_ips: [10.240.0.0/16] }
    binaries:
      - { path: /usr/bin/curl }
  through_parent:
    endpoints:
      - { host: anc.test, port: 443 }
    binaries:
      - { path: /usr/bin/timeout }
  py_link:
    endpoints:
      - { host: link.test, port: 443 }
    binaries:
      - { path: /usr/bin/python3 }
  py_real:
    endpoints:
      - { host: real.test, port: 443 }
    binaries:
      - { path: $py_real }
EOF

# Default deny: what the quickstart shows.
th_proxy_driver sbx "$TH_DIR/empty.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"
out=$(th_curl sbx https://api.github.com/zen 2>&1); rc=$?
is "$rc" 56 "default deny: curl exit 56"
like "$out" "$CURL403" "default deny: curl reports 403 from the proxy after CONNECT"
line=$(th_log_grep '^action=deny dst_host=api\.github\.com ' | head -n 1)
like "$line" '^action=deny dst_host=api\.github\.com dst_port=443 binary=/usr/bin/curl pid=[0-9]+ ancestors=/usr/bin/bash(,/usr/bin/bash)* deny_reason="no matching network policy" engine=l4$' \
	"default deny: log line with keys in order"
resp=$(th_pyclient sbx connect api.github.com:443)
like "$resp" $'^HTTP/1.1 403 Forbidden\r\n' "default deny: status line"
like "$resp" $'\r\nContent-Type: application/json\r\n' "default deny: JSON content type"
like "$resp" $'\r\nConnection: close\r\n' "default deny: Connection: close"
body=${resp#*$'\r\n\r\n'}
clen=$(grep -i '^Content-Length:' <<<"$resp" | tr -dc 0-9)
is "$clen" "$(printf %s "$body" | wc -c)" "default deny: Content-Length matches the body"
is "$body" "{\"error\":\"policy_denied\",\"detail\":\"CONNECT api.github.com:443 not permitted by policy\",\"reason\":\"no matching network policy\",\"host\":\"api.github.com\",\"port\":443,\"binary\":\"$py_real\"}" \
	"default deny: exact JSON body"
th_proxy_stop

th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"

# Exact host.
out=$(th_curl sbx https://api.github.com/zen 2>&1)
is "$out" "$ZEN" "exact host: curl gets the upstream's answer"
line=$(th_log_grep '^action=allow dst_host=api\.github\.com ' | head -n 1)
like "$line" '^action=allow dst_host=api\.github\.com dst_port=443 binary=/usr/bin/curl pid=[0-9]+ policy=github-api-readonly engine=l4$' \
	"exact host: allow line with keys in order"

# Wildcard host: one label. (Its test-host address is private: a wildcard
# reaches it only through allowed_ips, see t-proxy-ssrf.sh.)
is "$(th_curl sbx https://a.svc.test/zen 2>&1)" "$ZEN" "wildcard *.svc.test admits a.svc.test"
out=$(th_curl sbx https://svc.test/zen 2>&1)
like "$out" "$CURL403" "wildcard *.svc.test does not admit svc.test"
out=$(th_curl sbx https://b.c.svc.test/zen 2>&1)
like "$out" "$CURL403" "wildcard *.svc.test does not admit b.c.svc.test (one label)"

# Wrong port.
out=$(th_curl sbx https://api.github.com:8443/zen 2>&1)
like "$out" "$CURL403" "wrong port: denied"
like "$(th_log_grep '^action=deny dst_host=api\.github\.com dst_port=8443 ')" 'deny_reason="no matching network policy"' \
	"wrong port: logged as no matching policy"

# Wrong binary: the reason names the policy and what it allows.
resp=$(th_pyclient sbx connect api.github.com:443)
like "$resp" $'^HTTP/1.1 403 ' "wrong binary: python3 is denied where curl is allowed"
reason=$(th_json_get "${resp#*$'\r\n\r\n'}" reason)
like "$reason" "^binary '${py_real//./\\.}' not allowed in policy 'github-api-readonly'" \
	"wrong binary: reason names the binary and the policy"
like "$reason" '/usr/bin/curl' "wrong binary: reason names what the policy allows"
like "$(th_log_grep "^action=deny dst_host=api\\.github\\.com dst_port=443 binary=${py_real//./\\.} ")" \
	'deny_reason="binary ' "wrong binary: log line carries the binary reason"

# Allowed through an ancestor: timeout(1) runs python3.
resp=$(th_pyclient sbx connect anc.test:443)
like "$resp" $'^HTTP/1.1 403 ' "ancestor: python3 alone is denied"
resp=$(th_client_run sbx /usr/bin/timeout 20 /usr/bin/python3 "$TH_LIB/client.py" connect anc.test:443)
like "$resp" $'^HTTP/1.1 200 Connection Established\r\n' "ancestor: python3 launched by an allowed timeout(1) is admitted"
like "$(th_log_grep '^action=allow dst_host=anc\.test ')" "binary=${py_real//./\\.} .*policy=through_parent" \
	"ancestor: allow line names the policy"

# Symlinks: the kernel reports the target, and that is what policies name.
kexe=$(th_client_run sbx /usr/bin/python3 -c 'import os; print(os.readlink("/proc/self/exe"))')
is "$kexe" "$py_real" "symlink: /proc/<pid>/exe of /usr/bin/python3 is $py_real"
diag "/usr/bin/python3 -> $(readlink /usr/bin/python3); the kernel reports $kexe"
resp=$(th_pyclient sbx connect link.test:443)
like "$resp" $'^HTTP/1.1 403 ' "symlink: a policy naming the link /usr/bin/python3 does not match"
like "$(th_json_get "${resp#*$'\r\n\r\n'}" reason)" "binary '${py_real//./\\.}' not allowed in policy 'py_link' \\(allows /usr/bin/python3\\)" \
	"symlink: the reason shows the resolved path next to the link"
resp=$(th_pyclient sbx connect real.test:443)
like "$resp" $'^HTTP/1.1 200 ' "symlink: a policy naming the resolved path matches"

# A client that joined the namespace from outside (not a descendant of
# init) is still identified, through the fallback scan.
out=$(ip netns exec "$(th_ns sbx)" curl -sS --max-time 20 --cacert "$TH_DIR/ca/ca.pem" \
	-x http://127.0.0.1:3128 https://api.github.com/zen 2>&1)
is "$out" "$ZEN" "outside init's tree: curl identified and admitted"

# Malformed and oversize heads.
resp=$(th_pyclient sbx raw 'GARBAGE\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 Bad Request\r\n' "malformed request line: 400"
like "$resp" $'\r\nConnection: close\r\n' "malformed request line: Connection: close"
resp=$(th_pyclient sbx raw 'CONNECT api.github.com HTTP/1.1\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 ' "CONNECT without a port: 400"
resp=$(th_pyclient sbx raw 'CONNECT api.github.com:443 HTTP/1.1\nHost: x\n\n')
like "$resp" $'^HTTP/1.1 400 ' "bare LF: 400"
resp=$(th_client_run sbx /usr/bin/python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', 3128))
s.sendall(b'CONNECT api.github.com:443 HTTP/1.1\r\nX: ' + b'a' * 9000 + b'\r\n\r\n')
print(s.recv(4096).decode().split('\r\n')[0])")
is "$resp" "HTTP/1.1 431 Request Header Fields Too Large" "head over 8 KiB: 431"
resp=$(th_pyclient sbx connect '[::1]:443')
like "$resp" $'^HTTP/1.1 403 ' "CONNECT [::1]:443 parses and is decided"
like "$(th_log_grep '^action=deny dst_host=::1 dst_port=443 ')" 'engine=' "IPv6 target logged"

# Garbage of every shape, abrupt closes, a client that sends half a head:
# the proxy answers or closes, and keeps serving.
th_client_run sbx /usr/bin/python3 -c "
import os, random, socket
random.seed(7)
for i in range(200):
    s = socket.create_connection(('127.0.0.1', 3128))
    n = random.choice([1, 10, 100, 3000, 9000])
    data = bytes(random.getrandbits(8) for _ in range(n))
    if i % 3 == 0:
        data = b'CONNECT ' + data[:50] + b' HTTP/1.1\\r\\n\\r\\n'
    try:
        s.sendall(data)
        if i % 2:
            s.settimeout(2); s.recv(100)
    except OSError:
        pass
    s.close()
" >/dev/null 2>&1
is "$(th_curl sbx https://api.github.com/zen 2>&1)" "Anything added dilutes everything else." \
	"after 200 garbage connections the proxy still serves"

kill -USR1 "$(cat "$TH_DIR/proxy.pid")"
th_wait 5 grep -q '^stats ' "$TH_DIR/proxy.log"
like "$(grep '^stats ' "$TH_DIR/proxy.log" | tail -n 1)" 'accepted=[1-9][0-9]* allowed=[1-9][0-9]* denied=[1-9]' \
	"counters count accepted, allowed and denied connections"
th_proxy_stop; rc=$?
is "$rc" 0 "proxy driver stops cleanly"
th_proxy_check_clean
done_testing

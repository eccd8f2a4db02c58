#!/bin/bash
# Resolving and dialling. Every resolved address is tried in order: a dead
# one is skipped, and when none answers the client gets 502
# upstream_unreachable. Name resolution never blocks the proxy and never
# hangs a client: a name
# missing in hosts-only mode is answered 502 at once; a DNS server that
# does not answer is cut off by the proxy's own timeout (504), and the late
# resolver answer is dropped safely. The only DNS server here is a silent
# one on a test host: the driver runs in a private mount namespace whose
# /etc/resolv.conf points at it.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-dns

ip=$(th_host dns) || bail "cannot make a test host"
ip netns exec "$(th_ns dns)" "$TH_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
open("'"$TH_DIR"'/dns.ready", "w").close()
while True:
    s.recvfrom(4096)        # heard, never answered
' &
th_track_pid $!
th_wait 10 test -e "$TH_DIR/dns.ready" || bail "silent DNS server"
th_standin dns --http 8080 || bail "stand-in"
dead=$(th_host dead) || bail "cannot make a second test host"   # nothing listens there
th_netns_client sbx >/dev/null || bail "client namespace"
th_hosts_file closed.test="$dead" fallback.test="$dead" fallback.test="$ip" >/dev/null

cat >"$TH_DIR/policy.yaml" <<P
version: 1
network_policies:
  names:
    endpoints:
      - { host: slow.test, port: 443 }
      - { host: missing.test, port: 443 }
      - { host: closed.test, port: 8080 }
      - { host: fallback.test, port: 8080 }
    binaries:
      - { path: /usr/bin/curl }
      - { path: $(readlink -f /usr/bin/python3) }
P

# Hosts-only: a name that is not in the table fails at once.
th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"
out=$(th_curl sbx https://missing.test/ 2>&1)
like "$out" 'response 502|Received HTTP code 502' "hosts-only: unknown name answered 502"
line=$(th_log_grep '^action=error dst_host=missing\.test ')
like "$line" '^action=error dst_host=missing\.test dst_port=443 binary=/usr/bin/curl pid=[0-9]+ error=dns_failed detail=' \
	"hosts-only: logged as dns_failed"

# Dialling: a refused address, then the next one.
code=$(th_curl sbx -o /dev/null -w '%{http_code}' http://closed.test:8080/zen 2>/dev/null)
is "$code" 502 "nothing listening: 502"
resp=$(th_pyclient sbx connect closed.test:8080)
like "$resp" '"error":"upstream_unreachable"' "nothing listening: JSON error upstream_unreachable"
like "$resp" "\"detail\":\"CONNECT closed\\.test:8080: cannot connect \\(${dead//./\\.}: connection refused\\)\"" \
	"nothing listening: detail names the address and the error"
is "$(th_curl sbx http://fallback.test:8080/zen 2>&1)" "Anything added dilutes everything else." \
	"first address refused: the next validated address is dialled"
th_proxy_stop

# System DNS with a silent server: the proxy's timeout answers.
if [ ! -e /etc/resolv.conf ] || ! command -v unshare >/dev/null; then
	for d in "silent DNS: answered 504 by the proxy's timeout" "silent DNS: logged with the timeout" \
	    "silent DNS: JSON error dns_failed" "the proxy still answers after late resolver results"; do
		skip "$d" "no /etc/resolv.conf to bind over (or no unshare)"
	done
else
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$ip" >"$TH_DIR/resolv.conf"
	printf '#!/bin/bash\nmount --bind %q /etc/resolv.conf && exec "$@"\n' \
		"$TH_DIR/resolv.conf" >"$TH_DIR/wrap.sh"
	chmod +x "$TH_DIR/wrap.sh"
	TH_PROXY_WRAP=(unshare -m --propagation private "$TH_DIR/wrap.sh")
	th_proxy_driver sbx "$TH_DIR/policy.yaml" --dns system --dns-timeout-ms 500 || bail "proxy driver"
	unset TH_PROXY_WRAP
	out=$(th_curl sbx https://slow.test/ 2>&1)
	like "$out" 'response 504|Received HTTP code 504' "silent DNS: answered 504 by the proxy's timeout"
	like "$(th_log_grep '^action=error dst_host=slow\.test ')" 'error=dns_failed detail="DNS resolution timed out after 500 ms"' \
		"silent DNS: logged with the timeout"
	resp=$(th_pyclient sbx connect slow.test:443)
	like "$resp" '"error":"dns_failed"' "silent DNS: JSON error dns_failed"
	sleep 3    # the resolver's own late answers arrive and are dropped
	out=$(th_curl sbx https://slow.test/ 2>&1)
	like "$out" 'response 504|Received HTTP code 504' "the proxy still answers after late resolver results"
	th_proxy_stop
fi
th_proxy_check_clean
done_testing

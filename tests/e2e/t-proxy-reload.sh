#!/bin/bash
# Live policy reload: a new revision applies to new connections at once;
# an open tunnel it no longer admits is closed and logged; one it still
# admits keeps working.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-reload

ip=$(th_host up) || bail "cannot make a test host"
th_standin up --http 80 || bail "stand-in"
th_hosts_file keep.test="$ip" drop.test="$ip" >/dev/null
th_netns_client sbx >/dev/null || bail "client namespace"
py_real=$(readlink -f /usr/bin/python3)

write_policy() {  # write_policy HOST...
	{
		echo "version: 1"
		echo "network_policies:"
		local h
		for h in "$@"; do
			echo "  ${h%%.*}:"
			echo "    name: ${h%%.*}-policy"
			echo "    endpoints:"
			echo "      - { host: $h, port: 80 }"
			echo "    binaries:"
			echo "      - { path: $py_real }"
			echo "      - { path: /usr/bin/curl }"
		done
	} >"$TH_DIR/policy.yaml"
}

write_policy keep.test drop.test
th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"

mkdir -p "$TH_DIR/p1" "$TH_DIR/p2"
j1=$(th_client_spawn sbx /usr/bin/python3 "$TH_LIB/client.py" probe drop.test:80 "$TH_DIR/p1")
j2=$(th_client_spawn sbx /usr/bin/python3 "$TH_LIB/client.py" probe keep.test:80 "$TH_DIR/p2")
th_wait 20 test -e "$TH_DIR/p1/ready" -a -e "$TH_DIR/p2/ready" || diag "probes not ready"

write_policy keep.test
th_proxy_reload
check "SIGHUP: the driver reloaded the policy" test $? -eq 0
touch "$TH_DIR/p1/go" "$TH_DIR/p2/go"
out1=$(th_client_wait "$j1")
out2=$(th_client_wait "$j2")
like "$out1" $'first: HTTP/1.1 200 OK Anything added' "tunnel to drop.test worked before the reload"
like "$out1" $'second: closed' "tunnel to drop.test is closed by the reload"
like "$out2" $'second: HTTP/1.1 200 OK Anything added' "tunnel to keep.test keeps working after the reload"
line=$(th_log_grep '^action=close ')
like "$line" '^action=close dst_host=drop\.test dst_port=80 binary=[^ ]+ pid=[0-9]+ policy=drop-policy reason="policy revision 2 no longer allows drop\.test:80: no matching network policy" engine=l4$' \
	"the closing is logged with the revision and the reason"
is "$(th_log_grep '^action=close ' | wc -l)" 1 "only the denied tunnel was closed"

# New connections follow the new revision.
out=$(th_curl sbx http://drop.test/zen -o /dev/null -w '%{http_code}')
is "$out" 403 "after the reload: drop.test is denied"
out=$(th_curl sbx http://keep.test/zen)
is "$out" "Anything added dilutes everything else." "after the reload: keep.test is allowed"

# A broken policy file keeps the last good revision.
echo "network_policies: [" >"$TH_DIR/policy.yaml"
kill -HUP "$(cat "$TH_DIR/proxy.pid")"
th_wait 10 grep -q '^reload failed' "$TH_DIR/proxy.log"
check "a broken policy is refused" test $? -eq 0
is "$(th_curl sbx http://keep.test/zen)" "Anything added dilutes everything else." "the last good revision stays in force"

kill -USR1 "$(cat "$TH_DIR/proxy.pid")"
th_wait 5 grep -q '^stats ' "$TH_DIR/proxy.log"
like "$(grep '^stats ' "$TH_DIR/proxy.log" | tail -n 1)" ' closed_by_reload=1$' "closed_by_reload counts the closed tunnel"
th_proxy_stop
th_proxy_check_clean
done_testing

#!/bin/bash
# SSRF checks on the addresses the proxy actually dials: loopback and
# link-local are refused even when a policy lists them; a private test-host
# address is reached only through allowed_ips, an IP-literal host, an exact
# host the operator declared, or a trusted CIDR, and never through a
# wildcard or an advisor-proposed endpoint; permissive mode learns but still
# never dials the always-blocked classes.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-ssrf

ip=$(th_host priv) || bail "cannot make a test host"
th_standin priv --https 443 --cert-name "priv.test,a.wild.test,a.ips.test,adv.test,$ip" || bail "stand-in"
th_hosts_file priv.test="$ip" a.wild.test="$ip" a.ips.test="$ip" adv.test="$ip" \
	loop.test=127.0.0.1 meta.test=169.254.169.254 ll.test=169.254.1.1 >/dev/null
th_netns_client sbx >/dev/null || bail "client namespace"
py_real=$(readlink -f /usr/bin/python3)
ZEN="Anything added dilutes everything else."
CURL403='(Received HTTP code 403 from proxy after CONNECT|CONNECT tunnel failed, response 403)'

cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
network_policies:
  internal:
    endpoints:
      - { host: 127.0.0.1, port: 9 }
      - { host: loop.test, port: 9 }
      - { host: 169.254.169.254, port: 80 }
      - { host: meta.test, port: 80 }
      - { host: ll.test, port: 80 }
      - { host: priv.test, port: 443 }
      - { host: "*.wild.test", port: 443 }
      - { host: "*.ips.test", port: 443, allowed_ips: [$ip/32] }
      - { host: "$ip", port: 443 }
    binaries:
      - { path: /usr/bin/curl }
      - { path: $py_real }
EOF

th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"

# Always blocked, whatever the policy lists.
out=$(th_curl sbx https://loop.test:9/ 2>&1)
like "$out" "$CURL403" "loopback by name: refused"
line=$(th_log_grep '^action=deny dst_host=loop\.test ' | head -n 1)
like "$line" '^action=deny dst_host=loop\.test dst_port=9 binary=/usr/bin/curl pid=[0-9]+ ancestors=[^ ]+ deny_reason="[^"]*127\.0\.0\.1[^"]*" engine=ssrf$' \
	"loopback: logged with engine=ssrf and the address"
resp=$(th_pyclient sbx connect 127.0.0.1:9)
like "$resp" $'^HTTP/1.1 403 ' "loopback literal: refused"
body=${resp#*$'\r\n\r\n'}
is "$(th_json_get "$body" error)" ssrf_denied "loopback literal: error ssrf_denied"
like "$(th_json_get "$body" detail)" '^CONNECT 127\.0\.0\.1:9 blocked: ' "loopback literal: detail says what was blocked"
resp=$(th_pyclient sbx connect 169.254.169.254:80)
is "$(th_json_get "${resp#*$'\r\n\r\n'}" error)" ssrf_denied "metadata address: refused"
resp=$(th_pyclient sbx connect meta.test:80)
is "$(th_json_get "${resp#*$'\r\n\r\n'}" error)" ssrf_denied "name resolving to the metadata address: refused"
resp=$(th_pyclient sbx connect ll.test:80)
is "$(th_json_get "${resp#*$'\r\n\r\n'}" error)" ssrf_denied "name resolving to a link-local address: refused"
grep -q '^denial_stage=ssrf ' "$TH_DIR/proxy.log"
check "SSRF denials are reported with stage ssrf" test $? -eq 0

# Private addresses.
is "$(th_curl sbx https://priv.test/zen 2>&1)" "$ZEN" "private: exact host declared by the operator is admitted"
is "$(th_curl sbx "https://$ip/zen" 2>&1)" "$ZEN" "private: an IP-literal host is admitted"
is "$(th_curl sbx https://a.ips.test/zen 2>&1)" "$ZEN" "private: wildcard host with allowed_ips is admitted"
out=$(th_curl sbx https://a.wild.test/zen 2>&1)
like "$out" "$CURL403" "private: wildcard host without allowed_ips is refused"
like "$(th_log_grep '^action=deny dst_host=a\.wild\.test ')" "engine=ssrf" "private: the wildcard refusal is an SSRF denial"
th_proxy_stop

# A trusted CIDR admits the private address for any allowed host.
th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" --trusted-cidr "$ip/32" \
	|| bail "proxy driver"
is "$(th_curl sbx https://a.wild.test/zen 2>&1)" "$ZEN" "trusted CIDR: wildcard host to a private address admitted"
out=$(th_curl sbx https://loop.test:9/ 2>&1)
like "$out" "$CURL403" "trusted CIDR: loopback still refused"
th_proxy_stop

# An advisor-proposed exact host gets no private-address exemption.
cat >"$TH_DIR/advisor.yaml" <<EOF
version: 1
network_policies:
  proposed:
    endpoints:
      - { host: adv.test, port: 443, advisor_proposed: true }
    binaries:
      - { path: /usr/bin/curl }
EOF
if th_proxy_driver sbx "$TH_DIR/advisor.yaml" --hosts-file "$TH_DIR/hosts" 2>/dev/null; then
	out=$(th_curl sbx https://adv.test/zen 2>&1)
	like "$out" "$CURL403" "advisor-proposed exact host to a private address: refused"
	like "$(th_log_grep '^action=deny dst_host=adv\.test ')" "engine=ssrf" "advisor-proposed: refused by the SSRF check"
	th_proxy_stop
else
	skip "advisor-proposed exact host to a private address: refused" "the policy loader does not take advisor_proposed in YAML"
	skip "advisor-proposed: refused by the SSRF check" "as above"
fi

# Permissive: denials are logged and allowed, except the always-blocked.
cat >"$TH_DIR/empty.yaml" <<'EOF'
version: 1
network_policies: {}
EOF
th_proxy_driver sbx "$TH_DIR/empty.yaml" --hosts-file "$TH_DIR/hosts" --permissive || bail "proxy driver"
is "$(th_curl sbx https://priv.test/zen 2>&1)" "$ZEN" "permissive: a denied host is let through"
like "$(th_log_grep '^action=allow_permissive dst_host=priv\.test ' | head -n 1)" \
	'^action=allow_permissive dst_host=priv\.test dst_port=443 binary=/usr/bin/curl pid=[0-9]+ .*deny_reason="no matching network policy" engine=l4' \
	"permissive: logged as allow_permissive with the reason"
grep -q '^denial_stage=l4_deny host=priv\.test .*permissive=true' "$TH_DIR/proxy.log"
check "permissive: the denial event says permissive=true" test $? -eq 0
out=$(th_curl sbx https://loop.test:9/ 2>&1)
like "$out" "$CURL403" "permissive: loopback still refused"
resp=$(th_pyclient sbx connect 169.254.169.254:80)
is "$(th_json_get "${resp#*$'\r\n\r\n'}" error)" ssrf_denied "permissive: metadata still refused"
th_proxy_stop
th_proxy_check_clean
done_testing

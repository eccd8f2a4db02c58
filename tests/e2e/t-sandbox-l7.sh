#!/bin/bash
# L7 enforcement in real sandboxes, through the gateway and the CLI, on a
# stand-in api.github.com (a test host with a certificate of the test CA,
# recording every request it gets):
#
#   - the quickstart of seed 001 as written: default deny, the deny line,
#     `policy set --wait`, GET allowed, POST answered 403 with the policy
#     header and JSON, the L7 deny line at warn, and the POST never sent;
#   - audit mode forwards what it would deny and says so at warn;
#   - explicit method/path rules, HEAD by a GET rule, query matchers, and
#     deny rules over allows (within an endpoint and across policies);
#   - bodies relayed byte for byte through the terminating relay;
#   - the sandbox's CA files, the trust variables, the shadowed system
#     bundle (tools that ignore the variables), python3's urllib, node,
#     wget, java;
#   - keep-alive: several requests on one TLS connection, each decided and
#     logged, and a denied one ends the connection; a policy set while a
#     tunnel is open decides its next request.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/gateway.sh"
. "$(dirname "$0")/lib/l7.sh"
th_init sbl7

REC=$TH_DIR/rec-gh
ip=$(th_host gh) || bail "test host"
th_standin gh --https 443 --cert-name api.github.com --record-dir "$REC" || bail "stand-in"
hf=$(th_hosts_file api.github.com="$ip")
th_gateway_start --hosts-file "$hf" --upstream-ca "$TH_DIR/ca/ca.pem" || bail "gateway start"
GH=https://api.github.com
QS_POLICY=$OS_SRCDIR/examples/sandbox-policy-quickstart/policy.yaml

# code SB ARGS...: curl's HTTP status for ARGS in SB; the body is kept in
# the sandbox's /tmp/body, the heads in /tmp/heads.
code() { local sb=$1; shift; sx "$sb" curl -sS --max-time 20 -o /tmp/body -D /tmp/heads -w '%{http_code}' "$@"; }
body() { sx "$1" cat /tmp/body; }

# ---------------------------------------------------------------------------
# 1. The quickstart (seed 001), step by step.
qs=$(th_sbname demo)
os sandbox create --name "$qs" --keep --detach --no-auto-providers >/dev/null 2>&1 ||
	bail "sandbox create $qs"

out=$(os sandbox exec -n "$qs" -- curl -sS https://api.github.com/zen 2>&1)
rc=$?
is "$rc" 56 "quickstart step 2: curl to api.github.com before any policy exits 56"
# curl's own wording changed in 7.87 ("CONNECT tunnel failed, response 403").
like "$out" '^curl: \(56\) (Received HTTP code 403 from proxy after CONNECT|CONNECT tunnel failed, response 403)$' \
	"quickstart step 2: curl says the proxy answered the CONNECT with 403"

line=$(logs_wait "$qs" 'action=deny dst_host=api\.github\.com' --since 5m)
like "$line" 'action=deny dst_host=api\.github\.com dst_port=443 binary=/usr/bin/curl( [a-z_]+=[^ ]+)* deny_reason="no matching network policy"' \
	"quickstart step 3: 'logs --since 5m' has the deny line (host, port, binary, reason)"

out=$(os policy set "$qs" --policy "$QS_POLICY" --wait 2>&1)
rc=$?
is "$rc" 0 "quickstart step 4: policy set --wait exits 0"
like "$out" 'loaded' "quickstart step 4: policy set --wait reports the version loaded"

m=$(rec_mark "$REC")
is "$(sx "$qs" curl -s "$GH/zen")" "$ZEN" "quickstart step 5: GET /zen works after the hot reload, answered by the upstream"
is "$(sx "$qs" curl -s "$GH/octocat")" "ok GET /octocat api.github.com" "quickstart step 5: GET /octocat works"
is "$(rec_since "$REC" "$m")" "GET /zen${NL}GET /octocat" "quickstart step 5: both GETs reached the upstream"

m=$(rec_mark "$REC")
c=$(code "$qs" -X POST "$GH/repos/octocat/hello-world/issues" \
	-H "Content-Type: application/json" -d '{"title":"oops"}')
is "$c" 403 "quickstart step 6: POST /repos/octocat/hello-world/issues gets 403"
b=$(body "$qs")
is "$(th_json_get "$b" error)" policy_denied "quickstart step 6: error is policy_denied"
is "$(th_json_get "$b" policy)" github-api-readonly "quickstart step 6: policy is github-api-readonly"
is "$(th_json_get "$b" rule)" "POST /repos/octocat/hello-world/issues" "quickstart step 6: rule names the request no rule allows"
is "$(th_json_get "$b" detail)" "POST /repos/octocat/hello-world/issues not permitted by policy" \
	"quickstart step 6: detail as in the seed"
like "$(sx "$qs" cat /tmp/heads)" $'\r\nX-OpenShell-Policy: github-api-readonly\r\n' \
	"quickstart step 6: header X-OpenShell-Policy: github-api-readonly"
like "$(sx "$qs" cat /tmp/heads)" $'\r\nContent-Type: application/json\r\n' "quickstart step 6: the body is JSON"
is "$(rec_since "$REC" "$m")" "" "quickstart step 6: the POST never reached the upstream"

want='l7_decision=deny dst_host=api.github.com l7_action=POST l7_target=/repos/octocat/hello-world/issues l7_deny_reason="POST /repos/octocat/hello-world/issues not permitted by policy"'
logs_wait "$qs" 'l7_decision=deny' --level warn --since 5m >/dev/null
warn=$(os logs "$qs" --level warn --since 5m 2>&1)
line=$(grep 'l7_decision=deny' <<<"$warn")
like "$line" ' warn +l7: l7_decision=deny dst_host=api\.github\.com( [a-z_]+=[^ ]+)* l7_action=POST l7_target=/repos/octocat/hello-world/issues l7_deny_reason="POST /repos/octocat/hello-world/issues not permitted by policy"' \
	"quickstart step 7: 'logs --level warn' has the L7 deny line (decision, host, method, path, reason)"
if [[ $line == *"$want"* ]]; then
	ok "quickstart step 7: the L7 deny line reads exactly as in the seed"
else
	not_ok "quickstart step 7: the L7 deny line reads exactly as in the seed"
	diag "want substring: $want"
	diag "got: $line"
fi
unlike "$warn" 'l7_decision=allow' "quickstart step 7: allowed requests are not at warn"
sb_logs "$qs" >"$TH_DIR/logs-$qs"      # for the final check
out=$(os sandbox delete "$qs" 2>&1)
is "$?" 0 "quickstart step 8: sandbox delete"

# ---------------------------------------------------------------------------
# 2. Audit mode: forwarded, logged as would-deny at warn. An enforcing
# policy on the same endpoint is not weakened by an auditing one.
au=$(th_sbname audit)
l7_policy "$TH_DIR/audit.yaml" \
	'  gh_audit:' \
	'    name: github-audit' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, enforcement: audit, access: read-only }' \
	'    binaries: [{ path: /usr/bin/curl }]'
th_sb_create "$au" --policy "$TH_DIR/audit.yaml" || bail "sandbox $au"
m=$(rec_mark "$REC")
c=$(code "$au" -X POST "$GH/repos/octocat/hello-world/issues" -d x)
is "$c" 200 "audit: a POST the preset does not allow is forwarded"
is "$(body "$au")" "ok POST /repos/octocat/hello-world/issues api.github.com" "audit: the upstream's answer is relayed"
is "$(rec_since "$REC" "$m")" "POST /repos/octocat/hello-world/issues" "audit: the POST reached the upstream"
line=$(logs_wait "$au" 'l7_decision=audit')
like "$line" ' warn +l7: l7_decision=audit dst_host=api\.github\.com l7_action=POST l7_target=/repos/octocat/hello-world/issues l7_deny_reason="POST /repos/octocat/hello-world/issues not permitted by policy" dst_port=443 .*policy=github-audit' \
	"audit: logged at warn as l7_decision=audit with the reason it would be denied"
like "$(os logs "$au" --level warn 2>&1)" 'l7_decision=audit' "audit: the line is in 'logs --level warn'"
c=$(code "$au" "$GH/zen")
is "$c" 200 "audit: an allowed GET is forwarded too"
like "$(logs_wait "$au" 'l7_action=GET l7_target=/zen')" ' info +l7: l7_decision=allow ' "audit: the allowed GET is logged as allow at info"

l7_policy "$TH_DIR/audit2.yaml" \
	'  a_audit:' \
	'    name: github-audit' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, enforcement: audit, access: read-only }' \
	'    binaries: [{ path: /usr/bin/curl }]' \
	'  b_enforce:' \
	'    name: github-enforce' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, enforcement: enforce, access: read-only }' \
	'    binaries: [{ path: /usr/bin/curl }]'
os policy set "$au" --policy "$TH_DIR/audit2.yaml" --wait >/dev/null 2>&1 || bail "policy set audit2"
m=$(rec_mark "$REC")
c=$(code "$au" -X POST "$GH/repos/octocat/hello-world/issues" -d x)
is "$c" 403 "audit + enforce on one endpoint: the enforcing policy denies"
is "$(th_json_get "$(body "$au")" policy)" github-enforce "audit + enforce: the denial names the enforcing policy"
is "$(rec_since "$REC" "$m")" "" "audit + enforce: the POST did not reach the upstream"

# ---------------------------------------------------------------------------
# 3. Explicit rules, query matchers, deny rules.
ru=$(th_sbname rules)
l7_policy "$TH_DIR/rules.yaml" \
	'  api:' \
	'    name: api-rules' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        enforcement: enforce' \
	'        rules:' \
	'          - allow: { method: GET, path: "/v1/**" }' \
	'          - allow:' \
	'              method: GET' \
	'              path: /search' \
	'              query:' \
	'                per_page: "[0-9]*"' \
	'                state: { any: [open, closed] }' \
	'        deny_rules:' \
	'          - { method: GET, path: "/v1/secret/**" }' \
	'          - method: GET' \
	'            path: /search' \
	'            query: { q: "secret*" }' \
	'    binaries: [{ path: /usr/bin/curl }]'
th_sb_create "$ru" --policy "$TH_DIR/rules.yaml" || bail "sandbox $ru"

m=$(rec_mark "$REC")
is "$(code "$ru" "$GH/v1/models")" 200 "rules: GET /v1/models allowed by GET /v1/**"
is "$(body "$ru")" "ok GET /v1/models api.github.com" "rules: answered by the upstream"
like "$(logs_wait "$ru" 'l7_target=/v1/models')" 'l7_decision=allow .*l7_action=GET l7_target=/v1/models .*policy=api-rules rule="GET /v1/\*\*"' \
	"rules: the allow line names the rule that matched"
is "$(code "$ru" -X POST "$GH/v1/messages" -d '{}')" 403 "rules: POST /v1/messages denied"
is "$(th_json_get "$(body "$ru")" detail)" "POST /v1/messages not permitted by policy" "rules: POST /v1/messages detail"
is "$(code "$ru" "$GH/v2/x")" 403 "rules: GET /v2/x denied"
is "$(code "$ru" -I "$GH/v1/models")" 200 "rules: HEAD /v1/models allowed by the GET rule"
like "$(logs_wait "$ru" 'l7_action=HEAD')" 'l7_decision=allow .*l7_action=HEAD l7_target=/v1/models ' "rules: HEAD logged as allowed"
is "$(code "$ru" -X DELETE "$GH/v1/models")" 403 "rules: DELETE /v1/models denied"
is "$(code "$ru" "$GH/v1/secret/key")" 403 "rules: deny rule GET /v1/secret/** beats the allow rule GET /v1/**"
b=$(body "$ru")
is "$(th_json_get "$b" detail)" "GET /v1/secret/key blocked by deny rule" "rules: deny-rule detail"
is "$(th_json_get "$b" rule)" "GET /v1/secret/**" "rules: the JSON names the deny rule"
like "$(logs_wait "$ru" 'l7_target=/v1/secret/key')" 'l7_decision=deny .*l7_deny_reason="GET /v1/secret/key blocked by deny rule" .*deny_rule="GET /v1/secret/\*\*"' \
	"rules: the deny line names the deny rule"
is "$(rec_since "$REC" "$m")" "GET /v1/models${NL}HEAD /v1/models" "rules: only the allowed requests reached the upstream"

# Query matchers: every listed key present and every one of its values
# matching; unlisted keys ignored; values compared percent-decoded.
q() { code "$ru" -g "$GH/search?$1"; }
m=$(rec_mark "$REC")
is "$(q 'per_page=10&state=open')" 200 "query: per_page=10&state=open allowed"
is "$(q 'per_page=10&state=closed&per_page=20')" 200 "query: a repeated key whose values all match is allowed"
is "$(q 'per_page=10&per_page=ten&state=open')" 403 "query: a repeated key with one value that does not match is denied"
is "$(q 'state=open')" 403 "query: a missing required key (per_page) is denied"
is "$(q 'per_page=10&state=merged')" 403 "query: a value outside {any: [open, closed]} is denied"
is "$(q 'per_page=10&state=op%65n')" 200 "query: values are matched percent-decoded (op%65n is open)"
is "$(q 'per_page=10&state=open&extra=1')" 200 "query: keys the rule does not list are ignored"
is "$(q 'per_page=10&state=open&q=secret-plans')" 403 "query: a deny rule on q=secret* fires"
is "$(q 'per_page=10&state=open&q=public&q=%73ecret')" 403 "query: the deny rule fires when any one value matches (percent-encoded too)"
is "$(th_json_get "$(body "$ru")" detail)" "GET /search blocked by deny rule" "query: the deny detail leaves the query out"
is "$(q 'per_page=10&state=open&q=public')" 200 "query: q=public is not caught by the deny rule"
is "$(rec_since "$REC" "$m")" "GET /search?per_page=10&state=open
GET /search?per_page=10&state=closed&per_page=20
GET /search?per_page=10&state=op%65n
GET /search?per_page=10&state=open&extra=1
GET /search?per_page=10&state=open&q=public" "query: exactly the allowed requests reached the upstream, their queries as sent"
n=$(sb_logs "$ru" | grep -c 'per_page=10\|per_page=ten\|secret-plans\|op%65n\|%73ecret')
is "$n" 0 "query: no log line holds a request's query string"

# Deny rules of one policy beat what another policy allows.
dr=$(th_sbname deny)
l7_policy "$TH_DIR/deny.yaml" \
	'  wide:' \
	'    name: wide-open' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, access: full }' \
	'    binaries: [{ path: /usr/bin/curl }]' \
	'  guard:' \
	'    name: guard' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        access: read-only' \
	'        deny_rules:' \
	'          - { method: DELETE, path: "**" }' \
	'          - { method: "*", path: "/admin/**" }' \
	'    binaries: [{ path: /usr/bin/curl }]'
th_sb_create "$dr" --policy "$TH_DIR/deny.yaml" || bail "sandbox $dr"
m=$(rec_mark "$REC")
is "$(code "$dr" -X PUT "$GH/repos/x" -d y)" 200 "deny rules: PUT allowed by access: full of another policy"
is "$(code "$dr" -X DELETE "$GH/repos/x")" 403 "deny rules: DELETE denied by the other policy's deny rule"
b=$(body "$dr")
is "$(th_json_get "$b" policy)" guard "deny rules: the denial names the policy whose deny rule fired"
is "$(th_json_get "$b" detail)" "DELETE /repos/x blocked by deny rule" "deny rules: detail"
is "$(code "$dr" -X delete "$GH/repos/x")" 403 "deny rules: a lower-case method is denied all the same"
is "$(code "$dr" "$GH/admin/users")" 403 "deny rules: * /admin/** denies GET"
is "$(code "$dr" -X POST "$GH/admin/users" -d y)" 403 "deny rules: * /admin/** denies POST"
is "$(code "$dr" "$GH/zen")" 200 "deny rules: GET /zen allowed"
is "$(rec_since "$REC" "$m")" "PUT /repos/x${NL}GET /zen" "deny rules: only the allowed requests reached the upstream"

# Bodies go through the terminating relay byte for byte, by their framing.
want=$(sx "$dr" sh -c 'head -c 3000000 /dev/urandom > /tmp/big && sha256sum /tmp/big' | cut -d' ' -f1)
is "$(sx "$dr" curl -sS --data-binary @/tmp/big "$GH/sha256")" "$want 3000000" "bodies: a 3 MB Content-Length body arrives intact"
is "$(sx "$dr" curl -sS -H 'Transfer-Encoding: chunked' --data-binary @/tmp/big "$GH/sha256")" "$want 3000000" \
	"bodies: a 3 MB chunked body arrives intact"

# More policies admit the host than a decision keeps (16): the last ones'
# rules are heard all the same.
many=()
for i in $(seq -w 0 17); do
	many+=("  p$i:" '    endpoints:'
		'      - { host: api.github.com, port: 443, protocol: rest, access: read-only }'
		'    binaries: [{ path: /usr/bin/curl }]')
done
l7_policy "$TH_DIR/many.yaml" "${many[@]}" \
	'  p18:' \
	'    name: late-allow' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        rules: [{ allow: { method: POST, path: /only-here } }]' \
	'    binaries: [{ path: /usr/bin/curl }]' \
	'  p19:' \
	'    name: late-guard' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        access: read-only' \
	'        deny_rules: [{ method: GET, path: "/zen/secret" }]' \
	'    binaries: [{ path: /usr/bin/curl }]'
setmany() { os policy set "$dr" --policy "$TH_DIR/many.yaml" --wait >/dev/null 2>&1; }
check "20 policies for one host: policy set --wait loads" setmany
m=$(rec_mark "$REC")
is "$(code "$dr" -X POST "$GH/only-here" -d y)" 200 "20 policies: the 19th's allow rule admits POST /only-here"
is "$(code "$dr" "$GH/zen/secret")" 403 "20 policies: the 20th's deny rule denies GET /zen/secret"
is "$(th_json_get "$(body "$dr")" policy)" late-guard "20 policies: the denial names the 20th policy"
is "$(rec_since "$REC" "$m")" "POST /only-here" "20 policies: only the allowed request reached the upstream"

# Lines queued while the gateway is away arrive when it is back, long ones
# too: 2000 allowed GETs of 10000-byte paths on one connection, 20 MB of
# lines in all, more than the gateway takes in one message. (Exec goes
# through the gateway: the sandbox's process waits for a file from the
# host.)
long=$(head -c 10000 /dev/zero | tr '\0' a)
work=$OPENSHELL_STATE_DIR/sandboxes/$(th_sb_field "$dr" .id)/work
for i in $(seq 1 2000); do echo "url = \"$GH/$long-$i\""; done >"$work/long.cfg"
os sandbox exec -n "$dr" -- sh -c 'setsid sh -c "
	while [ ! -e /sandbox/go-down ]; do sleep 0.1; done
	curl -s -o /dev/null -K /sandbox/long.cfg
	echo \$? >/sandbox/long-done" </dev/null >/dev/null 2>&1 &'
th_gateway_stop
touch "$work/go-down"
th_wait 180 test -s "$work/long-done"
th_gateway_restart --hosts-file "$hf" --upstream-ca "$TH_DIR/ca/ca.pem" || bail "gateway restart"
# (grep -F: a regular expression with a 10000-byte literal takes minutes.)
nlong() { os logs "$dr" -n 20000 2>/dev/null | grep -cF "l7_target=/$long-"; }
th_wait 60 sh -c "[ \"\$('$OS_CLI' logs '$dr' -n 20000 2>/dev/null | grep -cF 'l7_target=/$long-')\" -ge 2000 ]"
is "$(cat "$work/long-done") $(nlong)" "0 2000" \
	"gateway back: all 2000 long lines queued while it was away reach 'openshell logs'"

# ---------------------------------------------------------------------------
# 4. Trust inside the sandbox.
tr=$(th_sbname trust)
l7_policy "$TH_DIR/trust.yaml" \
	'  gh:' \
	'    name: github-readonly' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, access: read-only }' \
	'    binaries:' \
	'      - { path: /usr/bin/curl }' \
	'      - { path: /usr/bin/wget }' \
	'      - { path: /usr/bin/node }' \
	"      - { path: $(readlink -f /usr/bin/java 2>/dev/null || echo /usr/bin/java) }" \
	"      - { path: $L7_PY }"
th_sb_create "$tr" --policy "$TH_DIR/trust.yaml" || bail "sandbox $tr"
sb_put "$tr" "$TH_DIR/ca/ca.pem" /sandbox/test-ca.pem
sb_put "$tr" "$TH_LIB/tunnel.py" /sandbox/tunnel.py

out=$(sx "$tr" sh -c 'for f in openshell-ca.pem ca-bundle.pem; do test -s /etc/openshell-tls/$f && echo $f; done')
is "$out" "openshell-ca.pem${NL}ca-bundle.pem" "trust: /etc/openshell-tls/openshell-ca.pem and ca-bundle.pem exist"
out=$(sx "$tr" openssl x509 -in /etc/openshell-tls/openshell-ca.pem -noout -ext basicConstraints)
like "$out" 'CA:TRUE' "trust: openshell-ca.pem is a CA certificate"
out=$(sx "$tr" sh -c 'echo "SSL_CERT_FILE=$SSL_CERT_FILE"; echo "REQUESTS_CA_BUNDLE=$REQUESTS_CA_BUNDLE"
	echo "CURL_CA_BUNDLE=$CURL_CA_BUNDLE"; echo "GIT_SSL_CAINFO=$GIT_SSL_CAINFO"
	echo "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS"')
is "$out" "SSL_CERT_FILE=/etc/openshell-tls/ca-bundle.pem
REQUESTS_CA_BUNDLE=/etc/openshell-tls/ca-bundle.pem
CURL_CA_BUNDLE=/etc/openshell-tls/ca-bundle.pem
GIT_SSL_CAINFO=/etc/openshell-tls/ca-bundle.pem
NODE_EXTRA_CA_CERTS=/etc/openshell-tls/openshell-ca.pem" "trust: the CA variables point at the bundle (NODE_EXTRA_CA_CERTS at the CA alone)"
HAS_CA='import sys
ca = open("/etc/openshell-tls/openshell-ca.pem").read().strip()
for f in sys.argv[1:]:
    print(f, ca in open(f).read())'
out=$(sx "$tr" python3 -c "$HAS_CA" /etc/openshell-tls/ca-bundle.pem /etc/ssl/certs/ca-certificates.crt)
is "$out" "/etc/openshell-tls/ca-bundle.pem True${NL}/etc/ssl/certs/ca-certificates.crt True" \
	"trust: the bundle and the system bundle inside the sandbox hold the sandbox CA"
ca_tr=$(sx "$tr" cat /etc/openshell-tls/openshell-ca.pem)
out=$("$TH_PY" -c 'import sys; print(sys.stdin.read().strip() in open(sys.argv[1]).read())' \
	/etc/ssl/certs/ca-certificates.crt <<<"$ca_tr")
is "$out" False "trust: the host's own system bundle is untouched"
ca_ru=$(sx "$ru" cat /etc/openshell-tls/openshell-ca.pem)
if [ -n "$ca_tr" ] && [ "$ca_tr" != "$ca_ru" ]; then
	ok "trust: each sandbox has a CA of its own"
else
	not_ok "trust: each sandbox has a CA of its own"
fi
is "$(sx "$tr" sh -c 'grep -rl "PRIVATE KEY" /etc/openshell-tls /etc/ssl/certs/ca-certificates.crt; echo done')" "done" \
	"trust: no private key next to the CA"
is "$(sx "$tr" grep -c 'BEGIN CERTIFICATE' /etc/openshell-tls/ca-bundle.pem)" \
	"$(($(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt) + 1))" \
	"trust: ca-bundle.pem is the system's roots plus the sandbox CA"
like "$(sx "$tr" sh -c 'echo x >> /etc/openshell-tls/ca-bundle.pem; echo x >> /etc/ssl/certs/ca-certificates.crt')" \
	'ca-bundle.pem: Read-only file system.*ca-certificates.crt: Read-only file system' \
	"trust: the agent cannot change the trust files"

is "$(sx "$tr" curl -sS "$GH/zen")" "$ZEN" "trust: curl verifies the terminated TLS through CURL_CA_BUNDLE"
is "$(sx "$tr" curl -sS --http2 -o /dev/null -w '%{http_version}' "$GH/zen")" 1.1 \
	"trust: ALPN offers http/1.1 only (curl --http2 speaks HTTP/1.1)"
is "$(sx "$tr" env -u SSL_CERT_FILE -u CURL_CA_BUNDLE curl -sS "$GH/zen")" "$ZEN" \
	"trust: without the variables curl still works (the system bundle holds the CA)"
is "$(sx "$tr" curl -sS --cacert /etc/openshell-tls/openshell-ca.pem "$GH/zen")" "$ZEN" \
	"trust: the agent is served a certificate of the sandbox's CA"
out=$(sx "$tr" curl -sS --capath /nonexistent --cacert /sandbox/test-ca.pem "$GH/zen")
like "$out" '^curl: \(60\)' "trust: ... not the upstream's own (the test CA does not verify it)"
URLLIB='import urllib.request
print(urllib.request.urlopen("https://api.github.com/zen", timeout=20).read().decode())'
is "$(sx "$tr" python3 -c "$URLLIB")" "$ZEN" "trust: python3 urllib with its default context works through the proxy"
is "$(sx "$tr" env -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE python3 -c "$URLLIB")" "$ZEN" \
	"trust: python3 urllib without SSL_CERT_FILE works too (the system bundle)"

# Other clients: node (NODE_EXTRA_CA_CERTS), wget (the system bundle),
# java (its own trust store, which no variable points at).
cat >"$TH_DIR/get.js" <<'EOF'
const http = require('http'), tls = require('tls');
const req = http.request({host: '127.0.0.1', port: 3128, method: 'CONNECT', path: 'api.github.com:443'});
req.on('connect', (res, sock) => {
  if (res.statusCode !== 200) { console.log('CONNECT ' + res.statusCode); return; }
  const s = tls.connect({socket: sock, servername: 'api.github.com'}, () =>
    s.write('GET /zen HTTP/1.1\r\nHost: api.github.com\r\nConnection: close\r\n\r\n'));
  let d = '';
  s.on('data', x => d += x);
  s.on('end', () => console.log(d.split('\r\n\r\n')[1]));
  s.on('error', e => console.log('error ' + e.code));
});
req.end();
EOF
if [ -x /usr/bin/node ]; then
	sb_put "$tr" "$TH_DIR/get.js" /sandbox/get.js
	is "$(sx "$tr" node /sandbox/get.js)" "$ZEN" "trust: node trusts the sandbox CA through NODE_EXTRA_CA_CERTS"
else
	skip "trust: node trusts the sandbox CA through NODE_EXTRA_CA_CERTS" "no /usr/bin/node"
fi
if [ -x /usr/bin/wget ]; then
	is "$(sx "$tr" env -u SSL_CERT_FILE wget -qO- "$GH/zen")" "$ZEN" "trust: wget (system bundle) works through the proxy"
else
	skip "trust: wget (system bundle) works through the proxy" "no /usr/bin/wget"
fi
cat >"$TH_DIR/Get.java" <<'EOF'
import java.io.InputStream;
import java.net.*;
public class Get {
	public static void main(String[] a) throws Exception {
		Proxy p = new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 3128));
		HttpURLConnection c = (HttpURLConnection) new URL(a[0]).openConnection(p);
		try (InputStream in = c.getInputStream()) {
			System.out.println(new String(in.readAllBytes()).trim());
		} catch (Exception e) {
			System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
		}
	}
}
EOF
if [ -x /usr/bin/java ] && sx "$tr" java -version >/dev/null 2>&1; then
	sb_put "$tr" "$TH_DIR/Get.java" /sandbox/Get.java
	is "$(sx "$tr" java /sandbox/Get.java "$GH/zen")" "$ZEN" \
		"trust: java's default trust store (which ignores the variables) trusts the sandbox CA"
else
	skip "trust: java's default trust store trusts the sandbox CA" "no java that runs in the sandbox"
fi

# ---------------------------------------------------------------------------
# 5. Keep-alive: one TLS connection, several requests, each decided.
m=$(rec_mark "$REC")
out=$(sx "$tr" curl -sS "$GH/ka/one" "$GH/ka/two")
is "$out" "ok GET /ka/one api.github.com${NL}ok GET /ka/two api.github.com" "keep-alive: curl with two URLs gets both answers"
l1=$(logs_wait "$tr" 'l7_target=/ka/one')
l2=$(logs_wait "$tr" 'l7_target=/ka/two')
pid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$l1")
like "$l2" " pid=$pid " "keep-alive: both requests decided for the same curl process"
is "$(logs_count "$tr" "action=allow dst_host=api\\.github\\.com .* pid=$pid .*engine=l4")" 1 \
	"keep-alive: one CONNECT for both (one L4 decision)"
is "$(rec_since "$REC" "$m")" "GET /ka/one${NL}GET /ka/two" "keep-alive: both reached the upstream"
n=0
for f in "$REC"/*.raw; do
	b=${f##*/}; b=${b%.raw}
	[ "$b" -ge "$m" ] && [ -s "$f" ] && n=$((n + 1))
done
is "$n" 1 "keep-alive: on one upstream connection"

HTTPCLIENT='import http.client, ssl
c = http.client.HTTPSConnection("127.0.0.1", 3128, timeout=20,
    context=ssl.create_default_context())
c.set_tunnel("api.github.com", 443)
for m, p in (("GET", "/ka/py1"), ("HEAD", "/ka/py2"), ("GET", "/ka/py3")):
    c.request(m, p)
    r = c.getresponse()
    print(m, p, r.status, r.read().decode().strip() or "-")
print("socket kept:", c.sock is not None)'
m=$(rec_mark "$REC")
out=$(sx "$tr" python3 -c "$HTTPCLIENT")
is "$out" "GET /ka/py1 200 ok GET /ka/py1 api.github.com
HEAD /ka/py2 200 -
GET /ka/py3 200 ok GET /ka/py3 api.github.com
socket kept: True" "keep-alive: python http.client, three requests on one tunnel"
is "$(rec_since "$REC" "$m")" "GET /ka/py1${NL}HEAD /ka/py2${NL}GET /ka/py3" "keep-alive: the three reached the upstream"
l=$(logs_wait "$tr" 'l7_target=/ka/py3')
pid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$l")
is "$(logs_count "$tr" "l7_decision=allow .* pid=$pid ")" 3 "keep-alive: three L7 decisions logged for it"
is "$(logs_count "$tr" "action=allow dst_host=api\\.github\\.com .* pid=$pid .*engine=l4")" 1 \
	"keep-alive: one CONNECT for them"

m=$(rec_mark "$REC")
H='Host: api.github.com\r\n'
out=$(sb_tunnel "$tr" "GET /ka/a HTTP/1.1\r\n$H\r\n" --wait "DELETE /ka/b HTTP/1.1\r\n$H\r\n" --wait \
	"GET /ka/c HTTP/1.1\r\n$H\r\n")
is "$out" "200 ok GET /ka/a api.github.com${NL}403 policy_denied${NL}closed" \
	"keep-alive: a denied request is answered 403 and the connection ends"
is "$(rec_since "$REC" "$m")" "GET /ka/a" "keep-alive: neither the denied request nor the one after it reached the upstream"
like "$(logs_wait "$tr" 'l7_target=/ka/b')" 'l7_decision=deny .*l7_action=DELETE' "keep-alive: the denied one is logged"
is "$(logs_count "$tr" 'l7_target=/ka/c')" 0 "keep-alive: nothing after the denial was decided"

# A new revision decides the next request of a tunnel opened before it.
l7_policy "$TH_DIR/trust2.yaml" \
	'  gh:' \
	'    name: github-narrow' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        rules: [{ allow: { method: GET, path: /ka/** } }]' \
	'    binaries:' \
	'      - { path: /usr/bin/curl }' \
	"      - { path: $L7_PY }"
m=$(rec_mark "$REC")
sx "$tr" rm -f /tmp/go >/dev/null
sb_tunnel "$tr" "GET /zen HTTP/1.1\r\n$H\r\n" --wait --pause /tmp/go "GET /ka/after HTTP/1.1\r\n$H\r\n" --wait \
	"GET /zen HTTP/1.1\r\n$H\r\n" >"$TH_DIR/reload.out" &
bg=$!
th_wait 20 grep -q '^200' "$TH_DIR/reload.out"
out=$(os policy set "$tr" --policy "$TH_DIR/trust2.yaml" --wait 2>&1) || diag "$out"
sx "$tr" touch /tmp/go >/dev/null
wait "$bg"
is "$(cat "$TH_DIR/reload.out")" "200 $ZEN${NL}200 ok GET /ka/after api.github.com${NL}403 policy_denied${NL}closed" \
	"reload: on a tunnel opened before 'policy set', the next requests are decided by the new revision"
is "$(rec_since "$REC" "$m")" "GET /zen${NL}GET /ka/after" "reload: the request the new revision denies did not reach the upstream"
like "$(logs_wait "$tr" 'policy=github-narrow')" 'l7_decision=allow .*l7_target=/ka/after .*policy=github-narrow' \
	"reload: the decision names the new policy"

rec_check "$REC" api.github.com 443 "$TH_DIR/logs-$qs" "$au" "$ru" "$dr" "$tr"
done_testing

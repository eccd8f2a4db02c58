#!/bin/bash
# The L7 relay's other ways in, in real sandboxes: the forward proxy
# (`curl http://...` with http_proxy set) decides exactly as CONNECT
# tunnels do, plain or TLS, and https:// absolute URIs are sent to
# CONNECT; WebSocket upgrades are decided, then relayed (an echo through
# the tunnel) or refused; `tls: skip` relays TLS untouched (the agent sees
# the upstream's own certificate), cannot be combined with `protocol:
# rest`, and does not switch off another policy's inspection; an upstream
# whose certificate does not verify gets nothing; TLS sessions are
# resumed, the relay's with upstreams and an agent's with the relay.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/gateway.sh"
. "$(dirname "$0")/lib/l7.sh"
th_init sbl7relay

REC_GH=$TH_DIR/rec-gh
REC_WEB=$TH_DIR/rec-web
ip=$(th_host up) || bail "test host"
th_standin up --https 443 --cert-name api.github.com --record-dir "$REC_GH" || bail "stand-in 443"
th_standin up --http 80 --record-dir "$REC_WEB" || bail "stand-in 80"
# mismatch.test: the stand-in's certificate does not name it.
hf=$(th_hosts_file api.github.com="$ip" web.test="$ip" mismatch.test="$ip")
th_gateway_start --hosts-file "$hf" --upstream-ca "$TH_DIR/ca/ca.pem" || bail "gateway start"
H='Host: api.github.com\r\n'

# The same rules on a plain-HTTP endpoint and on a TLS one.
rules=(
	'        rules:'
	'          - allow: { method: GET, path: "/v1/**" }'
	'          - allow: { method: POST, path: /v1/chat }'
	'          - allow: { method: GET, path: /ws }'
	'        deny_rules:'
	'          - { method: GET, path: "/v1/secret/**" }'
)
l7_policy "$TH_DIR/same.yaml" \
	'  web:' \
	'    name: web-rules' \
	'    binaries:' \
	'      - { path: /usr/bin/curl }' \
	"      - { path: $L7_PY }" \
	'    endpoints:' \
	'      - host: web.test' \
	'        port: 80' \
	'        protocol: rest' \
	"${rules[@]}" \
	'  mm:' \
	'    name: mismatch' \
	'    binaries:' \
	"      - { path: $L7_PY }" \
	'    endpoints:' \
	'      - { host: mismatch.test, port: 443, protocol: rest, access: read-only }' \
	'  gh:' \
	'    name: gh-rules' \
	'    binaries:' \
	'      - { path: /usr/bin/curl }' \
	"      - { path: $L7_PY }" \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	"${rules[@]}"
sb=$(th_sbname relay)
th_sb_create "$sb" --policy "$TH_DIR/same.yaml" || { diag "$(os policy validate "$TH_DIR/same.yaml" 2>&1)"; bail "sandbox $sb"; }
sb_put "$sb" "$TH_LIB/tunnel.py" /sandbox/tunnel.py
sb_put "$sb" "$TH_DIR/ca/ca.pem" /sandbox/test-ca.pem

# ---------------------------------------------------------------------------
# 7. Forward proxy L7 = CONNECT L7. Each request three ways: forward
# (http_proxy), a CONNECT tunnel carrying plain HTTP (curl -p), a CONNECT
# tunnel carrying TLS (https://).
hc() { sx "$sb" curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$@"; }
three() {  # three WANT METHOD PATH [CURL ARGS]
	local want=$1 method=$2 path=$3 f p s
	shift 3
	local args=(--path-as-is -g -X "$method")
	[ "$method" = HEAD ] && args=(--path-as-is -g -I)
	[ "$method" = POST ] && args+=(-d x)
	f=$(hc "${args[@]}" "$@" "http://web.test$path")
	p=$(hc "${args[@]}" "$@" -p "http://web.test$path")
	s=$(hc "${args[@]}" "$@" "https://api.github.com$path")
	is "forward $f, CONNECT $p, CONNECT+TLS $s" "forward $want, CONNECT $want, CONNECT+TLS $want" \
		"same decision three ways: $method $path -> $want"
}
mw=$(rec_mark "$REC_WEB")
mg=$(rec_mark "$REC_GH")
three 200 GET /v1/models
three 200 HEAD /v1/models
three 200 POST /v1/chat
three 403 POST /v1/messages
three 403 GET /v2/x
three 403 DELETE /v1/models
three 403 GET /v1/secret/key
three 403 GET /v1/../v2/x
three 403 GET /v1/%2e%2e/v2/x
three 200 GET '/v1//models?x=1'
want="GET /v1/models
HEAD /v1/models
POST /v1/chat
GET /v1/models?x=1"
is "$(rec_since "$REC_GH" "$mg")" "$want" "CONNECT+TLS: only the allowed requests reached the upstream, canonical"
is "$(rec_since "$REC_WEB" "$mw")" "$(sed p <<<"$want")" "forward and CONNECT plain: only the allowed requests reached the upstream, canonical"

# An upstream that answers an upload before taking it (413, then a reset:
# its read buffer is left unread): the agent still gets the answer, over
# the forward proxy and through a tunnel. Expect: off, so the body is on
# its way when the answer comes.
sx "$sb" sh -c 'head -c 67108864 /dev/zero > /sandbox/big'
early() { hc -X POST -H 'Expect:' -H 'X-Standin-Early: 413' --data-binary @/sandbox/big "$@"; }
is "forward $(early http://web.test/v1/chat), CONNECT $(early -p http://web.test/v1/chat)" \
	"forward 413, CONNECT 413" "an upstream's early answer to an upload, then a reset, reaches the agent"
sx "$sb" rm -f /sandbox/big
# An agent that stops sending in the middle of a body, and an upstream
# that answers early and closes while the body is still coming: the
# tunnel ends at once, not at its 10-minute idle timeout (tunnel.py
# would say "timeout" after 10 s).
out=$(sb_tunnel "$sb" --plain --connect web.test:80 \
	"POST /v1/chat HTTP/1.1\r\nHost: web.test\r\nContent-Length: 10\r\n\r\nabc" --shut)
is "$out" "closed" "a request body the agent cuts short: the tunnel is closed at once"
like "$(logs_wait "$sb" 'ended in the middle of a request body')" \
	'l7_decision=refuse dst_host=web\.test .*error=bad_request detail="the connection ended in the middle of a request body"' \
	"... and the refusal is logged"
out=$(sb_tunnel "$sb" --plain --connect web.test:80 \
	"POST /v1/chat HTTP/1.1\r\nHost: web.test\r\nX-Standin-Early: 401\r\nContent-Length: 100000\r\n\r\nabc")
is "$out" "401 early${NL}closed" "an early answer and close while the body is still owed: the agent has it, and the tunnel ends"

# The forward denial reads like the tunnel's.
out=$(sx "$sb" sh -c 'curl -s -D - -o /tmp/fb -X POST -d x http://web.test/v1/messages; cat /tmp/fb')
like "$out" $'\r\nX-OpenShell-Policy: web-rules\r\n' "forward deny: X-OpenShell-Policy header"
fb=${out##*$'\r\n\r\n'}
is "$(th_json_get "$fb" error)" policy_denied "forward deny: error policy_denied"
is "$(th_json_get "$fb" policy)" web-rules "forward deny: policy"
is "$(th_json_get "$fb" rule)" "POST /v1/messages" "forward deny: rule"
is "$(th_json_get "$fb" detail)" "POST /v1/messages not permitted by policy" "forward deny: detail"
is "$(th_json_get "$fb" layer)" l7 "forward deny: layer l7"
like "$(logs_wait "$sb" 'l7_decision=deny dst_host=web\.test .*l7_action=POST l7_target=/v1/messages')" \
	' warn +l7: l7_decision=deny dst_host=web\.test l7_action=POST l7_target=/v1/messages l7_deny_reason="POST /v1/messages not permitted by policy" dst_port=80 .*tls=none engine=l7' \
	"forward deny: the L7 deny line"

# One request per forward connection: a pipelined follow-up is not sent,
# whatever it is; a Host naming elsewhere is replaced by the URI's.
m=$(rec_mark "$REC_WEB")
out=$(sb_tunnel "$sb" --direct "GET http://web.test/v1/models HTTP/1.1\r\nHost: web.test\r\n\r\nDELETE http://web.test/v1/models HTTP/1.1\r\nHost: web.test\r\n\r\n")
is "$out" "200 ok GET /v1/models web.test${NL}closed" "forward: a pipelined request after an allowed one is dropped"
out=$(sb_tunnel "$sb" --direct "GET http://web.test/v1/models HTTP/1.1\r\nHost: other.example\r\n\r\n")
is "$out" "200 ok GET /v1/models web.test${NL}closed" "forward: a Host naming another host is replaced by the URI's"
out=$(sb_tunnel "$sb" --direct "POST http://web.test/v1/chat HTTP/1.1\r\nHost: web.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
is "$out" "400 bad_request${NL}closed" "forward: Content-Length with Transfer-Encoding: 400"
is "$(rec_since "$REC_WEB" "$m")" "GET /v1/models${NL}GET /v1/models" "forward: nothing else reached the upstream"

# https:// absolute URIs: 400, use CONNECT.
m=$(rec_mark "$REC_GH")
out=$(sb_tunnel "$sb" --direct "GET https://api.github.com/v1/models HTTP/1.1\r\n$H\r\n")
is "$out" "400 Use CONNECT for HTTPS URLs${NL}closed" "forward: an https:// absolute URI gets 400 telling to use CONNECT"
is "$(rec_since "$REC_GH" "$m")" "" "forward: ... and nothing is sent"

# Each curl is a new process that cannot resume a TLS session, but the
# relay resumes its own session with an upstream it verified before (the
# unit test covers which sessions are offered where). The stand-in says
# whether the upstream handshake resumed.
tls_probe() { sx "$sb" curl -s --max-time 20 https://api.github.com/v1/tls; }
tls_probe >/dev/null
is "$(tls_probe)" "tls TLSv1.3 resumed=1" "the relay resumes its TLS session with an upstream it verified before"
# An agent that keeps sessions resumes with the relay: curl's second
# connection (Connection: close forces one) gets no certificate.
out=$(sx "$sb" curl -sv --max-time 20 -H 'Connection: close' \
	https://api.github.com/v1/models https://api.github.com/v1/models)
is "$(grep -c 'TLS handshake, Certificate (11)' <<<"$out") $(grep -c 'SSL re-using session ID' <<<"$out")" \
	"1 1" "an agent's second connection resumes its TLS session with the relay"

# ---------------------------------------------------------------------------
# 8. WebSocket: the upgrade is decided, then the tunnel relays frames.
m=$(rec_mark "$REC_GH")
out=$(sb_tunnel "$sb" ws /ws hello-ws)
is "$out" "101 upgrade${NL}echo hello-ws${NL}close frame${NL}closed" \
	"WebSocket: upgrade on an allowed path, a masked text frame echoed back"
is "$(rec_since "$REC_GH" "$m")" "GET /ws" "WebSocket: the upgrade reached the upstream"
frames=$(rec_settle "$REC_GH"; "$TH_PY" -c '
import sys
d = b"".join(open(f, "rb").read() for f in sys.argv[1:])
head, _, rest = d.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), b"Upgrade: websocket" in head,
      rest[:2].hex(), len(rest) == 2 + 4 + 8 + 2 + 4)' $(for n in $(seq "$m" 1000); do
	[ -f "$REC_GH/$n.raw" ] && echo "$REC_GH/$n.raw"; done))
is "$frames" "GET /ws HTTP/1.1 True 8188 True" \
	"WebSocket: the upstream got the upgrade head, then exactly the masked frame and the close frame"
like "$(logs_wait "$sb" 'l7_target=/ws ')" 'l7_decision=allow dst_host=api\.github\.com .*l7_action=GET l7_target=/ws .*rule="GET /ws"' \
	"WebSocket: the upgrade was decided and logged"
m=$(rec_mark "$REC_GH")
out=$(sb_tunnel "$sb" ws /ws-denied hello)
is "$out" "403 policy_denied${NL}closed" "WebSocket: an upgrade on a path no rule allows gets 403"
is "$(rec_since "$REC_GH" "$m")" "" "WebSocket: the denied upgrade never reached the upstream"
m=$(rec_mark "$REC_WEB")
out=$(sb_tunnel "$sb" --plain --connect web.test:80 ws /ws plain-ws)
is "$out" "101 upgrade${NL}echo plain-ws${NL}close frame${NL}closed" "WebSocket: over a plain CONNECT tunnel too"
is "$(rec_since "$REC_WEB" "$m")" "GET /ws" "WebSocket: plain: the upgrade reached the upstream"

# An upstream whose certificate does not verify gets nothing, and the
# agent is told why (502), as for any other upstream failure.
m=$(rec_mark "$REC_GH")
out=$(sb_tunnel "$sb" --connect mismatch.test:443 "GET /zen HTTP/1.1\r\nHost: mismatch.test\r\n\r\n")
is "$(rec_since "$REC_GH" "$m")" "" "upstream TLS: a certificate that does not name the host: nothing is sent"
like "$(logs_wait "$sb" 'error=upstream_tls_failed')" \
	'l7_decision=refuse dst_host=mismatch\.test dst_port=443 .*error=upstream_tls_failed detail="certificate verify failed: hostname mismatch' \
	"upstream TLS: the failure is logged"
is "$out" "502 upstream_tls_failed${NL}closed" "upstream TLS: the agent gets 502 upstream_tls_failed"

rec_check "$REC_GH" api.github.com 443 "$sb"
rec_check "$REC_WEB" web.test 80 "$sb"

# ---------------------------------------------------------------------------
# 9. tls: skip: the bytes go through untouched.
sk=$(th_sbname skip)
l7_policy "$TH_DIR/skip.yaml" \
	'  gh:' \
	'    name: gh-opaque' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, tls: skip }' \
	'    binaries:' \
	'      - { path: /usr/bin/curl }' \
	"      - { path: $L7_PY }"
th_sb_create "$sk" --policy "$TH_DIR/skip.yaml" || bail "sandbox $sk"
sb_put "$sk" "$TH_LIB/tunnel.py" /sandbox/tunnel.py
sb_put "$sk" "$TH_DIR/ca/ca.pem" /sandbox/test-ca.pem
cn() { openssl x509 -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p'; }
test_ca=$(cn <"$TH_DIR/ca/ca.pem")
m=$(rec_mark "$REC_GH")
out=$(sb_tunnel "$sk" --cafile /sandbox/test-ca.pem --show-cert "GET /zen HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
is "$out" "cert api.github.com issued by $test_ca${NL}200 $ZEN${NL}closed" \
	"tls: skip: the agent is served the upstream's own certificate (the test CA's)"
out=$(sx "$sk" curl -sS --max-time 20 "https://api.github.com/zen")
like "$out" '^curl: \(60\)' "tls: skip: the sandbox CA does not verify it (nothing was terminated)"
is "$(sx "$sk" curl -sS --max-time 20 --cacert /sandbox/test-ca.pem -X POST -d x https://api.github.com/repos/x/issues)" \
	"ok POST /repos/x/issues api.github.com" "tls: skip: with the test CA, any request goes through (not inspected)"
is "$(rec_since "$REC_GH" "$m")" "GET /zen${NL}POST /repos/x/issues" "tls: skip: the requests reached the upstream"
like "$(logs_wait "$sk" 'action=allow dst_host=api\.github\.com')" 'policy=gh-opaque engine=l4' "tls: skip: admitted at L4"
is "$(logs_count "$sk" 'l7_decision=')" 0 "tls: skip: no L7 decisions"

# What the agent sees on terminated TLS, for comparison.
sb_ca=$(sx "$sb" cat /etc/openshell-tls/openshell-ca.pem | cn)
out=$(sb_tunnel "$sb" --show-cert "GET /v1/models HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
is "$out" "cert api.github.com issued by $sb_ca${NL}200 ok GET /v1/models api.github.com${NL}closed" \
	"terminated: the agent is served a leaf for api.github.com from the sandbox's CA"

# rest with tls: skip is refused; the sandbox keeps its policy.
l7_policy "$TH_DIR/rest-skip.yaml" \
	'  gh:' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, tls: skip, access: read-only }' \
	'    binaries: [{ path: /usr/bin/curl }]'
out=$(os policy set "$sk" --policy "$TH_DIR/rest-skip.yaml" --wait 2>&1)
rc=$?
isnt_zero() { [ "$1" -ne 0 ]; }
check "tls: skip with protocol: rest: policy set fails" isnt_zero "$rc"
like "$out" "rest-skip\\.yaml:[0-9]+:[0-9]+: error: network_policies\\.gh\\.endpoints\\[0\\]\\.tls: 'tls: skip' cannot be used with 'protocol: rest'" \
	"tls: skip with protocol: rest: the error names file, line, field"
is "$(sx "$sk" curl -sS --max-time 20 --cacert /sandbox/test-ca.pem https://api.github.com/zen)" "$ZEN" \
	"tls: skip with protocol: rest refused: the old policy still applies"

# Another policy's tls: skip does not switch off inspection.
l7_policy "$TH_DIR/mixed.yaml" \
	'  a_opaque:' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, tls: skip }' \
	'    binaries: [{ path: /usr/bin/curl }]' \
	'  b_inspect:' \
	'    name: gh-readonly' \
	'    endpoints:' \
	'      - { host: api.github.com, port: 443, protocol: rest, access: read-only }' \
	'    binaries: [{ path: /usr/bin/curl }]'
out=$(os policy set "$sk" --policy "$TH_DIR/mixed.yaml" --wait 2>&1) || diag "$out"
m=$(rec_mark "$REC_GH")
is "$(sx "$sk" curl -sS --max-time 20 https://api.github.com/zen)" "$ZEN" \
	"tls: skip beside protocol: rest on the same endpoint: terminated (the sandbox CA verifies)"
is "$(sx "$sk" curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST -d x https://api.github.com/repos/x/issues)" 403 \
	"tls: skip beside protocol: rest: the read-only rules still apply"
is "$(rec_since "$REC_GH" "$m")" "GET /zen" "tls: skip beside protocol: rest: the POST did not reach the upstream"
done_testing

#!/bin/bash
# Request smuggling against the L7 relay, from inside a real sandbox: a
# Python client (tests/e2e/lib/tunnel.py, copied into the sandbox) opens
# a CONNECT tunnel to api.github.com:443, speaks TLS to the proxy with the
# sandbox's CA and writes exact bytes. Every case is checked twice: what
# the agent got back, and what the stand-in upstream recorded (its raw
# bytes, one file per connection) — the smuggled request never arrives.
# At the end, every request the upstream ever received is matched to a
# logged decision that let it through, and every refusal to a log line.
#
# CL.TE, TE.CL, obfuscated Transfer-Encoding, obs-fold, NUL bytes, bare LF
# and CR, duplicate and conflicting Content-Length, pipelining (a denied
# request behind an allowed one, two allowed ones, behind a body), Host
# and absolute-form authorities that differ from the CONNECT, dot segments
# and encoded dots, spellings that dodge a deny rule on servers that
# normalise paths (%2F, ";param"), upgrade tricks, oversize heads, broken
# chunked bodies, bad upstream responses, plain HTTP inside the tunnel.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/gateway.sh"
. "$(dirname "$0")/lib/l7.sh"
th_init sbsmug

REC=$TH_DIR/rec-gh
ip=$(th_host gh) || bail "test host"
th_standin gh --https 443 --cert-name api.github.com --record-dir "$REC" || bail "stand-in"
hf=$(th_hosts_file api.github.com="$ip")
th_gateway_start --hosts-file "$hf" --upstream-ca "$TH_DIR/ca/ca.pem" || bail "gateway start"

sm=$(th_sbname smug)
l7_policy "$TH_DIR/smug.yaml" \
	'  gh:' \
	'    name: smuggle-guard' \
	'    endpoints:' \
	'      - host: api.github.com' \
	'        port: 443' \
	'        protocol: rest' \
	'        enforcement: enforce' \
	'        rules:' \
	'          - allow: { method: GET, path: /zen }' \
	'          - allow: { method: GET, path: /head }' \
	'          - allow: { method: POST, path: /echo }' \
	'          - allow: { method: POST, path: /sha256 }' \
	'          - allow: { method: GET, path: "/public/**" }' \
	'          - allow: { method: GET, path: "/bad/**" }' \
	'        deny_rules:' \
	'          - { method: GET, path: "/public/secret/**" }' \
	'    binaries:' \
	"      - { path: $L7_PY }"
th_sb_create "$sm" --policy "$TH_DIR/smug.yaml" || bail "sandbox $sm"
sb_put "$sm" "$TH_LIB/tunnel.py" /sandbox/tunnel.py

H='Host: api.github.com\r\n'
CLOSE='Connection: close\r\n'
Z="200 $ZEN"
R400=$'400 bad_request\nclosed'

# t DESC WANT WANT_UPSTREAM DATA...: one tunnel; what the agent got, and
# the requests ("METHOD TARGET" lines) that reached the upstream. t_like:
# the same with the answer matched by an ERE. LAST: the tunnel's first
# record number (for rec_bytes).
tcase() {
	local cmp=$1 desc=$2 want=$3 wantup=$4 m out up
	shift 4
	m=$(rec_mark "$REC")
	out=$(sb_tunnel "$sm" "$@")
	"$cmp" "$out" "$want" "$desc"
	up=${wantup:-nothing}
	is "$(rec_since "$REC" "$m")" "$wantup" "$desc: upstream got ${up//$NL/, }"
	LAST=$m
}
t() { tcase is "$@"; }
t_like() { tcase like "$@"; }

# ---------------------------------------------------------------------------
# The baseline: an allowed request goes through.
t "baseline: GET /zen" "$Z${NL}closed" "GET /zen" "GET /zen HTTP/1.1\r\n$H$CLOSE\r\n"
t "baseline: DELETE /zen denied" "403 policy_denied${NL}closed" "" "DELETE /zen HTTP/1.1\r\n$H\r\n"

# CL.TE and TE.CL: both framings at once are refused, whatever the order.
t "CL.TE: Content-Length and Transfer-Encoding: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 49\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /private/cl-te HTTP/1.1\r\n$H\r\n"
t "TE.CL: Transfer-Encoding and Content-Length: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n2e\r\nGET /private/te-cl HTTP/1.1\r\n$H\r\n\r\n0\r\n\r\n"
t "CL.TE with Content-Length: 0" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"

# Obfuscated Transfer-Encoding: anything but one "chunked" is refused.
for te in 'chunked, identity' 'identity, chunked' 'xchunked' 'chunkedx' '"chunked"' 'chunked;q=1' 'chunk' 'identity'; do
	t "Transfer-Encoding: $te (with Content-Length): 400" "$R400" "" \
		"POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: $te\r\n\r\n0\r\n\r\n"
done
t "Transfer-Encoding: xchunked alone: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
t "Transfer-Encoding:<TAB>chunked: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n"
t "'Transfer-Encoding : chunked' (space before the colon): 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
t "' chunked' with Content-Length is still both framings: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding:   chunked\r\n\r\n0\r\n\r\n"
t "two Transfer-Encoding fields: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"
t "empty Transfer-Encoding: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding:\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
# Spaces around the value are optional whitespace: the same "chunked" to
# both parsers, so the body is relayed as it is.
t "'Transfer-Encoding:   CHUNKED  ' alone is chunked: relayed" "200 hello${NL}closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding:   CHUNKED  \r\n$CLOSE\r\n5\r\nhello\r\n0\r\n\r\n"
t "Connection naming Content-Length: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nConnection: Content-Length\r\n\r\nhello"

# obs-fold: a continuation line could carry a second Transfer-Encoding.
t "obs-fold (space) in a header: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nX-Foo: bar\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
t "obs-fold (tab) continuing Transfer-Encoding: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\tchunked\r\n\r\n0\r\n\r\n"
t "a first header line starting with a space: 400" "$R400" "" \
	"GET /zen HTTP/1.1\r\n Transfer-Encoding: chunked\r\n$H\r\n"

# NUL bytes: refused in the head; a body is opaque.
t "NUL in a header value: 400" "$R400" "" "GET /zen HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n"
t "NUL in the request target: 400" "$R400" "" "GET /zen\x00/private HTTP/1.1\r\n$H\r\n"
t "NUL in a header name: 400" "$R400" "" "GET /zen HTTP/1.1\r\n${H}X\x00A: b\r\n\r\n"
sha=$("$TH_PY" -c 'import hashlib; print(hashlib.sha256(b"a\0b\0c").hexdigest())')
t "NUL bytes in a Content-Length body are relayed intact" "200 $sha 5${NL}closed" "POST /sha256" \
	"POST /sha256 HTTP/1.1\r\n${H}Content-Length: 5\r\n$CLOSE\r\na\x00b\x00c"

# Bare LF and bare CR: a line end to one parser, not to another.
t "bare LF line ends: 400" "$R400" "" "GET /zen HTTP/1.1\n${H%\\r\\n}\n\n"
t "one header line ending in a bare LF: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}X-A: y\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
t "a bare CR inside a header line: 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}X-A: y\rTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
t "bare LF ending the head: 400" "$R400" "" "GET /zen HTTP/1.1\r\n$H\n"

# Content-Length: duplicates, conflicts, odd spellings.
t "conflicting Content-Length (5 and 6): 400" "$R400" "" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhelloX"
for cl in '5, 6' '5, 5' '+5' '-5' '0x5' '5 5' '5.0' '99999999999999999999' ''; do
	t "Content-Length: '$cl': 400" "$R400" "" \
		"POST /echo HTTP/1.1\r\n${H}Content-Length: $cl\r\n\r\nhello"
done
t "Content-Length:<TAB>5: 400" "$R400" "" "POST /echo HTTP/1.1\r\n${H}Content-Length:\t5\r\n\r\nhello"
t "two equal Content-Lengths agree: relayed" "200 hello${NL}closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n$CLOSE\r\nhello"

# Pipelining: each request decided on its own, in turn.
t "pipelined: allowed then denied in one write" "$Z${NL}403 policy_denied${NL}closed" "GET /zen" \
	"GET /zen HTTP/1.1\r\n$H\r\nGET /private/pipelined HTTP/1.1\r\n$H\r\n"
n0=$(logs_count "$sm" 'l7_decision=allow .*l7_target=/head ')
t "pipelined: two allowed in one write" "$Z${NL}200 GET /head HTTP/1.1${NL}closed" "GET /zen${NL}GET /head" \
	"GET /zen HTTP/1.1\r\n$H\r\nGET /head HTTP/1.1\r\n$H$CLOSE\r\n"
logs_wait "$sm" 'l7_decision=allow .*l7_target=/head ' >/dev/null
is "$(logs_count "$sm" 'l7_decision=allow .*l7_target=/head ')" $((n0 + 1)) "pipelined: the second allowed request has a decision of its own"
t "pipelined: a denied request right behind a Content-Length body" "200 hello${NL}403 policy_denied${NL}closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /private/after-body HTTP/1.1\r\n$H\r\n"
is "$(rec_bytes "$REC" "$LAST")" "$(printf 'POST /echo HTTP/1.1\r\nHost: api.github.com\r\nContent-Length: 5\r\n\r\nhello')" \
	"pipelined: the upstream got exactly the body's 5 bytes and nothing after"
t "pipelined: a denied request right behind a chunked body" "200 hello${NL}403 policy_denied${NL}closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /zen HTTP/1.1\r\n$H\r\n"
t "pipelined: nothing after Connection: close is decided" "$Z${NL}closed" "GET /zen" \
	"GET /zen HTTP/1.1\r\n$H$CLOSE\r\nGET /head HTTP/1.1\r\n$H\r\n"
t "a head split across writes" "$Z${NL}closed" "GET /zen" "GET /z" "en HTTP/1.1\r\nHo" "st: api.github.com\r\n$CLOSE\r\n"

# The request's authority must be the tunnel's.
t "Host differs from the CONNECT host: 403 request_authority_mismatch" "403 request_authority_mismatch${NL}closed" "" \
	"GET /zen HTTP/1.1\r\nHost: other.example\r\n\r\n"
t "Host with another port: 403 request_authority_mismatch" "403 request_authority_mismatch${NL}closed" "" \
	"GET /zen HTTP/1.1\r\nHost: api.github.com:8443\r\n\r\n"
t "absolute-form to another host: 403 request_authority_mismatch" "403 request_authority_mismatch${NL}closed" "" \
	"GET https://other.example/zen HTTP/1.1\r\nHost: other.example\r\n\r\n"
t "absolute-form disagreeing with Host: 400" "$R400" "" \
	"GET https://api.github.com/zen HTTP/1.1\r\nHost: other.example\r\n\r\n"
t "two Host fields: 400" "$R400" "" "GET /zen HTTP/1.1\r\n${H}Host: other.example\r\n\r\n"
t "no Host in HTTP/1.1: 400" "$R400" "" "GET /zen HTTP/1.1\r\n\r\n"
t "Host changed on the second request of a connection: 403" "$Z${NL}403 request_authority_mismatch${NL}closed" "GET /zen" \
	"GET /zen HTTP/1.1\r\n$H\r\n" --wait "GET /zen HTTP/1.1\r\nHost: other.example\r\n\r\n"
t "absolute-form for the tunnel's own authority: relayed in origin form" "$Z${NL}closed" "GET /zen" \
	"GET https://api.github.com/zen HTTP/1.1\r\n$H$CLOSE\r\n"
line=$(logs_wait "$sm" 'error=request_authority_mismatch' | head -n 1)
like "$line" 'l7_decision=refuse dst_host=api\.github\.com dst_port=443 .*error=request_authority_mismatch detail="the request is for other\.example but the tunnel was opened to api\.github\.com:443"' \
	"authority mismatch: logged as a refusal"

# Paths are decided canonical, and sent canonical.
t "dot segments: /public/../private/x is /private/x: denied" "403 policy_denied${NL}closed" "" \
	"GET /public/../private/x HTTP/1.1\r\n$H\r\n"
t "encoded dot segments: /public/%2e%2e/private/x: denied" "403 policy_denied${NL}closed" "" \
	"GET /public/%2e%2e/private/x HTTP/1.1\r\n$H\r\n"
t "climbing above the root: 400" "$R400" "" "GET /public/../../zen HTTP/1.1\r\n$H\r\n"
t "/public//./a/../b is /public/b: allowed, sent canonical" "200 ok GET /public/b api.github.com${NL}closed" "GET /public/b" \
	"GET /public//./a/../b HTTP/1.1\r\n$H$CLOSE\r\n"
t "a fragment in the target: 400" "$R400" "" "GET /zen#x HTTP/1.1\r\n$H\r\n"
# A deny rule on /public/secret/** must not be dodged by spellings that
# upstream servers commonly read as the same path: an encoded slash
# (%2F, decoded before routing by many servers) or a path parameter
# (";x", stripped by servlet containers). Refusing or denying are both
# fine; forwarding is not.
t "deny rule: GET /public/secret/key denied" "403 policy_denied${NL}closed" "" \
	"GET /public/secret/key HTTP/1.1\r\n$H\r\n"
t_like "deny rule: /public/secret%2Fkey is not let through" '^40[03] ' "" \
	"GET /public/secret%2Fkey HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "deny rule: /public/secret;x/key is not let through" '^40[03] ' "" \
	"GET /public/secret;x/key HTTP/1.1\r\n$H$CLOSE\r\n"
# A backslash, raw or encoded, is a slash to some servers; and a decoded
# slash may make a dot segment that climbs back into the denied tree.
t_like "deny rule: /public/secret%5Ckey is not let through" '^40[03] ' "" \
	"GET /public/secret%5Ckey HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "deny rule: a raw backslash (/public/secret\\key) is not let through" '^40[03] ' "" \
	"GET /public/secret\\x5ckey HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "deny rule: /public/x/..%2Fsecret/key is not let through" '^40[03] ' "" \
	"GET /public/x/..%2Fsecret/key HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "deny rule: /public/x/..%5Csecret;p/key is not let through" '^40[03] ' "" \
	"GET /public/x/..%5Csecret;p/key HTTP/1.1\r\n$H$CLOSE\r\n"
# A decoded slash whose dot segments climb above the root: servers that
# decode and then normalise (Python's, Go's) drop the extra "..", so
# /public/..%2F..%2Fpublic/secret/key is /public/secret/key there.
t_like "deny rule: /public/..%2F..%2Fpublic/secret/key is not let through" '^40[03] ' "" \
	"GET /public/..%2F..%2Fpublic/secret/key HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "deny rule: /public/..%5C..%5Cpublic/secret/key is not let through" '^40[03] ' "" \
	"GET /public/..%5C..%5Cpublic/secret/key HTTP/1.1\r\n$H$CLOSE\r\n"
# Nor an allow widened: under /public/** a decoded-slash climb out of it
# is the path it climbs to, which no rule allows.
t_like "allow: /public/..%2Fprivate/x climbs out of /public/** and is not let through" '^40[03] ' "" \
	"GET /public/..%2Fprivate/x HTTP/1.1\r\n$H$CLOSE\r\n"
t_like "allow: /public/a/..%2F..%2F..%2Fzen is /zen, which is allowed: forwarded as it came" "^200 " "GET /public/a/..%2F..%2F..%2Fzen" \
	"GET /public/a/..%2F..%2F..%2Fzen HTTP/1.1\r\n$H$CLOSE\r\n"
t "an encoded slash outside the denied tree is still allowed, sent as it came" \
	"200 ok GET /public/a%2Fb api.github.com${NL}closed" "GET /public/a%2Fb" \
	"GET /public/a%2Fb HTTP/1.1\r\n$H$CLOSE\r\n"

# Upgrades: only a 101 to a WebSocket upgrade the agent asked for opens
# the tunnel; otherwise parsing goes on.
t "upgrade asked, 200 answered: the next request is still decided" "$Z${NL}403 policy_denied${NL}closed" "GET /zen" \
	"GET /zen HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /private/after-upgrade HTTP/1.1\r\n$H\r\n"
t "h2c upgrade: Upgrade and HTTP2-Settings are not passed on" "200 GET /head HTTP/1.1${NL}closed" "GET /head" \
	"GET /head HTTP/1.1\r\n${H}Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\r\n"
unlike "$(rec_bytes "$REC" "$LAST")" 'Upgrade|HTTP2-Settings' "h2c upgrade: the upstream saw neither field"
# A body that runs to the close ends, over TLS, with the upstream's
# close_notify; a bare close may be a truncation, and reaches the agent
# as one (no close_notify from the proxy either).
t "a body to the close, ended with close_notify: the agent has it whole" \
	"200 until the close${NL}closed" "GET /public/close-body" \
	"GET /public/close-body HTTP/1.1\r\n$H\r\n"
t "a body to the close, cut by a bare close: the agent sees it cut" \
	"200 cut short: until the close${NL}closed" "GET /bad/close-body" \
	"GET /bad/close-body HTTP/1.1\r\n$H\r\n"
# Interim answers (103 Early Hints) reach an HTTP/1.1 agent, never an
# HTTP/1.0 one, which would take the first for its answer.
t "an interim 103 is passed to an HTTP/1.1 agent" \
	"103 ${NL}200 ok GET /public/interim api.github.com${NL}closed" "GET /public/interim" \
	"GET /public/interim HTTP/1.1\r\n$H$CLOSE\r\n"
t "an interim 103 is not passed to an HTTP/1.0 agent" \
	"200 ok GET /public/interim api.github.com${NL}closed" "GET /public/interim" \
	"GET /public/interim HTTP/1.0\r\n$H\r\n"
t "a 101 nobody asked for: 502" "502 bad_upstream_response${NL}closed" "GET /bad/101" \
	"GET /bad/101 HTTP/1.1\r\n$H\r\nGET /private/after-101 HTTP/1.1\r\n$H\r\n"
t "a response with Content-Length and Transfer-Encoding: 502" "502 bad_upstream_response${NL}closed" "GET /bad/cl-te" \
	"GET /bad/cl-te HTTP/1.1\r\n$H\r\n"
t "a response head with a NUL byte: 502" "502 bad_upstream_response${NL}closed" "GET /bad/nul" \
	"GET /bad/nul HTTP/1.1\r\n$H\r\n"

# Malformed bodies, heads and versions.
t "a chunk size line ending in a bare LF: the body stops there" "closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\nGET /private/chunk-lf HTTP/1.1\r\n$H\r\n"
is "$(rec_bytes "$REC" "$LAST")" "$(printf 'POST /echo HTTP/1.1\r\nHost: api.github.com\r\nTransfer-Encoding: chunked\r\n\r\n')" \
	"a chunk size line ending in a bare LF: none of the body went upstream"
t "a chunk size of 17 hex digits: the body stops there" "closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"
t "chunk data not followed by CRLF: the body stops there" "closed" "POST /echo" \
	"POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nhelloGET /private/chunk-overrun HTTP/1.1\r\n$H\r\n"
big=$(head -c 17000 /dev/zero | tr '\0' a)
t "a head over 16 KiB: 431" "431 headers_too_large${NL}closed" "" "GET /zen HTTP/1.1\r\n${H}X-Big: $big\r\n\r\n"
t "CONNECT inside the tunnel: 400" "$R400" "" "CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n"
t "the HTTP/2 preface: 505" "505 http_version_not_supported${NL}closed" "" "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
t "an HTTP/0.9 request line: 400" "$R400" "" "GET /zen\r\n\r\n"
t "an invalid method: 400" "$R400" "" "G(T /zen HTTP/1.1\r\n$H\r\n"
t "two spaces in the request line: 400" "$R400" "" "GET  /zen HTTP/1.1\r\n$H\r\n"
t "Expect other than 100-continue: 417" "417 expectation_failed${NL}closed" "" \
	"POST /echo HTTP/1.1\r\n${H}Expect: 101-upgrade\r\nContent-Length: 5\r\n\r\nhello"
t "plain HTTP in the tunnel is inspected too" "403 policy_denied${NL}closed" "" \
	--plain "GET /private/plain HTTP/1.1\r\nHost: api.github.com:443\r\n\r\n"

# ---------------------------------------------------------------------------
# Everything that reached the upstream was decided first.
rec_check "$REC" api.github.com 443 "$sm"
n=$(rec_settle "$REC"; "$TH_PY" "$TH_LIB/l7rec.py" requests "$REC" | grep -c 'private\|garbage')
is "$n" 0 "no smuggled request (/private/...) and no unparsable bytes ever reached the upstream"

# Every refusal in the tunnel is a logged decision: each 400/431/505/417
# the agent got above, and each 502 for a bad upstream response, has an
# l7_decision=refuse line with its error and detail.
logs=$(sb_logs "$sm")
while IFS='|' read -r e d; do
	if grep -q "l7_decision=refuse .*error=$e detail=\"[^\"]*$d" <<<"$logs"; then
		ok "refusal logged: $e: $d"
	else
		not_ok "refusal logged: $e: $d"
		diag "no l7_decision=refuse line with error=$e and a detail containing '$d'"
	fi
done <<'EOF'
bad_request|both Content-Length and Transfer-Encoding
bad_request|unsupported Transfer-Encoding
bad_request|obsolete line folding
bad_request|NUL byte
bad_request|bare LF in the head
bad_request|bare CR
bad_request|conflicting Content-Length
headers_too_large|head larger than
bad_request|bare LF in the chunk size line
bad_request|CONNECT inside a tunnel
http_version_not_supported|HTTP version
bad_request|request URI authority
expectation_failed|unsupported expectation
bad_upstream_response|both Content-Length and Transfer-Encoding
bad_upstream_response|101 Switching Protocols to a request
bad_upstream_response|NUL byte
EOF
done_testing

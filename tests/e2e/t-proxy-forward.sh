#!/bin/bash
# The forward (plain-HTTP) proxy: absolute-form requests are decided on
# host:port, rewritten to origin form without hop-by-hop fields, and
# exactly one request with its body reaches the upstream; https:// and
# other schemes are refused with 400.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-forward

ip=$(th_host web) || bail "cannot make a test host"
rec=$TH_DIR/web.rec
th_standin web --http 80 --record "$rec" || bail "stand-in"
th_hosts_file web.test="$ip" other.test="$ip" >/dev/null
th_netns_client sbx >/dev/null || bail "client namespace"
py_real=$(readlink -f /usr/bin/python3)
ZEN="Anything added dilutes everything else."

cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
network_policies:
  web:
    name: web-plain
    endpoints:
      - { host: web.test, port: 80 }
    binaries:
      - { path: /usr/bin/curl }
      - { path: $py_real }
EOF
th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"

# wait_rec N: the record holds N connections' worth (written at close).
rec_reset() { : >"$rec"; }
rec_wait() { th_wait 10 test -s "$rec"; }
rec_get() { cat "$rec"; echo -n .; }   # the dot keeps trailing CRLFs through $(...)

rec_reset
is "$(th_curl sbx http://web.test/zen 2>&1)" "$ZEN" "GET http:// allowed: upstream answer relayed"
rec_wait
first=$(head -n 1 "$rec" | tr -d '\r')
is "$first" "GET /zen HTTP/1.1" "rewritten to origin form"
unlike "$(cat "$rec")" 'Proxy-Connection' "Proxy-Connection dropped"
like "$(rec_get)" $'\r\nConnection: close\r\n\r\n\\.$' "Connection: close set"
like "$(th_log_grep '^action=allow dst_host=web\.test ' | head -n 1)" \
	'^action=allow dst_host=web\.test dst_port=80 binary=/usr/bin/curl pid=[0-9]+ policy=web-plain engine=l4 method=GET path=/zen$' \
	"forward allow line"

# Exact bytes upstream: hop-by-hop fields and Connection-named ones go.
rec_reset
th_pyclient sbx raw 'GET http://web.test/head?x=1 HTTP/1.1\r\nHost: web.test\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Keep: 2\r\n\r\n' >/dev/null
rec_wait
is "$(rec_get)" $'GET /head?x=1 HTTP/1.1\r\nHost: web.test\r\nX-Keep: 2\r\nConnection: close\r\n\r\n.' \
	"exact upstream head: hop-by-hop and Connection-named fields removed"

rec_reset
th_pyclient sbx raw 'GET http://web.test/head HTTP/1.1\r\nHost: evil.test\r\n\r\n' >/dev/null
rec_wait
is "$(rec_get)" $'GET /head HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n.' \
	"a Host differing from the URI is regenerated from the URI"

rec_reset
th_pyclient sbx raw 'GET http://web.test HTTP/1.0\r\nUser-Agent: t\r\n\r\n' >/dev/null
rec_wait
is "$(rec_get)" $'GET / HTTP/1.0\r\nUser-Agent: t\r\nHost: web.test\r\nConnection: close\r\n\r\n.' \
	"a missing Host is added; an empty path becomes /"

# Exactly one request per connection: a pipelined follow-up is dropped.
rec_reset
resp=$(th_pyclient sbx raw 'GET http://web.test/zen HTTP/1.1\r\nHost: web.test\r\n\r\nGET http://web.test/head HTTP/1.1\r\nHost: web.test\r\n\r\n')
rec_wait
is "$(rec_get)" $'GET /zen HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n.' \
	"pipelined follow-up request never reaches the upstream"
like "$resp" "$ZEN\$" "the first request's answer is relayed"

# Bodies.
head -c 300000 /dev/urandom >"$TH_DIR/body"
want="$(sha256sum "$TH_DIR/body" | cut -d' ' -f1) 300000"
is "$(th_curl sbx --data-binary @"$TH_DIR/body" http://web.test/sha256 2>&1)" "$want" \
	"POST with Content-Length: body arrives intact"
is "$(th_curl sbx -H 'Transfer-Encoding: chunked' --data-binary @"$TH_DIR/body" http://web.test/sha256 2>&1)" "$want" \
	"POST chunked: body arrives intact"
resp=$(th_pyclient sbx raw 'POST http://web.test/echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc')
like "$resp" $'^HTTP/1.1 400 ' "Content-Length with Transfer-Encoding: 400"
resp=$(th_pyclient sbx raw 'POST http://web.test/echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd')
like "$resp" $'^HTTP/1.1 400 ' "conflicting Content-Length: 400"

# Denied.
code=$(th_curl sbx -o "$TH_DIR/denied.json" -w '%{http_code}' http://other.test/x?y=1)
is "$code" 403 "GET to a host no policy names: 403"
body=$(cat "$TH_DIR/denied.json")
is "$(th_json_get "$body" error)" policy_denied "forward deny: error policy_denied"
is "$(th_json_get "$body" detail)" "GET other.test:80/x not permitted by policy" "forward deny: detail names method, host, port and path"
like "$(th_log_grep '^action=deny dst_host=other\.test ')" \
	'^action=deny dst_host=other\.test dst_port=80 binary=/usr/bin/curl pid=[0-9]+ ancestors=[^ ]+ deny_reason="no matching network policy" engine=l4 method=GET path=/x$' \
	"forward deny line (the query is not logged)"

# Schemes.
resp=$(th_pyclient sbx raw 'GET https://web.test/zen HTTP/1.1\r\nHost: web.test\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 Bad Request\r\n' "https:// absolute URI: 400"
like "$resp" 'Use CONNECT for HTTPS URLs' "https:// absolute URI: body says to use CONNECT"
resp=$(th_pyclient sbx raw 'GET ftp://web.test/zen HTTP/1.1\r\nHost: web.test\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 ' "ftp:// absolute URI: 400"
is "$(th_json_get "${resp#*$'\r\n\r\n'}" error)" unsupported_proxy_scheme "ftp:// says unsupported_proxy_scheme"
resp=$(th_pyclient sbx raw 'GET /zen HTTP/1.1\r\nHost: web.test\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 ' "origin-form request to the proxy: 400"
resp=$(th_pyclient sbx raw 'GET http://user@web.test/zen HTTP/1.1\r\n\r\n')
like "$resp" $'^HTTP/1.1 400 ' "user information in the URI: 400"
th_proxy_stop
th_proxy_check_clean
done_testing

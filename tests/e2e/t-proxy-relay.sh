#!/bin/bash
# The relay is byte-exact both ways: 5 MB of random bytes up and down
# through a CONNECT tunnel (TLS end to end) and through the forward proxy;
# bytes sent with the CONNECT head are not lost; a half-close is passed on.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
th_init proxy-relay

ip=$(th_host bulk) || bail "cannot make a test host"
mkdir -p "$TH_DIR/files"
head -c 5242880 /dev/urandom >"$TH_DIR/files/payload"
sum=$(sha256sum "$TH_DIR/files/payload" | cut -d' ' -f1)
th_standin bulk --https 443 --cert-name bulk.test --files "$TH_DIR/files" || bail "stand-in"
th_standin bulk --http 80 --files "$TH_DIR/files" || bail "stand-in"
th_hosts_file bulk.test="$ip" >/dev/null
th_netns_client sbx >/dev/null || bail "client namespace"
py_real=$(readlink -f /usr/bin/python3)

cat >"$TH_DIR/policy.yaml" <<EOF
version: 1
network_policies:
  bulk:
    endpoints:
      - { host: bulk.test, ports: [80, 443] }
    binaries:
      - { path: /usr/bin/curl }
      - { path: $py_real }
EOF
th_proxy_driver sbx "$TH_DIR/policy.yaml" --hosts-file "$TH_DIR/hosts" || bail "proxy driver"

is "$(th_curl sbx --data-binary @"$TH_DIR/files/payload" https://bulk.test/sha256 2>&1)" "$sum 5242880" \
	"CONNECT tunnel: 5 MB upload arrives byte for byte"
th_curl sbx -o "$TH_DIR/down1" https://bulk.test/file/payload
is "$(sha256sum <"$TH_DIR/down1" | cut -d' ' -f1)" "$sum" "CONNECT tunnel: 5 MB download arrives byte for byte"
is "$(th_curl sbx --data-binary @"$TH_DIR/files/payload" http://bulk.test/sha256 2>&1)" "$sum 5242880" \
	"forward proxy: 5 MB upload arrives byte for byte"
th_curl sbx -o "$TH_DIR/down2" http://bulk.test/file/payload
is "$(sha256sum <"$TH_DIR/down2" | cut -d' ' -f1)" "$sum" "forward proxy: 5 MB download arrives byte for byte"

# A tunnel that turns bulk while its writes to a slow upstream back up
# moves to splice from a write's completion: it must carry on, not reset.
is "$(th_pyclient sbx slow-upload bulk.test:80 5242880 1048576 2>&1)" match \
	"CONNECT tunnel: an upload that backs up behind a slow upstream arrives whole"

# Early data: a request sent in the same write as the CONNECT head.
out=$(th_client_run sbx /usr/bin/python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', 3128))
s.sendall(b'CONNECT bulk.test:80 HTTP/1.1\r\n\r\nGET /zen HTTP/1.1\r\nHost: bulk.test\r\nConnection: close\r\n\r\n')
buf = b''
while True:
    d = s.recv(65536)
    if not d: break
    buf += d
print(buf.decode().replace('\r\n', '|'))")
like "$out" '^HTTP/1.1 200 Connection Established\|\|HTTP/1.1 200 OK\|.*Anything added dilutes everything else\.$' \
	"bytes sent with the CONNECT head reach the upstream after the 200"

# Half-close: the client shuts its write side; the answer still arrives
# and the upstream's close comes back as EOF.
out=$(th_client_run sbx /usr/bin/python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', 3128))
s.sendall(b'CONNECT bulk.test:80 HTTP/1.1\r\n\r\n')
h = b''
while not h.endswith(b'\r\n\r\n'): h += s.recv(1)
s.sendall(b'GET /zen HTTP/1.1\r\nHost: bulk.test\r\n\r\n')
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
buf = b''
while True:
    d = s.recv(65536)
    if not d: break
    buf += d
print('eof', buf.split(b'\r\n\r\n', 1)[1].decode())")
is "$out" "eof Anything added dilutes everything else." "half-close: request answered, then EOF"

kill -USR1 "$(cat "$TH_DIR/proxy.pid")"
th_wait 5 grep -q '^stats ' "$TH_DIR/proxy.log"
like "$(grep '^stats ' "$TH_DIR/proxy.log" | tail -n 1)" ' active=0 ' "every relayed connection was closed"
th_proxy_stop
th_proxy_check_clean
done_testing

"""A raw HTTP client that runs inside a sandbox (python3 from the host's
/usr, copied into the sandbox by the test): exact bytes through the proxy,
and what came back, one line per response.

  tunnel.py [OPTIONS] DATA...   CONNECT HOST:PORT on the proxy, TLS inside
                                the tunnel (trusting the sandbox's CA),
                                then each DATA written as it is (Python
                                escapes such as \\r\\n and \\x00 are
                                interpreted); a DATA of "--wait" waits for
                                one more response before the next write,
                                one of "--pause FILE" waits until FILE
                                exists (30 s at most), and "--shut" ends
                                the agent's sending (shutdown SHUT_WR;
                                --plain only) and reads on
  tunnel.py [OPTIONS] ws PATH TEXT
                                a WebSocket upgrade to PATH; on 101, one
                                masked text frame with TEXT, its echo read
                                back, then a close frame

  --connect HOST:PORT   default api.github.com:443
  --proxy ADDR:PORT     default 127.0.0.1:3128
  --plain               no TLS inside the tunnel
  --direct              no CONNECT: DATA goes to the proxy itself
  --cafile FILE         default /etc/openshell-tls/openshell-ca.pem
  --show-cert           after the handshake, print "cert SUBJECT-CN issued
                        by ISSUER-CN" of the certificate the agent is served

Output: "CONNECT <status line>" when the CONNECT is refused, then for
each response "CODE SUMMARY" (SUMMARY: the "error" of a JSON body, else
the body's first line, at most 70 characters; for a body that runs to
the close, "cut short: ..." when the connection ended in an error, such
as TLS without close_notify), "echo TEXT" for a
WebSocket echo, and last "closed" (the proxy ended the connection) or
"timeout" (nothing for 10 s); "tls handshake failed: REASON" when the
TLS handshake with the proxy does not complete.
"""

import json
import os
import socket
import ssl
import sys
import time

TIMEOUT = 10


class Eof(Exception):
    pass


class Reader:
    def __init__(self, s):
        self.s = s
        self.buf = b""
        self.unclean = False    # ended by an error (no close_notify, a reset)

    def fill(self):
        try:
            d = self.s.recv(65536)
        except (ConnectionError, ssl.SSLError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise
            self.unclean = True
            raise Eof()
        if not d:
            raise Eof()
        self.buf += d

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def response(r):
    """One response: (code, summary)."""
    head = r.until(b"\r\n\r\n").decode("latin-1")
    lines = head.split("\r\n")
    code = int(lines[0].split(" ")[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k:
            hdrs[k.strip().lower()] = v.strip()
    body = b""
    if code == 101:
        return code, "upgrade"
    if code // 100 == 1 or code in (204, 304):
        return code, ""
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        while True:
            n = int(r.until(b"\r\n").split(b";")[0], 16)
            if n == 0:
                while r.until(b"\r\n") != b"\r\n":
                    pass
                break
            body += r.exact(n)
            r.exact(2)
    elif "content-length" in hdrs:
        body = r.exact(int(hdrs["content-length"]))
    else:
        try:
            while True:
                r.fill()
        except Eof:
            body, r.buf = r.buf, b""
            if r.unclean:
                return code, "cut short: " + \
                    body.decode("latin-1").split("\n", 1)[0].strip()[:40]
    text = body.decode("latin-1")
    if "json" in hdrs.get("content-type", ""):
        try:
            return code, json.loads(text).get("error", "")
        except ValueError:
            pass
    return code, text.split("\n", 1)[0].strip()[:70]


def ws_frame(text):
    data = text.encode()
    mask = os.urandom(4)
    assert len(data) < 126
    return (bytes([0x81, 0x80 | len(data)]) + mask +
            bytes(c ^ mask[i % 4] for i, c in enumerate(data)))


def main():
    args = sys.argv[1:]
    opts = {"--connect": "api.github.com:443", "--proxy": "127.0.0.1:3128",
            "--cafile": "/etc/openshell-tls/openshell-ca.pem"}
    flags = set()
    while args and args[0] in ("--connect", "--proxy", "--cafile", "--plain",
                               "--direct", "--show-cert"):
        if args[0] in ("--plain", "--direct", "--show-cert"):
            flags.add(args.pop(0))
        else:
            opts[args[0]] = args[1]
            del args[:2]
    phost, pport = opts["--proxy"].rsplit(":", 1)
    host = opts["--connect"].rsplit(":", 1)[0]
    s = socket.create_connection((phost, int(pport)), timeout=TIMEOUT)

    def emit(line):
        print(line)
        sys.stdout.flush()

    r = Reader(s)
    try:
        if "--direct" not in flags:
            s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (opts["--connect"], opts["--connect"])).encode())
            st = r.until(b"\r\n\r\n").split(b"\r\n")[0].decode("latin-1")
            if " 200 " not in st + " ":
                emit("CONNECT " + st)
                return 0
            if "--plain" not in flags:
                ctx = ssl.create_default_context(cafile=opts["--cafile"])
                # A close without close_notify is an error to report,
                # not an end of stream (Debian's default ignores it).
                ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
                try:
                    s = ctx.wrap_socket(s, server_hostname=host)
                except (ssl.SSLError, ConnectionError, OSError) as e:
                    emit("tls handshake failed: %s"
                         % (getattr(e, "reason", None) or e.__class__.__name__))
                    return 0
                r = Reader(s)
                if "--show-cert" in flags:
                    c = s.getpeercert()
                    cn = lambda name: [v for rdn in name for k, v in rdn
                                       if k == "commonName"][0]
                    emit("cert %s issued by %s" % (cn(c["subject"]),
                                                   cn(c["issuer"])))
        if args and args[0] == "ws":
            path, text = args[1], args[2]
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                       % (path, host)).encode())
            code, summary = response(r)
            emit("%d %s" % (code, summary))
            if code == 101:
                s.sendall(ws_frame(text))
                b0, b1 = r.exact(2)
                data = r.exact(b1 & 0x7F)
                emit("echo " + data.decode("latin-1"))
                s.sendall(bytes([0x88, 0x80]) + b"\0\0\0\0")
                b0, b1 = r.exact(2)
                emit("close frame" if b0 & 0x0F == 8 else "frame %d" % b0)
            while True:
                r.fill()
        pause = False
        for a in args:
            if pause:
                deadline = time.time() + 30
                while not os.path.exists(a) and time.time() < deadline:
                    time.sleep(0.05)
                pause = False
                continue
            if a == "--pause":
                pause = True
                continue
            if a == "--wait":
                code, summary = response(r)
                emit("%d %s" % (code, summary))
                continue
            if a == "--shut":
                if isinstance(s, ssl.SSLSocket):
                    sys.exit("tunnel.py: --shut needs --plain")
                s.shutdown(socket.SHUT_WR)
                continue
            try:
                s.sendall(unescape(a))
            except (ConnectionError, ssl.SSLError, BrokenPipeError):
                raise Eof()
        while True:
            code, summary = response(r)
            emit("%d %s" % (code, summary))
    except Eof:
        emit("closed" if not r.buf else
             "closed after %d bytes of an incomplete response" % len(r.buf))
    except socket.timeout:
        emit("timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main())

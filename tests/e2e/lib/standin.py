"""A stand-in upstream server for end-to-end tests (run with /usr/bin/python3).

HTTP/1.1 with keep-alive, optionally over TLS, on a test host. Every byte a
connection receives is appended, raw, to the --record file when the
connection ends (one connection's bytes at a time), so a test can check
exactly what reached the upstream.

  GET  /zen            "Anything added dilutes everything else."
  *    /echo           the request body back
  *    /head           the raw request head back
  POST /sha256         "<hex sha256 of the body> <length>"
  GET  /file/NAME      a file from --files DIR
  GET  .../tls         "tls VERSION resumed=0|1": this connection's TLS
                       version and whether its handshake resumed a session
  GET  /ws             with "Upgrade: websocket": 101, then every text or
                       binary frame echoed back (RFC 6455; the client's
                       frames are masked, ours are not) until a close
  GET  /bad/cl-te      a response with Content-Length and Transfer-Encoding
  GET  /bad/101        "101 Switching Protocols" nobody asked for
  GET  /bad/nul        a response head with a NUL byte in it
  *    any path, with "X-Standin-Early: CODE": CODE and Connection: close
                       a moment after the head, the body left unread, so
                       that closing resets the connection (an upstream
                       refusing an upload it has not taken)
  *    any path, with "X-Standin-Slow: N": the first N bytes of a
                       Content-Length body read 16 KiB at a time, 10 ms
                       apart (a slow upstream, so that the writes of
                       whoever sends to it back up), then the rest at once
  *    anything else   "ok METHOD PATH HOST\\n"

--record-dir DIR: besides --record, each connection on its own: DIR/N.open
exists from the moment the connection is accepted until DIR/N.raw (its
raw bytes, possibly empty) is written, so a test can wait until every
connection it caused has been recorded.
"""

import argparse
import base64
import hashlib
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

ZEN = b"Anything added dilutes everything else."
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock, recorder):
        self.sock = sock
        self.buf = b""
        self.slow = b""
        self.raw = recorder

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.raw.append(data)
        self.buf += data

    def read_until(self, sep, limit=65536):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise Closed()
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_slowly(conn, n):
    """Takes n bytes into conn.slow, 16 KiB at a time, 10 ms apart."""
    while n > 0:
        if not conn.buf:
            data = conn.sock.recv(min(n, 16384))
            if not data:
                raise Closed()
            conn.raw.append(data)
            conn.buf += data
        take = min(n, len(conn.buf), 16384)
        conn.slow += conn.buf[:take]
        conn.buf = conn.buf[take:]
        n -= take
        time.sleep(0.01)


def read_body(conn, headers):
    slow = headers.get("x-standin-slow", "")
    conn.slow = b""
    if slow.isdigit():
        read_slowly(conn, min(int(slow),
                              int(headers.get("content-length", "0") or "0")))
    te = headers.get("transfer-encoding", "").lower()
    if te == "chunked":
        body = b""
        while True:
            line = conn.read_until(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while conn.read_until(b"\r\n") != b"\r\n":
                    pass
                return body
            body += conn.read_exact(size)
            conn.read_until(b"\r\n")
    n = int(headers.get("content-length", "0") or "0") - len(conn.slow)
    return conn.slow + (conn.read_exact(n) if n > 0 else b"")


def websocket(conn, sock, headers):
    """The 101, then echo frames until a close frame or the end."""
    key = headers.get("sec-websocket-key", "").encode()
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                 b"\r\n\r\n")
    while True:
        b0, b1 = conn.read_exact(2)
        op, n = b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = int.from_bytes(conn.read_exact(2), "big")
        elif n == 127:
            n = int.from_bytes(conn.read_exact(8), "big")
        mask = conn.read_exact(4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(conn.read_exact(n)))
        if op == 8:
            sock.sendall(b"\x88\x00")
            return False
        if op == 9:
            op = 10
        if n < 126:
            hdr = bytes([0x80 | op, n])
        else:
            hdr = bytes([0x80 | op, 126]) + n.to_bytes(2, "big")
        sock.sendall(hdr + data)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        opts = self.server.opts
        sock = self.request
        raw = []
        seq = None
        if opts.record_dir:
            with self.server.lock:
                self.server.seq += 1
                seq = self.server.seq
            open(os.path.join(opts.record_dir, "%d.open" % seq), "w").close()
        try:
            if opts.tls_cert:
                sock = self.server.tls.wrap_socket(sock, server_side=True)
            conn = Conn(sock, raw)
            while self.one_request(conn, sock):
                pass
        except Closed:
            pass
        except (ConnectionError, ssl.SSLError, OSError, ValueError) as e:
            # Tests provoke many of these on purpose; the log says which.
            print("standin: %s: %r" % (self.client_address[0], e),
                  file=sys.stderr, flush=True)
        finally:
            if opts.record and raw:
                with self.server.lock, open(opts.record, "ab") as f:
                    f.write(b"".join(raw))
            if seq is not None:
                base = os.path.join(opts.record_dir, "%d" % seq)
                with open(base + ".tmp", "wb") as f:
                    f.write(b"".join(raw))
                os.rename(base + ".tmp", base + ".raw")
                os.unlink(base + ".open")
            try:
                sock.close()
            except OSError:
                pass

    def one_request(self, conn, sock):
        head = conn.read_until(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, target, version = lines[0].decode("latin-1").split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        early = headers.get("x-standin-early", "")
        if early.isdigit():
            # Let the agent's upload fill every buffer on the way first.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            time.sleep(0.3)
            sock.sendall(("HTTP/1.1 %s Early\r\nContent-Length: 6\r\n"
                          "Connection: close\r\n\r\nearly\n" % early).encode())
            return False
        body = read_body(conn, headers)
        path = target.split("?", 1)[0]
        status = "200 OK"
        ctype = "text/plain"
        if (path == "/ws" and method == "GET"
                and headers.get("upgrade", "").lower() == "websocket"):
            return websocket(conn, sock, headers)
        if path == "/bad/cl-te":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            return False
        if path == "/bad/nul":
            sock.sendall(b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n")
            return False
        if path.endswith("/interim"):
            # Early hints first, whatever the request's version (a server
            # must not send them to HTTP/1.0; the proxy must not pass them).
            sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n")
        if path.endswith("/close-body"):
            # A body delimited by the close; over TLS the clean one ends
            # with close_notify, the other with a bare TCP close.
            sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                         b"until the close\n")
            if not path.startswith("/bad/") and isinstance(sock, ssl.SSLSocket):
                sock.settimeout(2)
                try:
                    sock.unwrap()
                except (ssl.SSLError, OSError):
                    pass
            return False
        if path == "/bad/101":
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
            return False
        if path == "/zen":
            out = ZEN
        elif path == "/echo":
            out = body
            ctype = "application/octet-stream"
        elif path == "/head":
            out = head
        elif path == "/sha256":
            out = ("%s %d" % (hashlib.sha256(body).hexdigest(), len(body))).encode()
        elif path.endswith("/tls") and isinstance(sock, ssl.SSLSocket):
            out = ("tls %s resumed=%d\n"
                   % (sock.version(), int(sock.session_reused))).encode()
        elif path.startswith("/file/") and self.server.opts.files:
            name = os.path.basename(path[6:])
            try:
                with open(os.path.join(self.server.opts.files, name), "rb") as f:
                    out = f.read()
                ctype = "application/octet-stream"
            except OSError:
                status, out = "404 Not Found", b"not found\n"
        else:
            out = ("ok %s %s %s\n" % (method, path, headers.get("host", ""))).encode()
        close = (headers.get("connection", "").lower() == "close"
                 or version == "HTTP/1.0")
        resp = ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                % (status, ctype, len(out),
                   "Connection: close\r\n" if close else "")).encode()
        sock.sendall(resp if method == "HEAD" else resp + out)
        return not close


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    address_family = socket.AF_INET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--record")
    ap.add_argument("--record-dir")
    ap.add_argument("--files")
    ap.add_argument("--ready")
    opts = ap.parse_args()
    srv = Server((opts.bind, opts.port), Handler)
    srv.opts = opts
    srv.lock = threading.Lock()
    srv.seq = 0
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        srv.tls = ctx
    if opts.ready:
        with open(opts.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

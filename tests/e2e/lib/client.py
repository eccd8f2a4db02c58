"""Small proxy clients for end-to-end tests (run with /usr/bin/python3).

  client.py raw TEXT        send TEXT (Python escapes such as \\r\\n are
                            interpreted) to the proxy, print the whole
                            answer until the proxy closes
  client.py connect HOST:PORT
                            CONNECT and print the status line and body
  client.py probe HOST:PORT DIR
                            CONNECT, then a plain HTTP GET /zen through
                            the tunnel; wait for DIR/go; a second GET on
                            the same tunnel; print what happened each time
  client.py slow-upload HOST:PORT N SLOW
                            CONNECT, then POST /sha256 of N random bytes to
                            a stand-in that reads the first SLOW of them
                            slowly (X-Standin-Slow): those go in 8 KiB
                            writes 1 ms apart, so that the proxy's reads
                            stay short until the upstream has backed up,
                            the rest at once; prints "match" when the
                            stand-in's hash and length are the body's, else
                            what came back
  client.py flood HOST:PORT N
                            N CONNECTs one after another, each on a
                            connection of its own and read to the end;
                            prints how many the proxy answered 403
  --proxy ADDR:PORT         default 127.0.0.1:3128
"""

import hashlib
import os
import socket
import sys
import time


def proxy_addr(args):
    if "--proxy" in args:
        i = args.index("--proxy")
        host, port = args[i + 1].rsplit(":", 1)
        del args[i:i + 2]
        return host, int(port)
    return "127.0.0.1", 3128


def read_all(s, timeout=10):
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionError):
        pass
    return out


def read_response(s):
    """One HTTP response with a Content-Length body, or None on EOF/reset."""
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return None
            buf += d
        head, _, body = buf.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(body) < n:
            d = s.recv(4096)
            if not d:
                return None
            body += d
        return head.split(b"\r\n")[0].decode(), body[:n].decode("latin-1")
    except (ConnectionError, socket.timeout):
        return None


def read_head(s):
    """The head of the proxy's answer to a CONNECT; None if it closes first."""
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            return None
        head += d
    return head


def slow_upload(s, target, n, slow):
    body = os.urandom(n)
    head = read_head(s)
    status = head.split(b"\r\n")[0].decode() if head else "closed"
    if b" 200 " not in (head or b"").split(b"\r\n")[0]:
        print("connect: " + status)
        return 1
    host = target.rsplit(":", 1)[0]
    s.sendall(("POST /sha256 HTTP/1.1\r\nHost: %s\r\nX-Standin-Slow: %d\r\n"
               "Connection: close\r\nContent-Length: %d\r\n\r\n"
               % (host, slow, n)).encode())
    for i in range(0, slow, 8192):
        s.sendall(body[i:i + 8192])
        time.sleep(0.001)
    s.sendall(body[slow:])
    got = read_all(s, 30).split(b"\r\n\r\n", 1)[-1].decode("latin-1")
    want = "%s %d" % (hashlib.sha256(body).hexdigest(), n)
    print("match" if got == want else "got: " + got[:200])
    return 0


def flood(addr, target, n):
    req = ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode()
    denied = 0
    for _ in range(n):
        with socket.create_connection(addr, timeout=10) as s:
            s.sendall(req)
            if read_all(s).startswith(b"HTTP/1.1 403 "):
                denied += 1
    print("denied %d" % denied)
    return 0


def main():
    args = sys.argv[1:]
    addr = proxy_addr(args)
    cmd = args[0]
    if cmd == "flood":
        return flood(addr, args[1], int(args[2]))
    s = socket.create_connection(addr, timeout=10)
    if cmd == "raw":
        s.sendall(args[1].encode("latin-1").decode("unicode_escape").encode("latin-1"))
        sys.stdout.write(read_all(s).decode("latin-1"))
        return 0
    target = args[1]
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
    if cmd == "connect":
        sys.stdout.write(read_all(s, 5).decode("latin-1"))
        return 0
    if cmd == "slow-upload":
        return slow_upload(s, target, int(args[2]), int(args[3]))
    # probe
    head = read_head(s)
    if head is None:
        print("connect: closed")
        return 1
    print("connect: " + head.split(b"\r\n")[0].decode())
    if b" 200 " not in head.split(b"\r\n")[0]:
        return 1
    host = target.rsplit(":", 1)[0]
    req = ("GET /zen HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode()
    s.sendall(req)
    r = read_response(s)
    print("first: " + ("%s %s" % r if r else "closed"))
    sys.stdout.flush()
    d = args[2]
    with open(os.path.join(d, "ready"), "w"):
        pass
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(d, "go")) and time.time() < deadline:
        time.sleep(0.05)
    try:
        s.sendall(req)
        r = read_response(s)
    except OSError:
        r = None
    print("second: " + ("%s %s" % r if r else "closed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

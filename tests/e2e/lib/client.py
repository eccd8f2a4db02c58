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
  --proxy ADDR:PORT         default 127.0.0.1:3128
"""

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


def main():
    args = sys.argv[1:]
    addr = proxy_addr(args)
    cmd = args[0]
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
    # probe
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            print("connect: closed")
            return 1
        head += d
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

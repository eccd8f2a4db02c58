"""What reached a stand-in upstream, against what the proxy decided (run
with /usr/bin/python3 on the host).

  l7rec.py requests DIR [FIRST]
        one line "METHOD TARGET" per request in DIR/N.raw (the stand-in's
        --record-dir), N >= FIRST, in order; "garbage: ..." where the bytes
        are not a request (the parse of that connection stops there)
  l7rec.py decisions LOG HOST PORT
        one line "DECISION METHOD PATH" per l7_decision line of LOG
        (`openshell logs --json`-less text) for HOST:PORT
  l7rec.py compare DIR LOG HOST PORT
        every request that reached the upstream must match one decision
        that let it through (allow, audit, allow_permissive: method and
        path, the query left out as in the log) and every such decision
        one request; prints what is left over on either side, exit 1 if
        anything is
"""

import collections
import glob
import os
import re
import sys


def parse_conn(data):
    """Requests in one connection's bytes (an offset walks them: slicing
    off each request would copy the rest, quadratic on a long keep-alive
    connection)."""
    out = []
    pos, end = 0, len(data)
    while pos < end:
        i = data.find(b"\r\n\r\n", pos)
        if i < 0:
            out.append("garbage: %r" % data[pos:pos + 60])
            break
        head, pos = data[pos:i].decode("latin-1"), i + 4
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            out.append("garbage: %r" % lines[0][:60])
            break
        hdrs = collections.defaultdict(list)
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()].append(v.strip())
        out.append("%s %s" % (parts[0], parts[1]))
        te = ",".join(hdrs.get("transfer-encoding", [])).lower()
        if "websocket" in ",".join(hdrs.get("upgrade", [])).lower():
            break                      # frames follow, if it upgraded
        if te == "chunked":
            while True:
                j = data.find(b"\r\n", pos)
                if j < 0:
                    return out
                try:
                    n = int(data[pos:j].split(b";")[0], 16)
                except ValueError:
                    out.append("garbage: bad chunk %r" % data[pos:pos + 40])
                    return out
                pos = j + 2
                if n == 0:
                    if data.startswith(b"\r\n", pos):
                        pos += 2
                    else:
                        k = data.find(b"\r\n\r\n", pos)
                        pos = k + 4 if k >= 0 else pos + 2
                    break
                pos += n + 2
        elif hdrs.get("content-length"):
            pos += int(hdrs["content-length"][-1])
    return out


def requests(d, first=0):
    files = []
    for f in glob.glob(os.path.join(d, "*.raw")):
        n = int(os.path.basename(f).split(".")[0])
        if n >= first:
            files.append((n, f))
    out = []
    for _, f in sorted(files):
        with open(f, "rb") as fh:
            out += parse_conn(fh.read())
    return out


KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def decisions(log, host, port):
    out = []
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if "l7_decision=" not in line:
                continue
            kv = {}
            for k, v in KV.findall(line):
                kv.setdefault(k, v.strip('"'))
            if kv.get("dst_host") != host or kv.get("dst_port") != str(port):
                continue
            out.append("%s %s %s" % (kv["l7_decision"], kv.get("l7_action", "-"),
                                     kv.get("l7_target", "-")))
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "requests":
        for r in requests(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0):
            print(r)
        return 0
    if cmd == "decisions":
        for d in decisions(*sys.argv[2:5]):
            print(d)
        return 0
    d, log, host, port = sys.argv[2:6]
    got = collections.Counter()
    for r in requests(d):
        if r.startswith("garbage"):
            got[r] += 1
        else:
            m, t = r.split(" ", 1)
            got["%s %s" % (m, t.split("?", 1)[0])] += 1
    let = collections.Counter()
    for x in decisions(log, host, port):
        dec, rest = x.split(" ", 1)
        if dec in ("allow", "audit", "allow_permissive"):
            let[rest] += 1
    bad = 0
    for k, n in sorted((got - let).items()):
        print("reached upstream without a decision: %s (x%d)" % (k, n))
        bad = 1
    for k, n in sorted((let - got).items()):
        print("let through but never reached upstream: %s (x%d)" % (k, n))
        bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())

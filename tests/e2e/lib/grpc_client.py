"""An independent gRPC client of the gateway, for end-to-end tests: Debian's
python3-grpcio and python3-protobuf with modules protoc generated from
proto/*.proto at test time (nothing here is shared with the C code), so a
test that passes through it proves wire compatibility.

    grpc_client.py --pb DIR [connection options] COMMAND ARGS...

Connection (default: unix:<state>/gateway.sock with the operator token of
<state>/operator.token):
  --state DIR          the gateway's state directory
  --target T           "unix:/path" or "host:port"
  --token HEX          present this bearer token instead
  --no-token           present none
  --tls-ca F [--tls-cert F --tls-key F] [--server-name N]
                       TLS (mTLS with a client certificate) for TCP
  --timeout S          per-call deadline (default 10)

Commands:
  call METHOD [JSON]   a unary call to /openshell.v1.OpenShell/METHOD; prints
                       the response as one JSON line (proto field names,
                       defaults included), or "STATUS_NAME: details" and
                       exits 1
  raw PATH [HEX]       a unary call to any method path with a raw body
                       (hex; default empty); prints "OK" or
                       "STATUS_NAME: details"
  watch JSON [--count N] [--duration S] [--ready FILE] [--brief]
                       WatchSandbox; one JSON line per event with
                       "_recv_ms" (wall clock at receipt), until N events,
                       S seconds (default 10) or the end of the stream; the
                       last line is "END STATUS_NAME: details" (or
                       "END COUNT"/"END TIMEOUT"). --brief: only "SEQ KIND"
                       per event ("SEQ warning resync MESSAGE" for warnings)
  stall JSON --ready FILE --go FILE [--duration S]
                       WatchSandbox without reading: open the stream, touch
                       FILE, read nothing until the go file exists, then
                       print what arrives as `watch` does
  burst SANDBOX N      N setting changes of SANDBOX on one channel, as fast
                       as the gateway acknowledges them; prints how many
  push-logs SANDBOX_ID N SIZE
                       PushSandboxLogs (with a sandbox's --token): N lines
                       whose messages are SIZE bytes ("n=000001 AAAA..."),
                       in pushes of at most 4 MiB; prints how many were
                       accepted, or the status of the push that failed
  exec SANDBOX ARGV... ExecSandbox through the gateway: stdin is sent, stdout
                       and stderr are copied, the exit code becomes ours
  find-token PID SANDBOX_ID
                       scan PID's readable and writable memory for 64-hex
                       strings; print the one that GetSandboxConfig accepts
                       as a sandbox credential for SANDBOX_ID (and how many
                       candidates were tried on stderr); exits 1 if none
  revisions            every stored revision of every sandbox, one line
                       each: NAME VERSION STATUS HASH SHA256(policy_yaml)
                       HOST,HOST... (the endpoints' hosts)
  writers DIR --threads N --sandboxes A,B,.. [--creates PREFIX]
                       concurrent writes until the gateway goes away:
                       thread i writes policies (and, with --creates, makes
                       new sandboxes) and settings of sandbox i; before
                       each call it appends "sent ..." and after each
                       acknowledgement "ack ..." to DIR/writer-i.log
                       (fsync'd). Touches DIR/ready after the first acks.
"""

import json
import os
import re
import sys
import threading
import time

import grpc

SERVICE = "/openshell.v1.OpenShell/"


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


class Args:
    def __init__(self, argv):
        self.pb = None
        self.state = None
        self.target = None
        self.token = None
        self.no_token = False
        self.tls_ca = self.tls_cert = self.tls_key = None
        self.server_name = None
        self.timeout = 10.0
        i = 0
        while i < len(argv) and argv[i].startswith("--"):
            opt = argv[i]
            if opt == "--no-token":
                self.no_token = True
                i += 1
                continue
            if i + 1 >= len(argv):
                die("missing value for " + opt)
            val = argv[i + 1]
            i += 2
            if opt == "--pb":
                self.pb = val
            elif opt == "--state":
                self.state = val
            elif opt == "--target":
                self.target = val
            elif opt == "--token":
                self.token = val
            elif opt == "--tls-ca":
                self.tls_ca = val
            elif opt == "--tls-cert":
                self.tls_cert = val
            elif opt == "--tls-key":
                self.tls_key = val
            elif opt == "--server-name":
                self.server_name = val
            elif opt == "--timeout":
                self.timeout = float(val)
            else:
                die("unknown option " + opt)
        self.rest = argv[i:]
        if self.pb is None:
            die("--pb DIR is required")
        sys.path.insert(0, self.pb)
        if self.target is None:
            if self.state is None:
                die("--state or --target is required")
            self.target = "unix:" + os.path.join(self.state, "gateway.sock")
        if self.token is None and not self.no_token and self.tls_cert is None:
            if self.state is None:
                die("--token, --no-token or --state is required")
            with open(os.path.join(self.state, "operator.token")) as f:
                self.token = f.read().strip()
        if self.no_token:
            self.token = None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def channel(a, small_window=False):
    opts = [("grpc.max_receive_message_length", 64 << 20)]
    if small_window:
        # A client that reads slowly and never grows its receive window
        # (no BDP probing): the gateway's sends back up at once.
        opts += [("grpc.http2.bdp_probe", 0),
                 ("grpc.http2.lookahead_bytes", 16384)]
    if a.tls_ca is not None:
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(a.tls_ca),
            private_key=read(a.tls_key) if a.tls_key else None,
            certificate_chain=read(a.tls_cert) if a.tls_cert else None)
        if a.server_name:
            opts.append(("grpc.ssl_target_name_override", a.server_name))
        return grpc.secure_channel(a.target, creds, options=opts)
    return grpc.insecure_channel(a.target, options=opts)


def metadata(a):
    return [("authorization", "Bearer " + a.token)] if a.token else []


def pb():
    import openshell_pb2  # noqa: generated at test time
    import sandbox_pb2  # noqa
    return openshell_pb2, sandbox_pb2


def method_types(name):
    """Request and response classes of an OpenShell method, from the
    generated descriptors."""
    from google.protobuf import symbol_database
    openshell_pb2, _ = pb()
    svc = openshell_pb2.DESCRIPTOR.services_by_name["OpenShell"]
    m = svc.methods_by_name.get(name)
    if m is None:
        die("no method %s in proto/openshell.proto" % name)
    db = symbol_database.Default()
    return (db.GetSymbol(m.input_type.full_name),
            db.GetSymbol(m.output_type.full_name))


def to_json(msg):
    from google.protobuf import json_format
    return json.dumps(json_format.MessageToDict(
        msg, preserving_proto_field_name=True,
        including_default_value_fields=True), separators=(",", ":"))


def from_json(text, cls):
    from google.protobuf import json_format
    return json_format.Parse(text or "{}", cls())


def status_line(e):
    return "%s: %s" % (e.code().name, e.details())


def unary(a, ch, name, req, resp_cls, token=None):
    fn = ch.unary_unary(SERVICE + name,
                        request_serializer=lambda m: m.SerializeToString(),
                        response_deserializer=resp_cls.FromString)
    md = [("authorization", "Bearer " + token)] if token else metadata(a)
    return fn(req, metadata=md, timeout=a.timeout)


# ---------------------------------------------------------------------------

def cmd_call(a, args):
    if not args:
        die("call METHOD [JSON]")
    req_cls, resp_cls = method_types(args[0])
    req = from_json(args[1] if len(args) > 1 else "{}", req_cls)
    with channel(a) as ch:
        try:
            resp = unary(a, ch, args[0], req, resp_cls)
        except grpc.RpcError as e:
            print(status_line(e))
            return 1
    print(to_json(resp))
    return 0


def cmd_raw(a, args):
    if len(args) not in (1, 2):
        die("raw PATH [HEX]")
    body = bytes.fromhex(args[1]) if len(args) > 1 else b""
    with channel(a) as ch:
        fn = ch.unary_unary(args[0], request_serializer=lambda b: b,
                            response_deserializer=lambda b: b)
        try:
            fn(body, metadata=metadata(a), timeout=a.timeout)
        except grpc.RpcError as e:
            print(status_line(e))
            return 1
    print("OK")
    return 0


def opt(args, name, default=None, conv=str):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return conv(v)
    return default


def watch_stream(a, ch, req_json):
    openshell_pb2, _ = pb()
    req = from_json(req_json, openshell_pb2.WatchSandboxRequest)
    fn = ch.unary_stream(SERVICE + "WatchSandbox",
                         request_serializer=lambda m: m.SerializeToString(),
                         response_deserializer=openshell_pb2.SandboxStreamEvent.FromString)
    return fn(req, metadata=metadata(a))


def brief(ev):
    kind = ev.WhichOneof("payload")
    if kind == "warning":
        return "%d warning %s %s" % (ev.seq, "resync" if ev.warning.resync else "-",
                                      ev.warning.message)
    return "%d %s" % (ev.seq, kind)


def print_events(it, count, duration, short=False):
    """Prints events until count, a deadline or the end of the stream."""
    n = 0
    result = ["END TIMEOUT"]
    done = threading.Event()

    def reader():
        nonlocal n
        try:
            for ev in it:
                if short:
                    sys.stdout.write(brief(ev) + "\n")
                else:
                    line = json.loads(to_json(ev))
                    line["_recv_ms"] = int(time.time() * 1000)
                    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
                sys.stdout.flush()
                n += 1
                if count and n >= count:
                    result[0] = "END COUNT"
                    break
            else:
                result[0] = "END OK: "
        except grpc.RpcError as e:
            if not done.is_set():
                result[0] = "END " + status_line(e)
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    done.wait(duration)
    done.set()
    it.cancel()
    t.join(5)
    print(result[0])
    sys.stdout.flush()
    return 0


def cmd_watch(a, args):
    count = opt(args, "--count", 0, int)
    duration = opt(args, "--duration", 10.0, float)
    ready = opt(args, "--ready")
    short = "--brief" in args
    if short:
        args.remove("--brief")
    if len(args) != 1:
        die("watch JSON [--count N] [--duration S] [--ready FILE] [--brief]")
    with channel(a) as ch:
        it = watch_stream(a, ch, args[0])
        if ready:
            # The stream is established once its initial metadata is in.
            try:
                it.initial_metadata()
            except grpc.RpcError:
                pass
            open(ready, "w").close()
        return print_events(it, count, duration, short)


def cmd_stall(a, args):
    ready = opt(args, "--ready")
    go = opt(args, "--go")
    short = "--brief" in args
    if short:
        args.remove("--brief")
    duration = opt(args, "--duration", 10.0, float)
    if len(args) != 1 or not ready or not go:
        die("stall JSON --ready FILE --go FILE")
    with channel(a, small_window=True) as ch:
        it = watch_stream(a, ch, args[0])
        it.initial_metadata()
        open(ready, "w").close()
        deadline = time.time() + 300
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.05)
        return print_events(it, 0, duration, short)


def cmd_push_logs(a, args):
    if len(args) != 3:
        die("push-logs SANDBOX_ID N SIZE")
    openshell_pb2, _ = pb()
    n, size = int(args[1]), int(args[2])
    per = max(1, (4 << 20) // (size + 64))
    done = 0
    with channel(a) as ch:
        while done < n:
            k = min(per, n - done)
            lines = [openshell_pb2.SandboxLogLine(
                level="info", target="push",
                message=("n=%06d " % (done + i + 1)).ljust(size, "A"))
                for i in range(k)]
            try:
                r = unary(a, ch, "PushSandboxLogs",
                          openshell_pb2.PushSandboxLogsRequest(
                              sandbox_id=args[0], lines=lines),
                          openshell_pb2.PushSandboxLogsResponse)
            except grpc.RpcError as e:
                print(status_line(e))
                return 1
            done += r.accepted
    print(done)
    return 0


def cmd_burst(a, args):
    if len(args) != 2:
        die("burst SANDBOX N")
    openshell_pb2, sandbox_pb2 = pb()
    n = 0
    with channel(a) as ch:
        for i in range(int(args[1])):
            try:
                unary(a, ch, "UpdateConfig",
                      openshell_pb2.UpdateConfigRequest(
                          name=args[0], setting_key="draft_pending_cap",
                          setting_value=sandbox_pb2.SettingValue(int_value=1 + i % 900)),
                      openshell_pb2.UpdateConfigResponse)
                n += 1
            except grpc.RpcError as e:
                print(status_line(e))
                break
    print(n)
    return 0 if n == int(args[1]) else 1


def cmd_exec(a, args):
    if len(args) < 2:
        die("exec SANDBOX ARGV...")
    _, sandbox_pb2 = pb()
    C = sandbox_pb2.ExecClientMessage
    S = sandbox_pb2.ExecServerMessage
    data = sys.stdin.buffer.read()

    def requests():
        yield C(start=sandbox_pb2.ExecStart(sandbox=args[0], argv=args[1:]))
        for i in range(0, len(data), 16384):
            yield C(stdin=data[i:i + 16384])
        yield C(stdin_close=True)

    code = 1
    with channel(a) as ch:
        fn = ch.stream_stream(SERVICE + "ExecSandbox",
                              request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=S.FromString)
        try:
            for m in fn(requests(), metadata=metadata(a), timeout=60):
                kind = m.WhichOneof("msg")
                if kind == "stdout":
                    sys.stdout.buffer.write(m.stdout)
                elif kind == "stderr":
                    sys.stderr.buffer.write(m.stderr)
                elif kind == "exit":
                    code = m.exit.code
                elif kind == "error":
                    print("error: " + m.error, file=sys.stderr)
        except grpc.RpcError as e:
            print(status_line(e))
            return 1
    sys.stdout.flush()
    return code


HEX64 = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def memory_candidates(pid):
    """Every distinct 64-hex-digit string in PID's rw memory."""
    found = []
    seen = set()
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            if not parts[1].startswith("rw"):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo > (256 << 20):
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            for m in HEX64.finditer(chunk):
                s = m.group(0).decode()
                if s not in seen:
                    seen.add(s)
                    found.append(s)
    return found


def cmd_find_token(a, args):
    if len(args) != 2:
        die("find-token PID SANDBOX_ID")
    pid, sandbox_id = int(args[0]), args[1]
    _, sandbox_pb2 = pb()
    cands = memory_candidates(pid)
    tried = 0
    with channel(a) as ch:
        for c in cands:
            if c == a.token:      # the operator token is not what we look for
                continue
            tried += 1
            try:
                resp = unary(a, ch, "GetSandboxConfig",
                             sandbox_pb2.GetSandboxConfigRequest(sandbox_id=sandbox_id),
                             sandbox_pb2.GetSandboxConfigResponse, token=c)
            except grpc.RpcError:
                continue
            if resp.sandbox_id == sandbox_id:
                print("%d candidates, %d tried" % (len(cands), tried), file=sys.stderr)
                print(c)
                return 0
    print("%d candidates, %d tried, none accepted" % (len(cands), tried),
          file=sys.stderr)
    return 1


def cmd_revisions(a, args):
    import hashlib
    openshell_pb2, _ = pb()
    with channel(a) as ch:
        sbs = unary(a, ch, "ListSandboxes", openshell_pb2.ListSandboxesRequest(),
                    openshell_pb2.ListSandboxesResponse).sandboxes
        for sb in sbs:
            revs = unary(a, ch, "ListSandboxPolicies",
                         openshell_pb2.ListSandboxPoliciesRequest(name=sb.name, limit=100000),
                         openshell_pb2.ListSandboxPoliciesResponse).revisions
            for r in sorted(revs, key=lambda r: r.version):
                full = unary(a, ch, "GetSandboxPolicyStatus",
                             openshell_pb2.GetSandboxPolicyStatusRequest(
                                 name=sb.name, version=r.version, include_policy=True),
                             openshell_pb2.GetSandboxPolicyStatusResponse).revision
                hosts = sorted(e.host for rule in full.policy.network_policies.values()
                               for e in rule.endpoints)
                print(sb.name, full.version,
                      openshell_pb2.PolicyStatus.Name(full.status),
                      full.policy_hash,
                      hashlib.sha256(full.policy_yaml.encode()).hexdigest(),
                      ",".join(hosts) or "-")
    return 0


def cmd_writers(a, args):
    threads = opt(args, "--threads", 3, int)
    sandboxes = opt(args, "--sandboxes", "").split(",")
    creates = opt(args, "--creates")
    if len(args) != 1 or len(sandboxes) < threads:
        die("writers DIR --threads N --sandboxes A,B,... [--creates PREFIX]")
    outdir = args[0]
    openshell_pb2, sandbox_pb2 = pb()
    ch = channel(a)
    acks = [0] * threads
    ready_once = threading.Lock()

    def log(f, line):
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())

    def worker(i):
        sb = sandboxes[i]
        with open(os.path.join(outdir, "writer-%d.log" % i), "a") as f:
            n = 0
            while True:
                n += 1
                kind = n % 4
                try:
                    if kind in (1, 2):
                        host = "w%d-%d.test" % (i, n)
                        yaml = ("version: 1\nnetwork_policies:\n  r:\n"
                                "    name: r\n    endpoints:\n"
                                "      - { host: %s, port: 443 }\n"
                                "    binaries:\n      - { path: /usr/bin/curl }\n"
                                % host)
                        log(f, "sent policy %s %s" % (sb, host))
                        r = unary(a, ch, "UpdateConfig",
                                  openshell_pb2.UpdateConfigRequest(
                                      name=sb, policy_yaml=yaml),
                                  openshell_pb2.UpdateConfigResponse)
                        log(f, "ack policy %s %s %d %s" % (sb, host, r.version,
                                                            r.policy_hash))
                    elif kind == 3:
                        v = 1 + n % 900
                        log(f, "sent setting %s draft_pending_cap %d" % (sb, v))
                        unary(a, ch, "UpdateConfig",
                              openshell_pb2.UpdateConfigRequest(
                                  name=sb, setting_key="draft_pending_cap",
                                  setting_value=sandbox_pb2.SettingValue(int_value=v)),
                              openshell_pb2.UpdateConfigResponse)
                        log(f, "ack setting %s draft_pending_cap %d" % (sb, v))
                    elif creates and n % 16 == 0:
                        name = "%s-%d-%d" % (creates, i, n)
                        log(f, "sent create %s" % name)
                        r = unary(a, ch, "CreateSandbox",
                                  openshell_pb2.CreateSandboxRequest(
                                      name=name, spec=openshell_pb2.SandboxSpec(keep=True)),
                                  openshell_pb2.CreateSandboxResponse)
                        log(f, "ack create %s %s" % (name, r.sandbox.id))
                    else:
                        continue
                except grpc.RpcError as e:
                    log(f, "error " + status_line(e).replace("\n", " "))
                    if e.code() in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED,
                                    grpc.StatusCode.CANCELLED,
                                    grpc.StatusCode.UNKNOWN):
                        return
                    continue
                acks[i] += 1
                if all(x >= 4 for x in acks):
                    with ready_once:
                        p = os.path.join(outdir, "ready")
                        if not os.path.exists(p):
                            open(p, "w").close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ch.close()
    return 0


COMMANDS = {
    "call": cmd_call,
    "raw": cmd_raw,
    "watch": cmd_watch,
    "stall": cmd_stall,
    "push-logs": cmd_push_logs,
    "burst": cmd_burst,
    "exec": cmd_exec,
    "find-token": cmd_find_token,
    "revisions": cmd_revisions,
    "writers": cmd_writers,
}


def main():
    a = Args(sys.argv[1:])
    if not a.rest or a.rest[0] not in COMMANDS:
        die(__doc__)
    return COMMANDS[a.rest[0]](a, a.rest[1:])


if __name__ == "__main__":
    sys.exit(main())

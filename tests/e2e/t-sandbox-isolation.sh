#!/bin/bash
# A real sandbox, tried with what an unprivileged agent could otherwise
# do: it runs as the sandbox user under seccomp (mode 2), cannot make
# namespaces, use clone3, io_uring, userfaultfd, ptrace or pidfd_getfd,
# nor type into a terminal (TIOCSTI, however spelt), nor take more than
# 256 of the host's ptys; Landlock
# refuses a write the file permissions would allow; the host's state
# directory and other sandboxes are not there; the sandbox token's bytes
# are nowhere the agent can read; hard_requirement works on this kernel.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/gateway.sh"
th_init sbiso

th_gateway_start || bail "gateway start"
a=$(th_sbname iso-a)
b=$(th_sbname iso-b)
th_sb_create "$a" || bail "sandbox $a"
th_sb_create "$b" || bail "sandbox $b"

# sx CMD: a shell command in sandbox a, output and status.
sx() { os sandbox exec -n "$a" -- sh -c "$1" 2>&1; }
# py CODE: python3 in sandbox a.
py() { os sandbox exec -n "$a" -- python3 -c "$1" 2>&1; }

out=$(sx 'id -un; id -u')
like "$out" '^sandbox'$'\n''[1-9][0-9]*$' "agent processes run as the sandbox user, not root"
is "$(sx 'grep "^Seccomp:" /proc/self/status')" $'Seccomp:\t2' "seccomp filter mode (Seccomp: 2)"
is "$(sx 'grep "^NoNewPrivs:" /proc/self/status')" $'NoNewPrivs:\t1' "no_new_privs is set"

out=$(sx 'unshare -U true; echo rc=$?')
like "$out" 'Operation not permitted' "unshare(CLONE_NEWUSER) is refused with EPERM"
like "$out" 'rc=[1-9]' "unshare -U fails"
out=$(sx 'unshare -n true; echo rc=$?')
like "$out" 'Operation not permitted' "unshare(CLONE_NEWNET) is refused"

# Raw system calls: the result and errno, as the kernel reports them.
SYSCALL='import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
nr = int(sys.argv[1]); args = [ctypes.c_long(int(x, 0)) for x in sys.argv[2:]]
r = libc.syscall(ctypes.c_long(nr), *args)
print(r, ctypes.get_errno())'
sc() { os sandbox exec -n "$a" -- python3 -c "$SYSCALL" "$@" 2>&1; }
is "$(sc 435 0 0)" "-1 38" "clone3 answers ENOSYS (38)"
is "$(sc 425 1 0)" "-1 1" "io_uring_setup is refused with EPERM"
is "$(sc 323 0)" "-1 1" "userfaultfd is refused with EPERM"
is "$(sc 321 0 0 0)" "-1 1" "bpf is refused with EPERM"
# With no filter, fd -1 would answer EBADF (9): EPERM is the filter's.
is "$(sc 438 -1 0 0)" "-1 1" "pidfd_getfd (another process's descriptors) is refused with EPERM"
is "$(sc 440 -1 0 0 0 0)" "-1 1" "process_madvise is refused with EPERM"
is "$(sc 16 -1 0x5412 0)" "-1 1" "ioctl TIOCSTI (typing into a shared terminal) is refused with EPERM"
is "$(sc 16 -1 0x100005412 0)" "-1 1" "... also with bits above the 32 the kernel reads set"
is "$(sc 16 -1 0x541C 0)" "-1 1" "ioctl TIOCLINUX is refused with EPERM"
is "$(sc 16 -1 0x5413 0)" "-1 9" "other ioctls reach the kernel (TIOCGWINSZ on fd -1: EBADF)"
out=$(py 'import os
n = 0
fds = []
try:
    while n < 5000:
        fds += os.openpty()
        n += 1
except OSError as e:
    print(n, e.errno)')
is "$out" "256 28" "the sandbox's own devpts holds 256 terminals, not the host's whole pty.max"

out=$(py 'import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    time.sleep(5); os._exit(0)
r = libc.ptrace(16, pid, 0, 0)   # PTRACE_ATTACH on our own child
print(r, ctypes.get_errno())
os.kill(pid, 9)')
is "$out" "-1 1" "ptrace of its own child is refused with EPERM"

out=$(py 'import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("raw socket made")
except OSError as e:
    print(e.errno)')
is "$out" "1" "raw sockets are refused with EPERM"

# Filesystem: the mounts and Landlock.
out=$(sx 'touch /usr/x 2>&1; echo rc=$?')
like "$out" 'Read-only file system' "system directories are mounted read-only"
out=$(sx 'echo ok > /sandbox/f && cat /sandbox/f; echo t > /tmp/t && cat /tmp/t')
is "$out" "ok${NL}t" "/sandbox and /tmp are writable"
is "$(sx "test -e '$OPENSHELL_STATE_DIR' && echo visible || echo absent")" "absent" \
	"the gateway's state directory is not in the sandbox"
is "$(sx 'test -e /var/lib/openshell && echo visible || echo absent')" "absent" \
	"/var/lib/openshell is not in the sandbox"
idb=$(th_sb_field "$b" .id)
out=$(sx "find / -xdev -name '$idb*' 2>/dev/null | head -1; ls /proc | grep -c '^[0-9]'")
unlike "$out" "$idb" "another sandbox's files are not in the sandbox"
out=$(sx 'ps -e -o comm= 2>/dev/null || ls /proc')
unlike "$out" 'openshell-gateway' "host processes (the gateway) are not visible"

# Landlock: /sandbox listed read_only (and the workdir not included), so a
# write the directory's owner could otherwise make is refused.
cat >"$TH_DIR/ro.yaml" <<'EOF'
version: 1
filesystem_policy:
  include_workdir: false
  read_only: [/usr, /lib, /proc, /etc, /sandbox]
  read_write: [/tmp, /dev/null]
landlock:
  compatibility: hard_requirement
process:
  run_as_user: sandbox
  run_as_group: sandbox
EOF
c=$(th_sbname iso-ro)
if th_sb_create "$c" --policy "$TH_DIR/ro.yaml"; then
	ok "hard_requirement starts on a kernel with Landlock"
	out=$(os sandbox exec -n "$c" -- sh -c 'ls -ld /sandbox | cut -d" " -f3; touch /sandbox/x 2>&1; echo rc=$?')
	like "$out" '^sandbox' "/sandbox is owned by the sandbox user"
	like "$out" 'touch: cannot touch ./sandbox/x.: Permission denied' \
		"Landlock refuses a write to a read_only directory the user owns"
	out=$(os sandbox exec -n "$c" -- sh -c 'cat /etc/hostname; echo x > /tmp/y && cat /tmp/y')
	is "$out" "$c${NL}x" "read_only paths stay readable, read_write writable"
else
	not_ok "hard_requirement starts on a kernel with Landlock"
	diag "$(os sandbox get "$c" 2>&1)"
fi

# The token: recovered (as root) from the supervisor's memory, then looked
# for everywhere the agent can read.
ida=$(th_sb_field "$a" .id)
tok=$(th_grpc find-token "$(th_sb_pid "$a")" "$ida" 2>/dev/null)
if [[ $tok =~ ^[0-9a-f]{64}$ ]]; then
	# The token goes in on stdin, so that no command line or environment
	# of the search itself holds it.
	out=$(echo "$tok" | os sandbox exec "$a" -- python3 -c '
import os, sys
tok = sys.stdin.readline().strip().encode()
me = str(os.getpid())
procs = files = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit() or pid == me:
        continue
    for name in ("environ", "cmdline"):
        try:
            with open("/proc/%s/%s" % (pid, name), "rb") as f:
                procs += tok in f.read()
        except OSError:
            pass
for top in ("/sandbox", "/tmp", "/run", "/var", "/etc", "/dev/shm"):
    for d, _, names in os.walk(top):
        for n in names:
            try:
                with open(os.path.join(d, n), "rb") as f:
                    files += tok in f.read(1 << 24)
            except OSError:
                pass
print(procs, files)' 2>&1)
	is "$out" "0 0" "the sandbox token is in no environ, cmdline, file or log the agent can read"
	n=$(os logs "$a" -n 100000 | grep -c -- "$tok")
	is "$n" "0" "the sandbox token is not in the gateway's logs of the sandbox"
else
	skip "the sandbox token is not readable by the agent" "the token could not be recovered from the supervisor's memory"
	skip "the sandbox token is not in the logs" "no token"
fi

# --- A process the agent stops before its exec holds up nobody ----------
# Between its setresuid and its exec a new process is the agent's, which
# may SIGSTOP it there. The sandbox's init must go on serving the other
# execs, and gives up on that one after 30 s.
os sandbox exec "$a" -- sh -c 'cat > /sandbox/stopper.py' <<'EOF'
import os, signal, sys, time
me, parent = os.getpid(), os.getppid()
t0 = time.time()
while time.time() - t0 < 60:
    last = int(open("/proc/loadavg").read().split()[-1])
    for pid in range(last - 1, last + 3):
        if pid <= 1 or pid in (me, parent):
            continue
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            continue
        # Once it has stopped (on its way back to user space: an exec
        # under way is done by then), its name says where it is: still
        # the init's before its exec. After, it is the agent's own
        # program, which is let go.
        name = ""
        for _ in range(200):
            try:
                st = open("/proc/%d/stat" % pid).read()
            except OSError:
                break
            name = st[st.index("(") + 1:st.rindex(")")]
            if st.rsplit(")", 1)[1].split()[0] == "T":
                break
            time.sleep(0.001)
        if name.startswith("openshell-sandb"):
            print("stopped", pid, flush=True)
            sys.exit(0)
        os.kill(pid, signal.SIGCONT)
EOF
os sandbox exec -n "$a" -- sh -c 'setsid python3 /sandbox/stopper.py >/sandbox/stopper.out 2>&1 </dev/null &'
# Read from the host: an exec to read it would be one more to catch.
stopper_out=$OPENSHELL_STATE_DIR/sandboxes/$(th_sb_field "$a" .id)/work/stopper.out
hit=
for i in $(seq 1 60); do
	timeout 50 "$OS_CLI" sandbox exec -n "$a" -- true >"$TH_DIR/stopped.$i" 2>&1 &
	th_track_pid $!
	sleep 0.2
	if grep -qs '^stopped' "$stopper_out"; then
		hit=$i
		break
	fi
done
if [ -n "$hit" ]; then
	out=$(timeout 10 "$OS_CLI" sandbox exec -n "$a" -- echo alive 2>&1; echo "rc=$?")
	is "$out" "alive${NL}rc=0" "with one process stopped before its exec, other execs still run"
	th_wait 45 sh -c "grep -qs 'did not start' '$TH_DIR'/stopped.*" ||
		diag "stopper: $(cat "$stopper_out"); tries: $hit; outputs: $(cat "$TH_DIR"/stopped.* | head -5); stopped processes: $(ps -eo pid,stat,user,etime,args | awk '$2 ~ /^T/' | head -5)"
	like "$(cat "$TH_DIR"/stopped.*)" "did not start within 30 seconds \\(it was stopped before its exec\\); it was killed" \
		"... and the stopped one is given up on after 30 s, saying why"
else
	skip "with one process stopped before its exec, other execs still run" "the agent's stopper caught no process before its exec in 60 tries"
	skip "... and the stopped one is given up on after 30 s" "no process was caught"
fi

done_testing

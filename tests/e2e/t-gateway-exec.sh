#!/bin/bash
# Exec sessions through the gateway's relay to the supervisor: exit codes,
# stdin, binary-safe stdout, stderr kept apart, environment and working
# directory, `sandbox create -- CMD`, and `sandbox connect` on a PTY that
# follows the window size. Processes run without isolation for now.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-exec
th_gateway_start || bail "gateway start failed"
X=$TH_DIR/x
mkdir -p "$X"

sb=$(th_sbname exec)
th_sb_create "$sb" || bail "create"

# --- Exit codes -------------------------------------------------------------
os sandbox exec "$sb" -- true
is "$?" 0 "exit 0 passed through"
os sandbox exec "$sb" -- sh -c 'exit 7'
is "$?" 7 "exit 7 passed through"
os sandbox exec "$sb" -- false
is "$?" 1 "exit 1 passed through"
err=$(os sandbox exec "$sb" -- no-such-command-"$TH_ID" 2>&1 >/dev/null)
is "$?" 127 "a missing command: 127"
if [[ $err == *"no-such-command-$TH_ID: command not found"* ]]; then
	ok "a missing command: says so on stderr"
else
	not_ok "a missing command: says so on stderr"; diag "stderr: '$err'"
fi
os sandbox exec "$sb" -- sh -c 'printf "#!/bin/sh\n" >noexec.sh; chmod 644 noexec.sh'
os sandbox exec "$sb" -- ./noexec.sh 2>/dev/null
is "$?" 126 "a file that is not executable: 126"
os sandbox exec "$sb" -- sh -c 'kill -TERM $$'
is "$?" 143 "killed by SIGTERM: 128+15"
# A reader that goes away ends the remote writer, as SIGPIPE would.
out=$(timeout 30 "$OS_CLI" sandbox exec "$sb" -- yes | head -n 1; echo "rc=${PIPESTATUS[0]}")
is "$out" "y${NL}rc=141" "stdout closed by the reader (yes | head): the session ends, status 128+SIGPIPE"
is "$(os sandbox exec -n "$sb" -- sh -c 'pgrep -x yes || echo none')" "none" \
	"... and the remote writer is gone"

# --- stdin ------------------------------------------------------------------
out=$(echo abc | os sandbox exec "$sb" -- cat)
is "$out" "abc" "stdin is passed: echo abc | exec cat"
out=$(printf 'a\nb\nc\n' | os sandbox exec "$sb" -- wc -l)
is "$out" "3" "stdin is passed to the end (EOF arrives)"
out=$(os sandbox exec "$sb" -- cat </dev/null)
is "$out" "" "empty stdin: cat ends at once"
out=$(echo ignored | os sandbox exec -n "$sb" -- cat)
is "$out" "" "exec -n: no stdin"

# --- Binary-safe output -----------------------------------------------------
head -c 1048576 /dev/urandom >"$X/rand"
"$TH_PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64)' >>"$X/rand"
os sandbox exec "$sb" -- cat <"$X/rand" >"$X/rand.out"
is "$?" 0 "1 MiB of random bytes through cat: exit 0"
check "random bytes (every byte value, NULs, CRs) round-trip unchanged (cmp)" cmp -s "$X/rand" "$X/rand.out"
out=$(os sandbox exec "$sb" -- head -c 8000000 /dev/zero | wc -c)
is "$out" 8000000 "8 MB of output arrive complete"
out=$(os sandbox exec "$sb" -- sh -c 'printf "no newline"')
is "$out" "no newline" "output without a final newline"

# --- stderr separate from stdout ------------------------------------------
os sandbox exec "$sb" -- sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3' \
	>"$X/out" 2>"$X/err"
rc=$?
is "$rc" 3 "stdout+stderr session: exit 3"
is "$(cat "$X/out")" "out1${NL}out2" "stdout holds only stdout"
is "$(cat "$X/err")" "err1${NL}err2" "stderr holds only stderr"
os sandbox exec "$sb" -- sh -c 'head -c 65536 /dev/zero >&2' 2>"$X/err0" >"$X/out0"
is "$(wc -c <"$X/err0") $(wc -c <"$X/out0")" "65536 0" "64 KiB on stderr, nothing on stdout"

# --- Environment, working directory, argv -----------------------------------
out=$(os sandbox exec -e FOO=bar -e "SPACED=a b" "$sb" -- sh -c 'echo "$FOO|$SPACED"')
is "$out" "bar|a b" "exec -e sets the environment"
out=$(os sandbox exec -w /tmp "$sb" -- pwd)
is "$out" "/tmp" "exec -w sets the working directory"
out=$(os sandbox exec "$sb" -- printf '%s|' 'a b' '' '*' '-n')
is "$out" "a b||*|-n|" "argv arrives word for word (spaces, empty, glob, dash)"
out=$(os sandbox exec "$sb" -- sh -c 'test -t 0 && echo tty || echo notty')
is "$out" "notty" "exec without -t: no terminal"

# --- The same through an independent client (python grpcio) ---------------
th_grpc exec "$sb" cat <"$X/rand" >"$X/rand.py"
is "$?" 0 "python grpcio ExecSandbox: exit 0"
check "python grpcio ExecSandbox: binary round trip" cmp -s "$X/rand" "$X/rand.py"
th_grpc exec "$sb" sh -c 'echo o; echo e >&2; exit 9' >"$X/pyo" 2>"$X/pye"
is "$?" 9 "python grpcio ExecSandbox: exit 9"
is "$(cat "$X/pyo")|$(cat "$X/pye")" "o|e" "python grpcio ExecSandbox: stdout and stderr apart"

# --- Errors -----------------------------------------------------------------
out=$(os sandbox exec "nope-$TH_ID" -- true 2>&1)
is "$?" 1 "exec in a missing sandbox: exit 1"
is "$out" "openshell: no sandbox named 'nope-$TH_ID'" "exec in a missing sandbox: says so"
out=$(os sandbox exec "$sb" 2>&1)
is "$?" 2 "exec without a command: usage error"
is "$out" "openshell: sandbox exec: missing COMMAND (use 'sandbox connect $sb' for a shell)" \
	"exec without a command: points at connect"

# --- sandbox create -- CMD ----------------------------------------------------
once=$(th_sbname once)
out=$(os sandbox create --name "$once" -- sh -c 'echo created-and-ran; exit 5' 2>/dev/null)
rc=$?
is "$out" "created-and-ran" "create -- CMD runs the command"
is "$rc" 5 "create -- CMD passes the exit status through"
out=$(os sandbox get "$once" 2>&1)
is "$out" "openshell: no sandbox named '$once'" "create -- CMD without --keep deletes the sandbox afterwards"
kept=$(th_sbname kept)
out=$(os sandbox create --name "$kept" --keep -- echo hi 2>/dev/null)
is "$out" "hi" "create --keep -- CMD runs the command"
is "$(th_sb_field "$kept" .phase)" SANDBOX_PHASE_READY "create --keep: the sandbox stays"
os sandbox delete "$kept" >/dev/null

# --- sandbox connect on a PTY -----------------------------------------------
if ! command -v tmux >/dev/null; then
	skip "sandbox connect on a PTY" "tmux is not installed"
else
	# A private server whose socket lives in $TH_DIR (removed on exit).
	T=$TH_DIR/tmux.sock
	tm() { tmux -S "$T" "$@"; }
	tm -f /dev/null new-session -d -x 91 -y 27 \
		"env OPENSHELL_STATE_DIR=$OPENSHELL_STATE_DIR $OS_CLI sandbox connect $sb; echo \$? >$X/connect.rc" ||
		bail "tmux"
	th_track_pid "$(tm display-message -p '#{pid}')"
	pane() { tm capture-pane -p -J; }
	sendl() { tm send-keys -l "$1"; tm send-keys Enter; }
	prompt_seen() { [ -n "$(pane | tr -d '[:space:]')" ]; }
	th_wait 10 prompt_seen
	sendl 'echo "[$(stty size)]" "[$(test -t 0 && test -t 2 && echo tty)]" M$((6*7))'
	check "connect: the shell answers" th_wait 10 sh -c "tmux -S $T capture-pane -p -J | grep -q '^\\[.*M42\$'"
	line=$(pane | grep 'M42$' | tail -n 1)
	like "$line" "^\\[27 91\\] \\[tty\\] M42$" "connect: a terminal with the window's size (27 rows, 91 columns)"
	tm resize-window -t 0 -x 120 -y 40
	sendl 'echo "[$(stty size)]" R$((6*7))'
	check "connect: after a resize the shell answers" th_wait 10 sh -c "tmux -S $T capture-pane -p -J | grep -q '^\\[.*R42\$'"
	like "$(pane | grep 'R42$' | tail -n 1)" '^\[40 120\] R42$' "connect: the new window size (40x120) is followed"
	sendl 'exit 4'
	check "connect: exit ends the session" th_wait 10 test -s "$X/connect.rc"
	is "$(cat "$X/connect.rc")" 4 "connect: the shell's exit status is passed through"
	tm kill-server 2>/dev/null
	is "$(th_sb_field "$sb" .phase)" SANDBOX_PHASE_READY "the sandbox outlives its shell session"
fi

os sandbox delete "$sb" >/dev/null
th_gateway_stop
done_testing

#!/bin/bash
# Policy revisions through the gateway, against a real supervisor: the same
# policy twice is the same revision; static sections of a live sandbox are
# refused and nothing is stored; every validation error comes back with
# file:line:col, as `policy validate` prints them; `policy get`/`list`; and
# the exit codes of `policy set --wait` (0 loaded, 1 invalid or failed,
# 124 timed out).
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-policy
th_gateway_start || bail "gateway start failed"

P=$TH_DIR/policies
mkdir -p "$P"
cd "$P" || bail "cd"

net_policy() {  # net_policy HOST: a network-only policy
	cat <<-EOF
	version: 1
	network_policies:
	  api:
	    name: api-$1
	    endpoints:
	      - { host: $1, port: 443 }
	    binaries:
	      - { path: /usr/bin/curl }
	EOF
}
net_policy one.test >one.yaml
# The same policy, written differently: comments, flow vs block style,
# a different key order.
cat >one-again.yaml <<'EOF'
# same as one.yaml
network_policies:
  api:
    binaries: [{ path: /usr/bin/curl }]
    endpoints:
      - host: one.test
        port: 443
    name: api-one.test
version: 1
EOF
net_policy two.test >two.yaml

sb=$(th_sbname pol)
out=$(os sandbox create --name "$sb" --keep --detach --policy one.yaml 2>&1)
is "$?" 0 "sandbox create --policy"
is "$(th_sb_field "$sb" .phase)" SANDBOX_PHASE_READY "the sandbox is ready"

# --- Revision idempotence -------------------------------------------------
h1=$(os policy get "$sb" --json | jq -r .revision.policy_hash)
is "$(os policy get "$sb" --json | jq -r .revision.version)" 1 "create stored revision 1"
out=$(os policy set "$sb" --policy one.yaml)
is "$out" "sandbox '$sb': policy unchanged (version 1, sha256:${h1:0:12})" \
	"the same policy again: unchanged, same version and hash"
out=$(os policy set "$sb" --policy one-again.yaml)
is "$out" "sandbox '$sb': policy unchanged (version 1, sha256:${h1:0:12})" \
	"the same policy written differently: unchanged"
out=$(th_grpc call UpdateConfig "$(jq -n --arg n "$sb" --rawfile y one.yaml '{name:$n,policy_yaml:$y}')")
is "$(jq -r '[.version,.policy_hash,.unchanged]|join(" ")' <<<"$out")" "1 $h1 true" \
	"python grpcio: UpdateConfig of the same policy says unchanged, version 1, same hash"

out=$(os policy set "$sb" --policy two.yaml --wait)
rc=$?
is "$rc" 0 "a new policy with --wait: exit 0 once loaded"
h2=$(os policy get "$sb" --json | jq -r .revision.policy_hash)
is "$out" "sandbox '$sb': policy version 2 (sha256:${h2:0:12})${NL}sandbox '$sb': version 2 loaded and enforced" \
	"policy set --wait says the version and that it is enforced"
out=$(os policy set "$sb" --policy two.yaml --wait)
is "$?" 0 "the same policy again with --wait: exit 0 at once"
is "$out" "sandbox '$sb': policy unchanged (version 2, sha256:${h2:0:12})${NL}sandbox '$sb': version 2 loaded and enforced" \
	"... and unchanged"
out=$(os policy set "$sb" --policy one.yaml)
is "$out" "sandbox '$sb': policy version 3 (sha256:${h1:0:12})" \
	"going back to the first policy is a new version with the first hash"
check "revision 3 loads" th_wait 10 sh -c "$OS_CLI policy get $sb --json | jq -e '.revision.status==\"POLICY_STATUS_LOADED\"' >/dev/null"

# --- policy get / list ----------------------------------------------------
out=$(os policy get "$sb")
like "$out" "^version:  3 \\(active\\)${NL}hash:     sha256:$h1${NL}status:   loaded${NL}origin:   policy set${NL}created:  [0-9-]+ [0-9:]+${NL}---${NL}version: 1${NL}" \
	"policy get: version, hash, status, origin, created, then the YAML"
yaml=$(os policy get "$sb" --yaml; echo x)
yaml=${yaml%x}
is "$(printf '%s' "$yaml" | sha256sum | cut -d' ' -f1)" "$h1" "policy get --yaml: its sha256 is the revision's hash"
like "$yaml" "${NL}network_policies:${NL}  api:${NL}    name: api-one\\.test${NL}" "policy get --yaml: the network policy"
like "$yaml" "${NL}filesystem_policy:${NL}" "policy get --yaml: the static sections the sandbox started with"
out=$(os policy get "$sb" --version 2)
like "$out" "^version:  2${NL}hash:     sha256:$h2${NL}status:   superseded${NL}" "policy get --version 2: superseded"
out=$(os policy get "$sb" --version 9 2>&1)
is "$out" "openshell: sandbox '$sb' has no policy revision 9" "policy get of a missing version"
out=$(os policy list "$sb")
like "$out" "^VERSION +HASH +STATUS +CREATED +ORIGIN +ERROR${NL}3 +${h1:0:12} +loaded +[0-9-]+ [0-9:]+ +policy set +-${NL}2 +${h2:0:12} +superseded +[0-9-]+ [0-9:]+ +policy set +-${NL}1 +${h1:0:12} +superseded +[0-9-]+ [0-9:]+ +create +-$" \
	"policy list: VERSION HASH STATUS CREATED ORIGIN ERROR, newest first"
is "$(os policy list "$sb" --limit 1 | wc -l)" 2 "policy list --limit 1: one revision"
is "$(os policy list "$sb" --json | jq -r '[.revisions[].version]|join(",")')" "3,2,1" "policy list --json"
out=$(os policy list "nope-$TH_ID" 2>&1)
is "$out" "openshell: no sandbox named 'nope-$TH_ID'" "policy list of a missing sandbox"

# --- Static sections of a live sandbox ------------------------------------
base=$(os policy get "$sb" --version 1 --yaml)
# Explicit static sections equal to the running ones are fine.
{ echo "$base" | sed -n '/^filesystem_policy:/,/^network_policies:/p' | sed '$d'
  net_policy three.test | sed 1d; echo "version: 1"; } >same-static.yaml
out=$(os policy set "$sb" --policy same-static.yaml)
like "$out" "^sandbox '$sb': policy version 4 " "the running static sections given explicitly: accepted"
nrev=$(os policy list "$sb" --json | jq '.revisions|length')
static_msg="cannot change on a live sandbox: filesystem_policy, landlock and process apply when a sandbox starts. Only network_policies reload live; create a new sandbox for this policy (openshell sandbox create --policy FILE)"
cat >fs.yaml <<'EOF'
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr]
  read_write: [/tmp]
EOF
printf 'version: 1\nlandlock:\n  compatibility: hard_requirement\n' >ll.yaml
printf 'version: 1\nprocess:\n  run_as_user: nobody\n  run_as_group: nogroup\n' >pr.yaml
{ cat fs.yaml; printf 'process:\n  run_as_user: nobody\n  run_as_group: nogroup\n'; } >fs-pr.yaml
for f in fs:filesystem_policy ll:landlock pr:process fs-pr:"filesystem_policy, process"; do
	out=$(os policy set "$sb" --policy "${f%%:*}.yaml" 2>&1)
	rc=$?
	is "$rc" 1 "changing ${f#*:}: exit 1"
	is "$out" "openshell: ${f#*:} $static_msg" "changing ${f#*:}: says a new sandbox is needed"
done
out=$(os policy set "$sb" --policy fs.yaml --wait 2>&1)
is "$?" 1 "changing a static section with --wait: exit 1"
is "$(os policy list "$sb" --json | jq '.revisions|length')" "$nrev" "no revision was stored for any static change"
out=$(th_grpc call UpdateConfig "$(jq -n --arg n "$sb" --rawfile y ll.yaml '{name:$n,policy_yaml:$y}')")
is "$out" "FAILED_PRECONDITION: landlock $static_msg" "python grpcio: FAILED_PRECONDITION for a static change"

# --- Every validation error, with file:line:col ----------------------------
cat >bad.yaml <<'EOF'
version: 1
network_policies:
  gh:
    name: gh
    endpoints:
      - { host: api.github.com, port: 70000 }
      - { host: "", port: 443 }
    binaries:
      - { path: relative/curl }
  second:
    endpoints:
      - host: example.com
        port: 443
        protocol: soap
        access: read-mostly
    binaries: []
EOF
validate=$(os policy validate bad.yaml 2>&1)
is "$?" 1 "policy validate of the bad policy: exit 1"
errors=$(grep -c '^bad\.yaml:[0-9]*:[0-9]*: error: ' <<<"$validate")
is "$errors" 6 "policy validate finds all six mistakes"
out=$(os policy set "$sb" --policy bad.yaml 2>&1)
rc=$?
is "$rc" 1 "policy set of an invalid policy: exit 1"
is "$out" "openshell: the policy is not valid:${NL}$(grep -v '^bad\.yaml: invalid' <<<"$validate")" \
	"policy set returns every error, exactly as policy validate prints them"
out=$(os policy set "$sb" --policy bad.yaml --wait --timeout 5 2>&1)
is "$?" 1 "policy set --wait of an invalid policy: exit 1"
out=$(th_grpc call UpdateConfig "$(jq -n --arg n "$sb" --rawfile y bad.yaml '{name:$n,policy_yaml:$y,policy_file:"bad.yaml"}')")
like "$out" "^INVALID_ARGUMENT: the policy is not valid:${NL}bad\\.yaml:6:39: error: network_policies\\.gh\\.endpoints\\[0\\]\\.port: invalid port 70000 \\(expected 1-65535\\)${NL}" \
	"python grpcio: INVALID_ARGUMENT with the errors, first at 6:39"
is "$(grep -c '^bad\.yaml:[0-9]*:[0-9]*: error: ' <<<"$out")" 6 "python grpcio: all six errors"
out=$(cat bad.yaml | os policy set "$sb" --policy - 2>&1)
like "$out" "${NL}<stdin>:6:39: error: " "policy from stdin: errors name <stdin>"
printf 'version: 1\nnetwork_policies: [\n' >broken.yaml
out=$(os policy set "$sb" --policy broken.yaml 2>&1)
is "$?" 1 "unparsable YAML: exit 1"
like "$out" "^openshell: the policy is not valid:${NL}broken\\.yaml:[0-9]+:[0-9]+: error: " "unparsable YAML: file:line:col"
is "$(os policy list "$sb" --json | jq '.revisions|length')" "$nrev" "no revision was stored for an invalid policy"
is "$(th_sb_field "$sb" .active_policy_version)" 4 "the sandbox still enforces version 4"

# --- --wait against a supervisor that does not answer: 124 ----------------
sup=$(th_sb_pid "$sb")
kill -STOP "$sup"
out=$(os policy set "$sb" --policy two.yaml --wait --timeout 2 2>&1)
rc=$?
kill -CONT "$sup"
is "$rc" 124 "policy set --wait with a stopped supervisor: exit 124"
like "$out" "${NL}openshell: sandbox '$sb' did not report version 5 loaded within 2s$" "... saying what it waited for"
check "once resumed, the supervisor loads version 5" th_wait 10 sh -c \
	"$OS_CLI policy get $sb --json | jq -e '.revision.version==5 and .revision.status==\"POLICY_STATUS_LOADED\"' >/dev/null"
out=$(os policy set "$sb" --policy two.yaml --wait --timeout 0 2>&1)
is "$?" 2 "--timeout 0 is a usage error"

# --- --wait when the sandbox cannot load anything: 1 -----------------------
sup=$(th_sb_pid "$sb")
kill -KILL "$sup"
check "a killed supervisor: the sandbox is stopped" th_wait 10 sh -c \
	"[ \"\$($OS_CLI sandbox get $sb --json | jq -r .sandbox.phase)\" = SANDBOX_PHASE_STOPPED ]"
out=$(os policy set "$sb" --policy one.yaml --wait --timeout 10 2>&1)
rc=$?
is "$rc" 1 "policy set --wait on a stopped sandbox: exit 1"
like "$out" "${NL}openshell: sandbox '$sb' is stopped: the supervisor was killed by signal 9$" \
	"... saying the sandbox is stopped and why"

# --- A valid policy the real supervisor cannot apply ---------------------------
# The gateway cannot know the host's users: a run_as_user that does not
# exist passes validation, and the supervisor reports the revision FAILED
# when it builds the sandbox (with isolation; without it nobody checks).
nouser=$(th_sbname nouser)
printf 'version: 1\nprocess:\n  run_as_user: nosuchuser-%s\n  run_as_group: nosuchuser-%s\n' "$TH_ID" "$TH_ID" >nouser.yaml
out=$(os sandbox create --name "$nouser" --keep --detach --policy nouser.yaml 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [[ $(os sandbox exec "$nouser" -- id -u 2>&1) == 0 ]]; then
	skip "the supervisor reports FAILED for a user that does not exist" "the supervisor runs without isolation"
else
	is "$rc" 1 "sandbox create with a user that does not exist: exit 1"
	like "$out" "${NL}openshell: sandbox '$nouser' failed to start \\(error\\): the initial policy failed to load: cannot build the sandbox: process\\.run_as_user: .*nosuchuser-$TH_ID" \
		"... with the supervisor's reason"
	like "$(os policy list "$nouser")" "${NL}1 +[0-9a-f]{12} +failed +[0-9-]+ [0-9:]+ +create +cannot build the sandbox: process\\.run_as_user: " \
		"policy list: revision 1 failed, with the supervisor's error"
	out=$(os policy set "$nouser" --policy two.yaml --wait --timeout 10 2>&1)
	is "$?" 1 "policy set --wait on a sandbox in error: exit 1"
	like "$out" "${NL}openshell: sandbox '$nouser' is in error: the initial policy failed to load: " "... saying why"
fi
quiet os sandbox delete "$nouser"
# No case here for a live sandbox whose supervisor fails a valid network
# revision: it reports FAILED only when its own compile fails, and it
# validates exactly as the gateway already did, so no such policy exists.
# t-gateway-auth.sh checks that a FAILED report reaches `policy set --wait`.

# --- Deleted twice while the first delete waits for the supervisor ----------
# (a user who interrupts a slow delete and runs it again)
twice=$(th_sbname twice)
th_sb_create "$twice" || bail "create $twice"
kill -STOP "$(th_sb_pid "$twice")"
os sandbox delete "$twice" >"$TH_DIR/del1" 2>&1 &
d1=$!
th_wait 5 sh -c "$OS_CLI sandbox get $twice --json | jq -e '.sandbox.phase==\"SANDBOX_PHASE_DELETING\"' >/dev/null" ||
	diag "the first delete did not start: $(cat "$TH_DIR/del1")"
out=$(os sandbox delete "$twice" 2>&1)
rc=$?
wait "$d1"
rc1=$?
is "$rc1 $rc" "0 0" "two deletes of a sandbox whose supervisor is slow to stop: both exit 0"
like "$(cat "$TH_DIR/del1")$NL$out" "^sandbox '$twice' deleted${NL}sandbox '$twice' deleted\$" \
	"... and both say it was deleted"
out=$(os sandbox get "$twice" 2>&1)
like "$out" "no sandbox named '$twice'" "... and it is gone"

os sandbox delete "$sb" >/dev/null
th_gateway_stop
done_testing

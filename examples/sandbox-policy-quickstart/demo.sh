#!/bin/bash
# The sandbox policy quickstart, non-interactively (see README.md here):
# a sandbox whose network is denied by default, a read-only L7 policy for
# the GitHub REST API applied live, a GET that works and a POST that is
# refused, and the log lines of both.
#
#   demo.sh           against a stand-in api.github.com on a test host this
#                     script makes (a network namespace with real TLS and a
#                     test CA): no traffic leaves the machine
#   demo.sh --live    against the real api.github.com (needs internet)
#
# Needs root (sandboxes and test hosts use namespaces). It runs its own
# gateway on a temporary state directory and removes everything it made.
set -u
live=0
case ${1:-} in
--live) live=1 ;;
"") ;;
-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 [--live]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
: "${OS_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${OS_BUILDDIR:=$OS_SRCDIR/build}"
export OS_SRCDIR OS_BUILDDIR
if [ ! -x "$OS_BUILDDIR/openshell" ]; then
	if command -v openshell >/dev/null; then
		OS_BUILDDIR=$(dirname "$(command -v openshell)")
	else
		echo "demo: openshell is not built (run ./bootstrap demo from the top)" >&2
		exit 1
	fi
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (sandboxes use namespaces)" >&2
	exit 1
fi

# The test-host harness does the namespaces, the CA and the clean-up.
# Its TAP helpers are not used here.
. "$OS_SRCDIR/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init quickstart >/dev/null

bold= dim= off=
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	dim=$(tput dim 2>/dev/null || true)
	off=$(tput sgr0 2>/dev/null || true)
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
# run CMD...: shows it as a user would type it, then runs it.
run() { show "openshell ${*}"; os "$@"; }
fail() { printf '\n%sdemo: %s%s\n' "$bold" "$*" "$off" >&2; exit 1; }

policy=$here/policy.yaml
if [ $live -eq 1 ]; then
	step "Starting a gateway (state directory $TH_DIR/gw0)"
	th_gateway_start --dns system || fail "the gateway did not start"
else
	step "Starting a stand-in api.github.com on a test host, and a gateway"
	ip=$(th_host github) || fail "cannot make a test host (is iproute2 installed?)"
	th_standin github --https 443 --cert-name api.github.com ||
		fail "the stand-in server did not start"
	hosts=$(th_hosts_file api.github.com="$ip")
	echo "api.github.com is $ip here: real TLS, a certificate from a test CA"
	th_gateway_start --hosts-file "$hosts" --upstream-ca "$TH_DIR/ca/ca.pem" ||
		fail "the gateway did not start"
fi
echo "$TH_GW_START_OUT"
name=demo-$TH_ID

step "1. Create a sandbox"
run sandbox create --name "$name" --keep --no-auto-providers --detach ||
	fail "the sandbox did not start"

step "2. Try to reach the GitHub API: blocked by the default-deny policy"
run sandbox exec "$name" -- curl -sS https://api.github.com/zen
echo "${dim}(exit status $?)${off}"

step "3. The deny log"
sleep 0.5
show "openshell logs $name --since 5m"
os logs "$name" --since 5m | grep 'action=deny' | tail -n 2

step "4. Apply the read-only GitHub API policy"
show "cat examples/sandbox-policy-quickstart/policy.yaml"
sed -n '/^network_policies:/,$p' "$policy"
run policy set "$name" --policy "$policy" --wait || fail "the policy did not load"

step "5. GET works"
run sandbox exec "$name" -- curl -sS https://api.github.com/zen
echo
run sandbox exec "$name" -- curl -sS https://api.github.com/octocat
echo

step "6. A write is blocked by L7"
run sandbox exec "$name" -- curl -sS -X POST \
	https://api.github.com/repos/octocat/hello-world/issues \
	-H "Content-Type: application/json" -d '{"title":"oops"}'
echo

step "7. The L7 deny log"
sleep 0.5
show "openshell logs $name --level warn --since 5m"
os logs "$name" --level warn --since 5m | grep 'l7_decision=deny' | tail -n 1
show "openshell logs $name --level warn --since 5m --json | tail -n 1"
os logs "$name" --level warn --since 5m --json | grep '"HTTP Activity"' | tail -n 1

step "8. Clean up"
run sandbox delete "$name"
echo
echo "${bold}Default deny, L7 read-only, an audit trail: all without a restart.${off}"

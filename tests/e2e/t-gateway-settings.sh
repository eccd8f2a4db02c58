#!/bin/bash
# Settings: one registry, gateway and sandbox scope (the gateway wins, and
# says so), every type typed the way a user types it, the errors, and the
# effective values a sandbox's supervisor receives.
. "${OS_SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib/harness.sh"
. "$OS_SRCDIR/tests/e2e/lib/gateway.sh"
th_init gw-settings
th_gateway_start || bail "gateway start failed"
sb=$(th_sbname set)
th_sb_create "$sb" || bail "create"

# --- list -------------------------------------------------------------------
out=$(os settings list)
like "$out" "^KEY +VALUE +SCOPE +DEFAULT +DESCRIPTION${NL}" "settings list: a table with KEY VALUE SCOPE DEFAULT DESCRIPTION"
keys=$(os settings list --json | jq -r '[.settings[].key]|join(" ")')
for k in approval_mode draft_expiry draft_pending_cap draft_rejection_backoff draft_backoff_duration \
    permissive_allowed permissive_max_ttl permissive_default_ttl policy_advisor policy_advisor_mode \
    inference_endpoint inference_model; do
	like " $keys " " $k " "the registry has $k"
done
like "$out" "${NL}draft_expiry +1h +default +1h +how long a pending chunk" "settings list: a default is shown as such"
is "$(os settings list --json | jq -r '[.settings[]|.effective.scope // "default"]|unique|join(",")')" "default" \
	"nothing set: every value is the default"

# --- Types, as a user types them ---------------------------------------------
set_get() {  # set_get KEY TYPED SHOWN [--sandbox S]
	local k=$1 typed=$2 shown=$3
	shift 3
	out=$(os settings set "$k" "$typed" "$@" 2>&1)
	is "$out" "$k = $typed for ${1:+sandbox }${2:-the gateway}" "settings set $k $typed $*"
	is "$(os settings get "$k" "$@")" "$shown" "settings get $k $*: $shown"
}
set_get draft_expiry 90m 90m
set_get draft_expiry 2d 2d
set_get draft_expiry 3600s 1h
set_get draft_expiry 7200 2h
set_get draft_pending_cap 25 25
set_get policy_advisor false false
set_get policy_advisor on true
set_get approval_mode auto auto
set_get inference_model "some model" "some model"
is "$(os settings get draft_expiry --json | jq -c '[.effective.value.int_value, .effective.scope, .gateway_value.int_value]')" \
	'[7200,"SETTING_SCOPE_GATEWAY",7200]' "settings get --json: value, scope and the gateway's value"
is "$(th_grpc call ListSettings '{}' | jq -r '.settings[]|select(.key=="draft_expiry")|.effective.value.int_value')" \
	7200 "python grpcio ListSettings: a duration is stored as seconds"

# --- Scopes: the gateway wins -----------------------------------------------
for k in draft_expiry draft_pending_cap policy_advisor approval_mode inference_model; do
	quiet os settings unset "$k"
done
set_get draft_pending_cap 5 5 --sandbox "$sb"
is "$(os settings get draft_pending_cap)" 10 "a sandbox value leaves the gateway's (default) alone"
line=$(os settings list --sandbox "$sb" | grep '^draft_pending_cap ')
like "$line" "^draft_pending_cap +5 +sandbox +10 " "settings list --sandbox: value 5, scope sandbox"
out=$(os settings set draft_pending_cap 8 2>&1)
is "$out" "draft_pending_cap = 8 for the gateway" "a gateway value for the same key"
is "$(os settings get draft_pending_cap --sandbox "$sb")" 8 "the gateway value wins over the sandbox's"
like "$(os settings list --sandbox "$sb" | grep '^draft_pending_cap ')" "^draft_pending_cap +8 +gateway +10 " \
	"settings list --sandbox: scope gateway"
out=$(os settings set draft_pending_cap 6 --sandbox "$sb" 2>"$TH_DIR/note")
is "$out" "draft_pending_cap = 6 for sandbox $sb" "setting a sandbox value while the gateway has one"
is "$(cat "$TH_DIR/note")" "openshell: note: 'draft_pending_cap' is also set for the whole gateway; the gateway value wins" \
	"... carries a note that the gateway value wins"
is "$(os settings get draft_pending_cap --sandbox "$sb")" 8 "... and the gateway value is still the effective one"
is "$(os settings get draft_pending_cap --sandbox "$sb" --json | jq -c '[.gateway_value.int_value,.sandbox_value.int_value]')" \
	'[8,6]' "settings get --json shows both values"
is "$(os settings unset draft_pending_cap)" "draft_pending_cap unset for the gateway" "settings unset (gateway)"
is "$(os settings get draft_pending_cap --sandbox "$sb")" 6 "with the gateway value gone the sandbox's applies"
is "$(os settings unset draft_pending_cap --sandbox "$sb")" "draft_pending_cap unset for sandbox $sb" "settings unset --sandbox"
is "$(os settings get draft_pending_cap --sandbox "$sb")" 10 "with both gone the default applies"
is "$(os settings unset draft_pending_cap --sandbox "$sb")" "draft_pending_cap unset for sandbox $sb" \
	"unsetting what is not set is fine"

# --- What the supervisor receives ------------------------------------------------
id=$(th_sb_field "$sb" .id)
rm -f "$TH_DIR/cfg.ready"
th_grpc watch "{\"name\":\"$sb\",\"follow_config\":true}" --ready "$TH_DIR/cfg.ready" --duration 30 \
	>"$TH_DIR/cfg.out" 2>&1 &
th_track_pid $!
th_wait 10 test -e "$TH_DIR/cfg.ready" || bail "config watcher"
quiet os settings set approval_mode auto --sandbox "$sb"
cfg_has() { grep -v '^END' "$TH_DIR/cfg.out" | jq -n -e "[inputs|select($1)]|length>0" >/dev/null 2>&1; }
check "a setting change pushes a new config to the sandbox's watchers at once (10 s)" \
	th_wait 10 cfg_has '.config.settings.approval_mode.value.string_value=="auto"'
out=$(th_grpc call GetSandboxConfig "{\"sandbox_id\":\"$id\"}")
is "$(jq -c '.settings.approval_mode' <<<"$out")" '{"value":{"string_value":"auto"},"scope":"SETTING_SCOPE_SANDBOX"}' \
	"GetSandboxConfig: the sandbox's value with its scope"
quiet os settings set approval_mode manual
out=$(th_grpc call GetSandboxConfig "{\"sandbox_id\":\"$id\"}")
is "$(jq -c '.settings.approval_mode' <<<"$out")" '{"value":{"string_value":"manual"},"scope":"SETTING_SCOPE_GATEWAY"}' \
	"GetSandboxConfig: the gateway's value wins, scope gateway"
is "$(jq -c '.settings.draft_expiry' <<<"$out")" '{"value":{"int_value":"3600"},"scope":"SETTING_SCOPE_UNSPECIFIED"}' \
	"GetSandboxConfig: an unset key carries its default"
quiet os settings unset approval_mode
quiet os settings unset approval_mode --sandbox "$sb"

# --- Errors -------------------------------------------------------------------
err() {  # err DESC WANT_RC WANT_OUTPUT CMD...
	local d=$1 rc=$2 want=$3 out got
	shift 3
	out=$(os "$@" 2>&1)
	got=$?
	is "$got" "$rc" "$d: exit $rc"
	is "$out" "$want" "$d: message"
}
known="approval_mode, draft_expiry, draft_pending_cap, draft_rejection_backoff, draft_backoff_duration, permissive_allowed, permissive_max_ttl, permissive_default_ttl, policy_advisor, policy_advisor_mode, inference_endpoint, inference_model, log_ring_lines, sandbox_log_level, sandbox_log_file_mb"
err "unknown key (set)" 1 "openshell: setting_key: unknown setting 'no_such' (known: $known)" settings set no_such 1
err "unknown key (unset)" 1 "openshell: setting_key: unknown setting 'no_such' (known: $known)" settings unset no_such
err "unknown key (get)" 1 "openshell: unknown setting 'no_such' (see 'openshell settings list')" settings get no_such
err "not an integer" 1 "openshell: draft_pending_cap: 'lots' is not an integer" settings set draft_pending_cap lots
err "integer out of range" 1 "openshell: draft_pending_cap: 0 is out of range (1 to 1000)" settings set draft_pending_cap 0
err "not a duration" 1 "openshell: draft_expiry: '5 min' is not a duration (like 90s, 15m, 1h, 2d)" settings set draft_expiry "5 min"
err "duration out of range" 1 "openshell: draft_expiry: 10s is out of range (60s to 2592000s)" settings set draft_expiry 10s
err "not a boolean" 1 "openshell: policy_advisor: 'maybe' is not a boolean (true or false)" settings set policy_advisor maybe
err "not an allowed value" 1 "openshell: approval_mode: unknown value 'sometimes' (expected one of: manual, auto)" settings set approval_mode sometimes
err "a gateway-only key for a sandbox" 1 "openshell: 'log_ring_lines' applies to the whole gateway; set it without a sandbox" \
	settings set log_ring_lines 500 --sandbox "$sb"
err "a missing sandbox" 1 "openshell: no sandbox named 'nope-$TH_ID'" settings set draft_pending_cap 3 --sandbox "nope-$TH_ID"
err "list for a missing sandbox" 1 "openshell: no sandbox named 'nope-$TH_ID'" settings list --sandbox "nope-$TH_ID"
out=$(os settings set draft_pending_cap 2>&1)
is "$?" 2 "settings set without a value: usage error (exit 2)"
like "$out" "^openshell: settings set: wrong number of arguments${NL}usage: " "... with the usage"
is "$(os settings list --json | jq -r '[.settings[]|.effective.scope // "default"]|unique|join(",")')" "default" \
	"none of the refused changes was stored"

os sandbox delete "$sb" >/dev/null
th_gateway_stop
done_testing

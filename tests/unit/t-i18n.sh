#!/bin/bash
# The German translation as a user sees it: po/de.po compiled into a
# temporary directory (OPENSHELL_LOCALEDIR, nothing installed), the built
# openshell run under de_DE.UTF-8; English unchanged under LANGUAGE=C; and
# po/de.po translating every string the sources mark today.
srcdir=${OS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${OS_BUILDDIR:-$srcdir/build}
cli=$builddir/openshell

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
is() {  # is GOT WANT DESC: on failure, the difference
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diff -u --label want --label got <(printf '%s\n' "$2") \
		    <(printf '%s\n' "$1") | diag
	fi
}

if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
	echo "1..0 # SKIP the de_DE.UTF-8 locale is not installed"
	exit 0
fi
for t in msgfmt msgmerge msgattrib xgettext; do
	if ! command -v "$t" >/dev/null; then
		echo "1..0 # SKIP $t (GNU gettext) is not installed"
		exit 0
	fi
done
if ! grep -q '^#define ENABLE_NLS 1' "$builddir/config.h"; then
	echo "1..0 # SKIP built without NLS (--disable-nls)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-i18n.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/de/LC_MESSAGES"

# --- The catalog ---------------------------------------------------------
if msgfmt -c --check-format -o "$tmp/de/LC_MESSAGES/openshell-c.mo" \
    "$srcdir/po/de.po" 2>"$tmp/msgfmt.err" && [ ! -s "$tmp/msgfmt.err" ]; then
	ok "msgfmt -c --check-format po/de.po: no errors, no warnings"
else
	not_ok "msgfmt -c --check-format po/de.po"
	diag <"$tmp/msgfmt.err"
fi
stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$srcdir/po/de.po" 2>&1)
case $stats in
*fuzzy* | *untranslated*) not_ok "po/de.po: every message translated ($stats)" ;;
*" translated message"*) ok "po/de.po: $stats" ;;
*) not_ok "po/de.po: msgfmt --statistics says '$stats'" ;;
esac

de() { LANGUAGE=de LC_ALL=de_DE.UTF-8 OPENSHELL_LOCALEDIR=$tmp "$cli" "$@"; }
# German locale, English language: gettext finds no catalog for "C".
en() { LANGUAGE=C LC_ALL=de_DE.UTF-8 OPENSHELL_LOCALEDIR=$tmp "$cli" "$@"; }

# --- openshell --help --------------------------------------------------------
is "$(de --help)" "\
Aufruf: openshell [--state-dir DIR] [--gateway HOST:PORT] [--tls-dir DIR] COMMAND [ARGS...]

Befehle:
  gateway    die Steuerungsebene starten, stoppen und prüfen
  sandbox    Sandboxes erstellen, betreten, auflisten und löschen
  policy     Richtlinien prüfen, formatieren, setzen und anzeigen
  logs       Entscheidungen und Ereignisse einer Sandbox anzeigen
  settings   Einstellungen auflisten, anzeigen und ändern

'openshell COMMAND --help' listet die Unterbefehle auf. Siehe openshell(1)." \
    "openshell --help: German usage and command summaries"
is "$(en --help)" "\
usage: openshell [--state-dir DIR] [--gateway HOST:PORT] [--tls-dir DIR] COMMAND [ARGS...]

commands:
  gateway    start, stop and inspect the control plane
  sandbox    create, enter, list and delete sandboxes
  policy     validate, format, set and inspect policies
  logs       show a sandbox's decisions and events
  settings   list, show and change settings

'openshell COMMAND --help' lists a command's subcommands. See openshell(1)." \
    "LANGUAGE=C openshell --help: the English text, unchanged"

# --- openshell policy validate: every diagnostic, at its place ---------------
f=tests/unit/policies/invalid/many-mistakes.yaml
out=$(cd "$srcdir" && de policy validate "$f" 2>&1)
rc=$?
is "$rc" 1 "policy validate (de): exit status 1"
is "$out" "\
$f:4:20: Fehler: filesystem_policy.include_workdir: true oder false erwartet, aber 'yes' gefunden
$f:5:21: Fehler: filesystem_policy.read_only[1]: Pfad muss absolut sein: 'lib'
$f:6:26: Fehler: filesystem_policy.read_write[1]: beschreibbarer Pfad '/' ist zu weit gefasst (er würde das ganze Dateisystem beschreibbar machen)
$f:8:18: Fehler: landlock.compatibility: unbekannter Wert 'strict' (erlaubt: best_effort, hard_requirement)
$f:10:16: Fehler: process.run_as_user: 'root' abgelehnt: der Agent läuft nie als root
$f:15:9: Hinweis: network_policies.github_api.endpoints[0].enforcement: enforcement nicht gesetzt; es gilt 'enforce' (standardmäßig sicher). Mit 'enforcement: audit' wird nur protokolliert, nicht blockiert.
$f:15:15: Fehler: network_policies.github_api.endpoints[0].host: TLD-Platzhalter '*.com' ist nicht erlaubt; einen Platzhalter unterhalb einer Domain verwenden, etwa '*.example.com'
$f:16:15: Fehler: network_policies.github_api.endpoints[0].port: ungültiger Port 70000 (erwartet: 1-65535)
$f:18:14: Fehler: network_policies.github_api.endpoints[0].tls: 'tls: skip' ist mit 'protocol: rest' nicht verwendbar: Anfragen lassen sich nur prüfen, wenn TLS terminiert wird
$f:25:30: Fehler: network_policies.github_api.endpoints[1].rules[0].allow.method: ungültige Methode 'FETCH' (erwartet: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS oder '*')
$f:25:43: Fehler: network_policies.github_api.endpoints[1].rules[0].allow.path: Pfad muss mit '/' beginnen oder '**' sein: 'repos/**'
$f:27:37: Fehler: network_policies.github_api.endpoints[1].deny_rules[0].path: fehlerhaftes Glob-Muster '/[x': nicht abgeschlossene Zeichenklasse '['
$f:28:23: Fehler: network_policies.github_api.endpoints[1].allowed_ips[0]: '10.0.0.1/8': Host-Bits gesetzt; meinten Sie 10.0.0.0/8?
$f:29:9: Fehler: network_policies.github_api.endpoints[1].color: unbekannter Schlüssel 'color' (erlaubt: host, port, ports, protocol, tls, enforcement, access, rules, deny_rules, allowed_ips, advisor_proposed)
$f:31:17: Fehler: network_policies.github_api.binaries[0].path: Programmpfad muss absolut sein (oder ein Glob-Muster, das mit '/' beginnt): 'curl'
$f:32:3: Fehler: network_policies.bad key!: ungültiger Schlüssel der Netzwerkrichtlinie 'bad key!' (Buchstaben, Ziffern, '_', '.' und '-' verwenden)
$f:32:3: Fehler: network_policies.bad key!.binaries: keine binaries: mindestens ein Programm ist erforderlich (path \"/**\" erlaubt jedes Programm)
$f:34:17: Fehler: network_policies.bad key!.endpoints[0].host: ein leerer Host braucht allowed_ips (er steht dann für jeden Host, beschränkt auf diese Adressen)
$f: ungültig (17 Fehler)" \
    "policy validate (de): German diagnostics with file:line:col, field names and values as written"
en_out=$(cd "$srcdir" && en policy validate "$f" 2>&1)
is "$(printf '%s\n' "$en_out" | sed -n '1p;8p;$p')" "\
$f:4:20: error: filesystem_policy.include_workdir: expected true or false, got 'yes'
$f:16:15: error: network_policies.github_api.endpoints[0].port: invalid port 70000 (expected 1-65535)
$f: invalid (17 errors)" \
    "LANGUAGE=C policy validate: the English diagnostics, unchanged"
is "$(printf '%s\n' "$out" | sed '$d' | cut -d: -f1-3)" \
    "$(printf '%s\n' "$en_out" | sed '$d' | cut -d: -f1-3)" \
    "policy validate: German and English report the same places"

# --- Unknown commands ----------------------------------------------------------
out=$(de frobnicate 2>&1)
rc=$?
is "$rc:$out" "2:openshell: unbekannter Befehl 'frobnicate' (siehe 'openshell --help')" \
    "unknown command (de): German message, exit status 2"
out=$(en frobnicate 2>&1)
rc=$?
is "$rc:$out" "2:openshell: unknown command 'frobnicate' (try 'openshell --help')" \
    "LANGUAGE=C unknown command: the English message"
out=$(de policy frob 2>&1)
is "$(printf '%s\n' "$out" | sed -n '1,2p')" "\
openshell: unbekannter policy-Unterbefehl 'frob'
Aufruf: openshell policy validate|fmt|explain FILE" \
    "unknown subcommand (de): German message and usage"

# --- openshell gateway start: a gateway binary that cannot run -----------------
# The message comes from the forked child, before any gateway exists; the
# errno text is the C library's own (translated or not), so only the part
# before it is compared.
nobin=$tmp/no-such-dir/openshell-gateway
mkdir -p "$tmp/state"
out=$(OPENSHELL_GATEWAY_BIN=$nobin de --state-dir "$tmp/state" gateway start 2>&1)
rc=$?
case $rc:$out in
"1:openshell: $nobin lässt sich nicht ausführen: "?*)
	ok "gateway start (de): German 'cannot run', exit status 1" ;;
*)	not_ok "gateway start (de): German 'cannot run', exit status 1"
	printf 'exit status %s: %s\n' "$rc" "$out" | diag ;;
esac
out=$(OPENSHELL_GATEWAY_BIN=$nobin en --state-dir "$tmp/state" gateway start 2>&1)
rc=$?
is "$rc:$out" "1:openshell: cannot run $nobin: No such file or directory" \
    "LANGUAGE=C gateway start: the English 'cannot run' message"

# --- po/de.po covers every string the sources mark today ---------------------
opts=$(sed -n 's/^XGETTEXT_OPTIONS[ 	]*=[ 	]*//p' "$srcdir/po/Makevars")
# shellcheck disable=SC2086  # the options are words
if xgettext --default-domain=openshell-c --directory="$srcdir" \
    --files-from="$srcdir/po/POTFILES.in" $opts \
    -o "$tmp/fresh.pot" 2>"$tmp/xgettext.err"; then
	ok "xgettext over po/POTFILES.in: $(($(grep -c '^msgid ' "$tmp/fresh.pot") - 1)) messages"
else
	not_ok "xgettext over po/POTFILES.in"
	diag <"$tmp/xgettext.err"
fi
# A file that marks strings but is not listed would escape the check below.
unlisted=$(cd "$srcdir" && grep -lE '\<N?_\("' lib/*.[ch] cli/*.[ch] gateway/*.[ch] \
    sandbox/*.[ch] 2>/dev/null | while read -r src; do
	grep -qxF "$src" po/POTFILES.in || echo "$src"
done)
is "$unlisted" "" "po/POTFILES.in lists every file that uses _() or N_()"
if msgmerge --quiet -o "$tmp/merged.po" "$srcdir/po/de.po" "$tmp/fresh.pot" \
    2>"$tmp/msgmerge.err"; then
	# Nothing when all is well; else the header, then the messages.
	untranslated=$(msgattrib --untranslated --no-obsolete "$tmp/merged.po" |
	    awk -v RS= -v ORS='\n\n' 'NR > 1')
	fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$tmp/merged.po" |
	    awk -v RS= -v ORS='\n\n' 'NR > 1')
	if [ -z "$untranslated" ]; then
		ok "every msgid of a fresh .pot has a translation in po/de.po"
	else
		not_ok "po/de.po lacks translations (add them to po/de.po):"
		printf '%s\n' "$untranslated" | diag
	fi
	if [ -z "$fuzzy" ]; then
		ok "no fresh msgid matches po/de.po only fuzzily"
	else
		not_ok "po/de.po has fuzzy matches for changed strings:"
		printf '%s\n' "$fuzzy" | diag
	fi
else
	not_ok "msgmerge po/de.po with a fresh .pot"
	diag <"$tmp/msgmerge.err"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

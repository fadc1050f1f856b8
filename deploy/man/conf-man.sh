#!/bin/sh
# conf-man.sh PIXELGATE TEMPLATE VERSION: pixelgate.conf(5) on stdout. The
# KEYS section is made from `pixelgate --keys` (every key, its default and
# its description, as the daemon itself knows them), so the manual page
# cannot fall behind the code; the rest is TEMPLATE with @VERSION@ and
# @KEYS@ filled in.
set -eu
pg=$1 template=$2 version=$3
keys=$("$pg" --keys | awk '
	function esc(s) { gsub(/\\/, "\\e", s); gsub(/^[.\x27]/, "\\\\\\&&", s); return s }
	/^\[/ { printf ".SS %s\n", esc($0); next }
	/^# / { help = substr($0, 3); next }
	/ = / {
		i = index($0, " = ")
		k = substr($0, 1, i - 1); v = substr($0, i + 3)
		printf ".TP\n.B %s\n", esc(k)
		printf "%s (default: %s)\n", esc(help), v == "" ? "empty" : "\\fB" esc(v) "\\fR"
	}')
# ENVIRON, not -v: awk would read the backslashes of the roff as escapes
KEYS=$keys awk -v version="$version" '
	/@KEYS@/ { print ENVIRON["KEYS"]; next }
	{ gsub(/@VERSION@/, version); print }' "$template"

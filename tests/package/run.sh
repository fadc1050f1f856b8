#!/usr/bin/env bash
# tests/package/run.sh WORKDIR: the Debian package, as an IT department gets it.
#
#   1. builds the .debs (dpkg-buildpackage -b -uc -us) from a copy of the tree;
#      debian/changelog's version must be the CMake project's;
#   2. installs them (dpkg -i): binaries and --version, the modes and owners of
#      what postinst made, pixelgate -n on the packaged configuration, the man
#      pages, systemd-analyze verify on the unit, and the exposure
#      systemd-analyze security gives (printed);
#   3. runs the installed pixelgate.service under systemd: where this machine
#      runs systemd, systemd is PID 1 of a container (systemd-nspawn) made from
#      this machine's /usr and an overlay of its /etc, with a network of its
#      own (loopback only). tests/package/in-container.sh starts the service,
#      logs in with curl, opens a session with the installed viewer under
#      Xvfb, renews the certificate and reloads with the session running
#      (same main pid, same session, the new certificate served), stops it;
#   4. upgrades to a newer build (the same package as 0.16.0+ci1) and checks
#      that the audit log, its key and the users are byte for byte as before;
#   5. removes, then purges: the audit log and its key stay, and
#      pixelgatectl audit verify still says the log is intact.
#
# What the machine had in /etc/pixelgate, /var/lib/pixelgate and
# /var/log/pixelgate (a quickstart's, say) is moved aside first and put back
# at the end; so is the Chromium policy tests/run.sh installs. Exit 0 when
# every check passed; the failed ones are listed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${1:?usage: tests/package/run.sh WORKDIR}
SAVE=$WORK/saved
FAILED=()
POLICY=/etc/chromium/policies/managed/pixelgate.json

say() { printf 'package: %s\n' "$*"; }
ok() { say "ok   $1"; }
bad() { say "FAIL $1: $2"; FAILED+=("$1"); }
check() { # check NAME COMMAND...
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$* -> ${out:0:400}"; fi
}

rm -rf "$WORK"
mkdir -p "$WORK" "$SAVE"

# What a development machine may hold, put aside (and back at the end).
for d in /etc/pixelgate /var/lib/pixelgate /var/log/pixelgate; do
	if [[ -e $d ]]; then
		mkdir -p "$SAVE$(dirname "$d")"
		mv "$d" "$SAVE$d"
	fi
done
[[ -e $POLICY ]] && cp -a "$POLICY" "$SAVE/policy.json"
restore() {
	dpkg --purge pixelgate pixelgate-viewer >/dev/null 2>&1
	rm -rf /etc/pixelgate /var/lib/pixelgate /var/log/pixelgate
	for d in /etc/pixelgate /var/lib/pixelgate /var/log/pixelgate; do
		[[ -e $SAVE$d ]] && mv "$SAVE$d" "$d"
	done
	[[ -e $SAVE/policy.json ]] && install -D -m 0644 "$SAVE/policy.json" "$POLICY"
	true
}
trap restore EXIT

# ---- 1. build ---------------------------------------------------------------
mkdir -p "$WORK/src"
tar -C "$ROOT" --exclude='./build*' --exclude=./.git --exclude=./deploy/.quickstart -cf - . |
	tar -C "$WORK/src" -xf -
cmake_version=$(sed -n 's/^project(pixelgate VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
deb_version=$(cd "$WORK/src" && dpkg-parsechangelog -S Version)
[[ ${deb_version%%[-+]*} == "$cmake_version" ]] && ok "version $deb_version" ||
	bad version "debian/changelog says $deb_version, CMakeLists.txt $cmake_version"
if ! (cd "$WORK/src" && dpkg-buildpackage -b -uc -us >"$WORK/build.log" 2>&1); then
	tail -30 "$WORK/build.log"
	bad build "dpkg-buildpackage failed (log: $WORK/build.log)"
	exit 1
fi
ok "built $(cd "$WORK" && ls ./*.deb | tr '\n' ' ')"
deb=$WORK/pixelgate_${deb_version}_amd64.deb
viewer_deb=$WORK/pixelgate-viewer_${deb_version}_amd64.deb

# ---- 2. install -------------------------------------------------------------
check install dpkg -i "$deb" "$viewer_deb"
for b in /usr/sbin/pixelgate /usr/libexec/pixelgate/pixelgate-session /usr/bin/pixelgatectl \
	/usr/bin/pixelgate-viewer; do
	v=$("$b" --version 2>&1)
	[[ $v == "$(basename "$b") $cmake_version" ]] && ok "$b --version" ||
		bad "$b --version" "printed \"$v\""
done
mode() { # mode PATH WANT (octal mode user:group)
	local got
	got=$(stat -c '%a %U:%G' "$1" 2>&1)
	[[ $got == "$2" ]] && ok "mode $1 $2" || bad "mode $1" "$got, want $2"
}
mode /etc/pixelgate/pixelgate.conf "640 root:root"
mode /etc/pixelgate/audit.key "600 pixelgate:pixelgate"
mode /etc/pixelgate/tls/server.key "600 pixelgate:pixelgate"
mode /etc/pixelgate/tls/server.crt "644 root:root"
mode /var/lib/pixelgate "700 pixelgate:pixelgate"
mode /var/lib/pixelgate/users "600 pixelgate:pixelgate"
check "pixelgate -n" /usr/sbin/pixelgate -n -c /etc/pixelgate/pixelgate.conf
for m in "5 pixelgate.conf" "8 pixelgate" "8 pixelgatectl" "1 pixelgate-viewer"; do
	# shellcheck disable=SC2086
	check "man $m" man -w $m
done
out=$(systemd-analyze verify /lib/systemd/system/pixelgate.service 2>&1)
[[ $? -eq 0 && -z $out ]] && ok "systemd-analyze verify" || bad "systemd-analyze verify" "$out"
exposure=$(systemd-analyze security --offline=true /lib/systemd/system/pixelgate.service 2>&1 |
	sed -n 's/.*Overall exposure level for pixelgate.service: //p')
[[ -n $exposure ]] && ok "systemd-analyze security: exposure $exposure" ||
	bad "systemd-analyze security" "no exposure level"

# The operator guide's examples are in the package: the host firewall parses
# (in a network namespace of our own), and the balancer's half parses after
# Debian's own haproxy.cfg, as the README says to install it
# (tests/integration/test_cluster.c runs it against two nodes).
ex=/usr/share/doc/pixelgate/examples
check "nftables example parses" unshare -n nft -c -f "$ex/nftables-pixelgate.nft"
# shellcheck disable=SC2016 # $1..$3 are the inner shell's
check "haproxy example parses" sh -c 'cat "$1" "$2" >"$3" && haproxy -c -f "$3"' sh \
	/etc/haproxy/haproxy.cfg "$ex/haproxy-pixelgate.cfg" "$WORK/haproxy.cfg"

# ---- 3. the service under systemd ----------------------------------------------
run_container() {
	local root=$WORK/root
	rm -rf "$root" "$WORK/out"
	mkdir -p "$root"/{usr,etc,var,dev,proc,sys,run,tmp,root,home} "$WORK/out"
	for l in bin lib lib64 sbin; do ln -s "usr/$l" "$root/$l"; done
	cp /etc/os-release "$root/etc/os-release"
	cat >"$WORK/unit" <<'EOF'
[Unit]
Description=pixelgate package test (tests/package/in-container.sh)
After=basic.target
[Service]
Type=oneshot
ExecStart=/bin/bash /pgtest.sh
TimeoutStartSec=240
EOF
	# The cells need what a container leaves out by default: the keyring calls
	# (each cell gets a session keyring of its own) and every capability.
	timeout 300 systemd-nspawn --register=no --keep-unit -q -D "$root" --private-network \
		--system-call-filter="add_key keyctl request_key" --capability=all \
		--bind-ro=/usr --overlay=/etc::/etc --bind=/var/log/pixelgate --bind=/var/lib/pixelgate \
		--bind="$WORK/out:/out" --bind-ro="$ROOT/tests/package/in-container.sh:/pgtest.sh" \
		--bind-ro="$WORK/unit:/etc/systemd/system/pixelgate-package-test.service" \
		-b -- systemd.unit=pixelgate-package-test.service >"$WORK/container.log" 2>&1
}
if [[ -d /run/systemd/system ]]; then
	say "this machine runs systemd; the service still runs in a container, so that the test"
	say "cannot disturb a pixelgate this machine runs"
else
	say "this machine does not run systemd (PID 1 is $(cat /proc/1/comm)): systemd runs as PID 1"
	say "of a container made from this machine's /usr, with the installed package"
fi
mkdir -p /var/log/pixelgate
run_container
if [[ ! -s $WORK/out/result ]]; then
	bad container "the container's test did not report (log: $WORK/container.log)"
	tail -20 "$WORK/container.log"
else
	while read -r verdict name rest; do
		case $verdict in
		ok) ok "service: $name" ;;
		FAIL) bad "service: ${name%:}" "$rest" ;;
		esac
	done <"$WORK/out/result"
	grep -q '^done' "$WORK/out/result" || bad container "the container's test stopped early"
	# journald: the gateway's own lines, natively, with priorities and the session's fields
	python3 - "$WORK/out/journal" <<'EOF' && ok "service: journal fields" || bad "service: journal fields" "see $WORK/out/journal"
import json, sys
idents, sessions, prios = set(), 0, set()
for line in open(sys.argv[1]):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    if j.get("_TRANSPORT") == "journal" and j.get("SYSLOG_IDENTIFIER", "").startswith("pixelgate"):
        idents.add(j["SYSLOG_IDENTIFIER"])
        prios.add(j.get("PRIORITY"))
        sessions += "PIXELGATE_SESSION" in j
print("journal: identifiers %s, priorities %s, lines with a session %d" % (sorted(idents), sorted(prios), sessions))
sys.exit(0 if {"pixelgate", "pixelgate-priv"} <= idents and "6" in prios and sessions > 0 else 1)
EOF
fi
cp -a "$WORK/out" "$WORK/out-first" 2>/dev/null

# ---- 4. upgrade ---------------------------------------------------------------
sums() { (cd / && sha256sum etc/pixelgate/audit.key var/lib/pixelgate/users \
	var/log/pixelgate/audit/* 2>/dev/null) | sort; }
sums >"$WORK/sums.before"
[[ $(grep -c audit/ "$WORK/sums.before") -ge 1 ]] && ok "the service wrote an audit log" ||
	bad "audit log" "no audit file after the service ran"
newer=$WORK/newer
rm -rf "$newer"
dpkg-deb -R "$deb" "$newer"
sed -i "s/^Version: .*/Version: ${deb_version}+ci1/" "$newer/DEBIAN/control"
dpkg-deb -b "$newer" "$WORK/pixelgate_${deb_version}+ci1_amd64.deb" >/dev/null
check upgrade dpkg -i "$WORK/pixelgate_${deb_version}+ci1_amd64.deb"
[[ $(dpkg-query -W -f '${Version}' pixelgate) == "${deb_version}+ci1" ]] && ok "upgraded" ||
	bad upgraded "dpkg says $(dpkg-query -W -f '${Version}' pixelgate)"
sums >"$WORK/sums.after"
cmp -s "$WORK/sums.before" "$WORK/sums.after" && ok "upgrade kept the audit log, key and users" ||
	bad "upgrade kept" "$(diff "$WORK/sums.before" "$WORK/sums.after")"

# ---- 5. remove, purge -----------------------------------------------------------
ctl=$WORK/pixelgatectl
cp /usr/bin/pixelgatectl "$ctl" # the log is verified after the package is gone
check remove dpkg -r pixelgate
sums >"$WORK/sums.removed"
cmp -s "$WORK/sums.before" "$WORK/sums.removed" && ok "remove kept the audit log" ||
	bad "remove kept" "$(diff "$WORK/sums.before" "$WORK/sums.removed")"
check purge dpkg --purge pixelgate pixelgate-viewer
[[ ! -e /etc/pixelgate/pixelgate.conf && ! -e /var/lib/pixelgate ]] &&
	ok "purge removed the configuration and state" || bad purge "configuration or state left"
grep -v ' var/lib/' "$WORK/sums.before" >"$WORK/sums.kept"
sums >"$WORK/sums.purged"
cmp -s "$WORK/sums.kept" "$WORK/sums.purged" && ok "purge kept the audit log and its key" ||
	bad "purge kept" "$(diff "$WORK/sums.kept" "$WORK/sums.purged")"
check "audit verify after purge" "$ctl" audit verify --dir /var/log/pixelgate/audit \
	--key-file /etc/pixelgate/audit.key

if ((${#FAILED[@]} > 0)); then
	say "${#FAILED[@]} checks failed: ${FAILED[*]}"
	exit 1
fi
say "all checks passed"

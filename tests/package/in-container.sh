#!/bin/bash
# tests/package/in-container.sh: run by systemd (PID 1 of a container that
# tests/package/run.sh boots from this machine's /usr, with the installed
# package) as the unit pixelgate-package-test.service. Drives the installed
# pixelgate.service through systemctl as an operator would and writes what
# it saw to /out/result ("ok NAME" / "FAIL NAME: why" lines), /out/journal
# (the unit's journal as JSON) and /out/state; then powers the container off.
set -u
out=/out/result
: > "$out"
ok() { echo "ok $1" >> "$out"; }
fail() { echo "FAIL $1: $2" >> "$out"; }
check() { # check NAME COMMAND...: ok if the command succeeds
	local name=$1; shift
	if "$@" >> /out/commands.log 2>&1; then ok "$name"; else fail "$name" "$* (exit $?)"; fi
}
finish() {
	journalctl --no-pager -o json -u pixelgate.service > /out/journal 2>&1
	systemctl show pixelgate.service -p ActiveState -p SubState -p NRestarts -p MainPID \
		-p StatusText > /out/state 2>&1
	echo "done" >> "$out"
	systemctl poweroff
	exit 0
}
trap finish EXIT

cd /tmp || exit 1
# An administrator and a staff user, as the README's production install says.
umask 077
printf 'admin-password-1\n' > /root/admin.pw
printf 'staff-password-1\n' > /root/staff.pw
check users_added sh -c 'pixelgatectl local-user add pgadmin --admin --password-file /root/admin.pw &&
	pixelgatectl local-user add pgstaff --password-file /root/staff.pw'

check service_starts systemctl start pixelgate.service
check service_active systemctl is-active pixelgate.service
main_pid=$(systemctl show -p MainPID --value pixelgate.service)
echo "main_pid $main_pid" >> /out/commands.log
status=$(systemctl show -p StatusText --value pixelgate.service)
case $status in "listening on 127.0.0.1:8443"*) ok status_text ;; *) fail status_text "$status" ;; esac

ca=/etc/pixelgate/tls/server.crt
login() {
	curl -sS --cacert "$ca" -o /out/login.json -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		-d '{"user":"pgstaff","password":"staff-password-1"}' https://127.0.0.1:8443/api/v1/login
}
code=$(login)
if [ "$code" = 200 ] && grep -q '"ticket"' /out/login.json; then ok login; else fail login "HTTP $code"; fi
code=$(curl -sS --cacert "$ca" -o /dev/null -w '%{http_code}' https://127.0.0.1:8444/healthz)
[ "$code" = 200 ] && ok healthz || fail healthz "HTTP $code"

# A session: the installed viewer under Xvfb, logged in with its password file.
Xvfb :7 -screen 0 1280x900x24 -nolisten tcp > /out/xvfb.log 2>&1 &
sleep 1
DISPLAY=:7 pixelgate-viewer --server https://127.0.0.1:8443 --ca "$ca" --user pgstaff \
	--password-file /root/staff.pw --log-file /out/viewer.log > /out/viewer.out 2>&1 &
viewer=$!
session=""
for _ in $(seq 60); do
	session=$(pixelgatectl --server https://127.0.0.1:8444 --ca "$ca" --user pgadmin \
		--password-file /root/admin.pw --json sessions 2>/dev/null |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"]; print(s[0]["id"] if s and s[0].get("state")=="active" else "")' 2>/dev/null)
	[ -n "$session" ] && break
	sleep 1
done
[ -n "$session" ] && ok session_ready || fail session_ready "no ready session with a viewer"
echo "session $session" >> /out/commands.log

# Reload with the session running: a renewed certificate at the same paths.
serial() { openssl s_client -connect 127.0.0.1:"$1" -CAfile /out/renewed.crt </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null; }
old=$(serial 8443)
(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj "/CN=renewed" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout /out/renewed.key -out /out/renewed.crt 2>/dev/null)
cat /out/renewed.crt > /etc/pixelgate/tls/server.crt
cat /out/renewed.key > /etc/pixelgate/tls/server.key
check reload systemctl reload pixelgate.service
sleep 2
new=$(serial 8443)
want=$(openssl x509 -in /out/renewed.crt -noout -serial)
[ "$new" = "$want" ] && [ "$new" != "$old" ] && ok renewed_cert_served ||
	fail renewed_cert_served "served $new, want $want (before: $old)"
[ "$(systemctl show -p MainPID --value pixelgate.service)" = "$main_pid" ] && ok same_main_pid ||
	fail same_main_pid "the service restarted"
after=$(pixelgatectl --server https://127.0.0.1:8444 --ca /out/renewed.crt --user pgadmin \
	--password-file /root/admin.pw --json sessions 2>/dev/null |
	python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"]; print(s[0]["id"] if s and s[0].get("state")=="active" else "")' 2>/dev/null)
[ -n "$session" ] && [ "$after" = "$session" ] && ok session_survives_reload ||
	fail session_survives_reload "before $session, after '$after'"
kill -0 "$viewer" 2>/dev/null && ok viewer_still_running || fail viewer_still_running "the viewer exited"
status=$(systemctl show -p StatusText --value pixelgate.service)
case $status in "reloaded: certificate valid until"*) ok status_after_reload ;; *) fail status_after_reload "$status" ;; esac

kill "$viewer" 2>/dev/null
check service_stops systemctl stop pixelgate.service

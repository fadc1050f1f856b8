#!/usr/bin/env bash
# deploy/quickstart.sh: a working pixelgate on 127.0.0.1 in one command.
#
# Installs missing Debian packages, builds a release build in build/, makes a
# development CA, a server certificate, a users file with the user "demo" and
# a config under deploy/.quickstart/ (kept between runs), checks the config,
# then runs the gateway in the foreground. Ctrl-C stops everything.
#
#   sudo deploy/quickstart.sh [--port N] [--no-viewer]
#
# Development only: the CA key sits next to the certificates it signs.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
STATE=$ROOT/deploy/.quickstart
CONF=$STATE/pixelgate.conf
CA_CRT=$STATE/ca.crt
CA_KEY=$STATE/ca.key
# What the gateway's network process reads and writes, in a directory of its
# user's own (it rewrites the users file by rename); the CA stays root's.
GW_DIR=$STATE/gateway
SERVER_CRT=$GW_DIR/server.crt
SERVER_KEY=$GW_DIR/server.key
USERS_FILE=$GW_DIR/users
PW_FILE=$STATE/demo.password
DEMO_USER=demo
# An administrator for the admin API, and a pixelgatectl.conf that uses it.
ADMIN_USER="admin"
ADMIN_PW_FILE=$STATE/admin.password
CTL_CONF=$STATE/pixelgatectl.conf
GATEWAY_USER=pixelgate
SQUID_DIR=$STATE/squid
SQUID_PID=""
SQUID_PORT=""
POLICY_SRC=$ROOT/deploy/chromium-policy.json
POLICY_DST=/etc/chromium/policies/managed/pixelgate.json
CERT_DAYS=825
STOP_DEADLINE_S=20

PORT=8443
WANT_VIEWER=1
DAEMON_PID=""
VIEWER_PID=""

# Same list as tests/run.sh, plus curl for the login example printed at the end.
# Debian packages: pixelgate's (deploy/lib.sh) and curl for the login example.
# shellcheck source=lib.sh
source "$ROOT/deploy/lib.sh"
PACKAGES=("${PIXELGATE_PACKAGES[@]}" curl)

usage() {
	cat <<EOF
Usage: ${0##*/} [--port N] [--no-viewer] [--help]

Build pixelgate and run it on 127.0.0.1 with a development CA and a demo user.
State (CA, keys, users, config) is kept in deploy/.quickstart/ and reused.

  --port N      staff listener port (default 8443)
  --no-viewer   do not start pixelgate-viewer even if a display is available
  --help        this text

Run as root (sudo): pixelgate starts as root, its network process runs as
$GATEWAY_USER and every session gets a cell of its own (a uid, namespaces,
egress only through the local squid on port N+2, started here).
EOF
}

say() { printf '==> %s\n' "$*"; }
warn() { printf 'quickstart: warning: %s\n' "$*" >&2; }
die() {
	printf 'quickstart: %s\n' "$*" >&2
	exit 1
}

# Run a command, showing its output only if it fails.
quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		return 1
	fi
}

parse_args() {
	while [[ $# -gt 0 ]]; do
		case $1 in
		--port)
			[[ $# -ge 2 ]] || die "--port needs a value"
			PORT=$2
			shift 2
			;;
		--port=*)
			PORT=${1#--port=}
			shift
			;;
		--no-viewer)
			WANT_VIEWER=0
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			die "unknown argument: $1"
			;;
		esac
	done
	if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
		die "--port must be a number from 1 to 65535, not \"$PORT\""
	fi
	PORT=$((10#$PORT))
	if [[ $EUID -ne 0 ]] && ((PORT < 1024)); then
		warn "port $PORT is privileged; as uid $EUID the gateway will probably fail to listen"
	fi
}

install_packages() {
	local missing=()
	mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
	if [[ ${#missing[@]} -eq 0 ]]; then
		say "packages: all present"
		return 0
	fi
	say "installing: ${missing[*]}"
	can_be_root || die "missing packages ${missing[*]}: run as root or with sudo"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}"
}

build() {
	say "building $BUILD (RelWithDebInfo)"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DPIXELGATE_SANITIZE=OFF -DPIXELGATE_WERROR=OFF -DPIXELGATE_TESTS=OFF ||
		die "cmake configure failed"
	cmake --build "$BUILD" -j"$(nproc)" || die "build failed"
	local bin
	for bin in pixelgate pixelgate-session pixelgatectl; do
		[[ -x $BUILD/$bin ]] || die "$BUILD/$bin was not built"
	done
}

# X socket directory, browser user, Chromium policy.
setup_system() {
	python3 -m json.tool "$POLICY_SRC" >/dev/null || die "$POLICY_SRC is not valid JSON"
	if ! can_be_root; then
		warn "no root and no sudo: Chromium runs WITHOUT the pixelgate policy ($POLICY_DST)"
		[[ -d /tmp/.X11-unix ]] || die "/tmp/.X11-unix is missing and only root can create it"
		return 0
	fi
	if [[ ! -d /tmp/.X11-unix || $(stat -c '%a %U' /tmp/.X11-unix) != "1777 root" ]]; then
		say "creating /tmp/.X11-unix (root, 1777)"
		as_root mkdir -p /tmp/.X11-unix
		as_root chown root:root /tmp/.X11-unix
		as_root chmod 1777 /tmp/.X11-unix
	fi
	if [[ $EUID -eq 0 ]] && ! getent passwd "$GATEWAY_USER" >/dev/null; then
		say "creating system user $GATEWAY_USER (the gateway's network process)"
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$GATEWAY_USER"
	fi
	if ! cmp -s "$POLICY_SRC" "$POLICY_DST"; then
		say "installing the Chromium policy $POLICY_DST"
		as_root install -d -m 0755 "$(dirname "$POLICY_DST")"
		as_root install -m 0644 "$POLICY_SRC" "$POLICY_DST"
	fi
}

make_ca() {
	say "creating a development CA ($CA_CRT, $CERT_DAYS days)"
	rm -f "$CA_CRT" "$CA_KEY" "$SERVER_CRT" "$SERVER_KEY"
	(
		umask 077
		quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$CA_KEY" -out "$CA_CRT" -days "$CERT_DAYS" \
			-subj "/O=pixelgate quickstart/CN=pixelgate quickstart development CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
	) || die "cannot create the CA"
}

make_server_cert() {
	local csr=$STATE/server.csr ext=$STATE/server.ext
	say "creating the server certificate ($SERVER_CRT: IP:127.0.0.1, DNS:localhost)"
	rm -f "$SERVER_CRT" "$SERVER_KEY"
	printf '%s\n' \
		'basicConstraints = critical,CA:FALSE' \
		'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' \
		'subjectAltName = IP:127.0.0.1,DNS:localhost' \
		'subjectKeyIdentifier = hash' \
		'authorityKeyIdentifier = keyid' >"$ext"
	(
		umask 077
		quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$SERVER_KEY" -out "$csr" -subj "/O=pixelgate quickstart/CN=localhost" &&
			quiet openssl x509 -req -in "$csr" -CA "$CA_CRT" -CAkey "$CA_KEY" \
				-set_serial "0x$(openssl rand -hex 16)" -days "$CERT_DAYS" -sha256 \
				-extfile "$ext" -out "$SERVER_CRT"
	) || die "cannot create the server certificate"
	rm -f "$csr" "$ext"
}

# Reuse the CA and server certificate while they are valid for another day.
setup_tls() {
	if [[ -s $CA_CRT && -s $CA_KEY ]] &&
		openssl x509 -in "$CA_CRT" -noout -checkend 86400 >/dev/null 2>&1; then
		say "reusing the development CA $CA_CRT"
	else
		make_ca
	fi
	if [[ -s $SERVER_CRT && -s $SERVER_KEY ]] &&
		openssl verify -CAfile "$CA_CRT" "$SERVER_CRT" >/dev/null 2>&1 &&
		openssl x509 -in "$SERVER_CRT" -noout -checkend 86400 >/dev/null 2>&1; then
		say "reusing the server certificate $SERVER_CRT"
	else
		make_server_cert
	fi
	chmod 600 "$CA_KEY" "$SERVER_KEY"
	chmod 644 "$CA_CRT" "$SERVER_CRT"
}

# The demo user: reuse it while the users file and the password file agree.
# A random password of at least 16 characters (letters and digits) on stdout.
random_password() {
	local pw=""
	while ((${#pw} < 16)); do
		pw=$(openssl rand -base64 15 | tr -d '/+=')
	done
	printf '%s' "$pw"
}

setup_users() {
	local pw=""
	if [[ -s $PW_FILE && -f $USERS_FILE ]] && grep -q "^$DEMO_USER:" "$USERS_FILE"; then
		say "reusing user $DEMO_USER ($USERS_FILE)"
	else
		say "creating user $DEMO_USER in $USERS_FILE"
		pw=$(random_password)
		rm -f "$USERS_FILE" "$PW_FILE"
		(
			umask 077
			printf '%s' "$pw" >"$PW_FILE"
			: >"$USERS_FILE"
		)
		"$BUILD/pixelgatectl" local-user add "$DEMO_USER" --users-file "$USERS_FILE" \
			--password-file "$PW_FILE" ||
			{
				rm -f "$PW_FILE"
				die "pixelgatectl local-user add failed"
			}
	fi
	chmod 600 "$USERS_FILE" "$PW_FILE"
	DEMO_PASSWORD=$(<"$PW_FILE")
	setup_admin
}

# The administrator (admin API, pixelgatectl): password in an owner-only file.
setup_admin() {
	if [[ -s $ADMIN_PW_FILE ]] && grep -q "^$ADMIN_USER:admin:" "$USERS_FILE"; then
		say "reusing administrator $ADMIN_USER ($ADMIN_PW_FILE)"
	else
		say "creating administrator $ADMIN_USER in $USERS_FILE"
		(umask 077 && random_password >"$ADMIN_PW_FILE")
		"$BUILD/pixelgatectl" local-user del "$ADMIN_USER" --users-file "$USERS_FILE" \
			>/dev/null 2>&1 || true
		"$BUILD/pixelgatectl" local-user add "$ADMIN_USER" --admin --users-file "$USERS_FILE" \
			--password-file "$ADMIN_PW_FILE" ||
			die "pixelgatectl local-user add $ADMIN_USER failed"
	fi
	chmod 600 "$ADMIN_PW_FILE"
}

# pixelgatectl.conf for the quickstart's admin API (pixelgatectl --config FILE).
write_ctl_config() {
	cat >"$CTL_CONF" <<EOF
# pixelgatectl.conf written by deploy/quickstart.sh: pixelgatectl --config $CTL_CONF status
[pixelgatectl]
server = https://127.0.0.1:$((PORT + 1))
ca_file = $CA_CRT
user = $ADMIN_USER
password_file = $ADMIN_PW_FILE
EOF
	chmod 600 "$CTL_CONF"
}

# Per-session directories live here; the gateway makes one private dir per session.
setup_runtime_dir() {
	if [[ $EUID -eq 0 ]]; then
		RUNTIME_DIR=/run/pixelgate
		install -d -m 0711 -o root -g root "$RUNTIME_DIR"
	else
		RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}/pixelgate-$EUID
		[[ -d $RUNTIME_DIR ]] || mkdir -m 0700 "$RUNTIME_DIR"
		[[ -O $RUNTIME_DIR && ! -L $RUNTIME_DIR ]] ||
			die "$RUNTIME_DIR is not a directory owned by you"
		chmod 0700 "$RUNTIME_DIR"
	fi
}

# The gateway opens pixelgate-session (next to itself) at start-up, as root,
# and each cell fexecve()s that descriptor as its own uid.
setup_session_binary() {
	SESSION_BINARY=""
}

# The audit chain's HMAC key (0600) and where the audit log goes.
setup_audit() {
	AUDIT_KEY=$GW_DIR/audit.key
	if [[ $EUID -eq 0 ]]; then
		AUDIT_DIR=/var/log/pixelgate/audit
		STATE_DIR=/var/lib/pixelgate
	else
		AUDIT_DIR=$STATE/audit
		STATE_DIR=$STATE/state
	fi
	if [[ ! -s $AUDIT_KEY ]]; then
		say "creating the audit log key $AUDIT_KEY"
		(umask 077 && head -c 32 /dev/urandom >"$AUDIT_KEY")
	fi
	chmod 600 "$AUDIT_KEY"
	# the network process's own files and directories (made by the gateway when missing)
	if [[ $EUID -eq 0 ]]; then
		chown -R "$GATEWAY_USER:" "$GW_DIR"
		[[ ! -d $STATE_DIR ]] || chown "$GATEWAY_USER:" "$STATE_DIR"
		[[ ! -d $AUDIT_DIR ]] || chown -R "$GATEWAY_USER:" "$AUDIT_DIR"
	fi
}

# The sessions' only way out: a squid on 127.0.0.1 standing in for the
# prefectural security cloud. It refuses loopback, private, link-local and
# metadata addresses (so no session reaches this host's services or the
# LGWAN side) and ports other than 80/443, and logs every request.
# This host's own addresses (its public ones too): no session may reach its services.
self_addresses() {
	hostname -I 2>/dev/null | tr -s ' ' '\n' | grep -v '^$' | tr '\n' ' ' || true
}
self_addresses_acl() {
	local a
	a=$(self_addresses)
	[[ -z $a ]] || printf 'acl to_self dst %s\n' "$a"
}

squid_conf_text() {
	cat <<EOF
# Written by deploy/quickstart.sh; rewritten on every run.
http_port 127.0.0.1:$SQUID_PORT
pid_filename none
cache deny all
cache_mem 16 MB
cache_effective_user proxy
access_log stdio:$SQUID_DIR/access.log
cache_log $SQUID_DIR/cache.log
cache_store_log none
coredump_dir $SQUID_DIR
shutdown_lifetime 1 seconds
forwarded_for delete
via off
acl to_loopback dst 127.0.0.0/8 ::1
acl to_private dst 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10 fc00::/7
acl to_linklocal dst 169.254.0.0/16 fe80::/10
acl to_unspecified dst 0.0.0.0/8 ::
$(self_addresses_acl)
acl web_ports port 80 443
acl tls_port port 443
acl CONNECT method CONNECT
http_access deny to_loopback
http_access deny to_private
http_access deny to_linklocal
http_access deny to_unspecified
$([[ -z $(self_addresses) ]] || printf 'http_access deny to_self\n')
http_access deny !web_ports
http_access deny CONNECT !tls_port
http_access allow all
EOF
}

start_squid() {
	if [[ $EUID -ne 0 ]]; then
		warn "not root: no cells and no local squid; sessions use the host's network directly (development only)"
		return 0
	fi
	SQUID_PORT=$((PORT + 2))
	install -d -m 0750 -o proxy -g proxy "$SQUID_DIR"
	squid_conf_text >"$SQUID_DIR/squid.conf"
	if port_in_use "$SQUID_PORT"; then
		die "127.0.0.1:$SQUID_PORT (squid, --port + 2) is already in use; pick another --port"
	fi
	say "starting squid on 127.0.0.1:$SQUID_PORT (the sessions' upstream proxy; log $SQUID_DIR/access.log)"
	/usr/sbin/squid -N -f "$SQUID_DIR/squid.conf" >"$SQUID_DIR/squid.out" 2>&1 &
	SQUID_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		port_in_use "$SQUID_PORT" && return 0
		kill -0 "$SQUID_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$SQUID_DIR/squid.out" >&2 || true
	die "squid did not start (config $SQUID_DIR/squid.conf)"
}

write_config() {
	local tmp=$CONF.tmp
	cat >"$tmp" <<EOF
# Written by deploy/quickstart.sh; rewritten on every run. Reference: deploy/pixelgate.conf.example
[server]
listen_address = 127.0.0.1
listen_port = $PORT
tls_cert = $SERVER_CRT
tls_key = $SERVER_KEY
users_file = $USERS_FILE
runtime_dir = $RUNTIME_DIR
session_binary = $SESSION_BINARY
user = $GATEWAY_USER
state_dir = $STATE_DIR
$([[ $EUID -eq 0 ]] || printf '# DEVELOPMENT: not root, so no cells\ndevelopment_unprivileged = on\n')

[admin]
admin_listen_address = 127.0.0.1
admin_listen_port = $((PORT + 1))

[audit]
audit_dir = $AUDIT_DIR
audit_key_file = $AUDIT_KEY

[session]
home_page = data:text/html,<title>pixelgate%20demo</title><h1>pixelgate%20demo</h1><p>Type%20an%20address%20in%20the%20address%20bar.</p>
$(if [[ -n $SQUID_PORT ]]; then printf 'upstream_proxy = 127.0.0.1:%s\n' "$SQUID_PORT"; else printf '# DEVELOPMENT: no proxy\ndevelopment_direct_egress = on\n'; fi)

[policy]
clipboard_to_browser = false
EOF
	chmod 644 "$tmp"
	mv -f "$tmp" "$CONF"
	local out
	if ! out=$("$BUILD/pixelgate" -n -c "$CONF" 2>&1) || [[ $out != *"configuration OK"* ]]; then
		printf '%s\n' "$out" >&2
		die "configuration check failed: $BUILD/pixelgate -n -c $CONF"
	fi
	say "$CONF: configuration OK"
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print lines inside a box sized to the longest one.
print_box() {
	local line width=0
	for line in "$@"; do
		if ((${#line} > width)); then
			width=${#line}
		fi
	done
	printf '+%s+\n' "$(printf '%*s' $((width + 2)) '' | tr ' ' '-')"
	for line in "$@"; do
		printf '| %-*s |\n' "$width" "$line"
	done
	printf '+%s+\n' "$(printf '%*s' $((width + 2)) '' | tr ' ' '-')"
}

print_banner() {
	local url="https://127.0.0.1:$PORT"
	print_box \
		"pixelgate quickstart" \
		"" \
		"Staff URL    $url/" \
		"WebSocket    wss://127.0.0.1:$PORT/rfb?ticket=T  (subprotocol binary, RFB 3.8)" \
		"CA           $CA_CRT" \
		"User         $DEMO_USER" \
		"Password     $DEMO_PASSWORD  (file: $PW_FILE)" \
		"Config       $CONF" \
		"Egress       only through squid 127.0.0.1:${SQUID_PORT:-none} (log $SQUID_DIR/access.log)" \
		"" \
		"Log in (returns a 30 s single-use ticket):" \
		"  curl --cacert $CA_CRT -H 'Content-Type: application/json' \\" \
		"    -d '{\"user\":\"$DEMO_USER\",\"password\":\"$DEMO_PASSWORD\"}' $url/api/v1/login" \
		"What answers:  curl --cacert $CA_CRT $url/" \
		"" \
		"Admin API (administrator $ADMIN_USER, password in $ADMIN_PW_FILE):" \
		"  $BUILD/pixelgatectl --config $CTL_CONF status" \
		"  $BUILD/pixelgatectl --config $CTL_CONF sessions" \
		"Audit log:" \
		"  $BUILD/pixelgatectl audit verify --dir $AUDIT_DIR --key-file $AUDIT_KEY" \
		"" \
		"Ctrl-C stops everything."
}

# Kill the viewer and the gateway; the gateway stops its sessions on SIGTERM.
# (cleanup and on_signal run from traps.)
# shellcheck disable=SC2317
cleanup() {
	trap - INT TERM EXIT
	if [[ -n $VIEWER_PID ]] && kill -0 "$VIEWER_PID" 2>/dev/null; then
		kill -TERM "$VIEWER_PID" 2>/dev/null || true
	fi
	if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		say "stopping pixelgate (pid $DAEMON_PID)"
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		local i
		for ((i = 0; i < STOP_DEADLINE_S * 10; i++)); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$DAEMON_PID" 2>/dev/null; then
			warn "pixelgate did not stop within ${STOP_DEADLINE_S}s; killing it (sessions may be left behind)"
			kill -KILL "$DAEMON_PID" 2>/dev/null || true
		fi
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	if [[ -n $VIEWER_PID ]]; then
		wait "$VIEWER_PID" 2>/dev/null || true
	fi
	if [[ -n $SQUID_PID ]] && kill -0 "$SQUID_PID" 2>/dev/null; then
		kill -TERM "$SQUID_PID" 2>/dev/null || true
		wait "$SQUID_PID" 2>/dev/null || true
	fi
}

# shellcheck disable=SC2317
on_signal() {
	printf '\n'
	cleanup
	exit "$1"
}

start_viewer() {
	local viewer=$BUILD/pixelgate-viewer cmd
	local args=(--server "https://127.0.0.1:$PORT" --ca "$CA_CRT" --user "$DEMO_USER"
		--password-file "$PW_FILE")
	printf -v cmd '%q ' "$viewer" "${args[@]}"
	if [[ $WANT_VIEWER -eq 1 && -n ${DISPLAY:-} && -x $viewer ]]; then
		say "starting pixelgate-viewer on $DISPLAY (log: $STATE/viewer.log)"
		"$viewer" "${args[@]}" >"$STATE/viewer.log" 2>&1 &
		VIEWER_PID=$!
		return 0
	fi
	if [[ ! -x $viewer ]]; then
		say "pixelgate-viewer was not built (is libsdl2-ttf-dev installed?)."
		say "Meanwhile any RFB-over-WebSocket client (e.g. noVNC) can connect: log in as above,"
		say "then open wss://127.0.0.1:$PORT/rfb?ticket=TICKET with subprotocol \"binary\"."
	elif [[ $WANT_VIEWER -eq 0 ]]; then
		say "viewer not started (--no-viewer). To start it:"
		say "  $cmd"
	else
		say "no \$DISPLAY: viewer not started. On a desktop, run:"
		say "  $cmd"
	fi
}

main() {
	parse_args "$@"
	cd "$ROOT"
	install_packages
	build
	setup_system
	install -d -m 0711 "$STATE"
	install -d -m 0700 "$GW_DIR"
	setup_tls
	setup_users
	setup_runtime_dir
	setup_session_binary
	setup_audit
	if port_in_use "$PORT"; then
		die "127.0.0.1:$PORT is already in use; pick another with --port N"
	fi

	trap 'on_signal 130' INT
	trap 'on_signal 143' TERM
	trap cleanup EXIT
	start_squid
	write_config
	write_ctl_config

	print_banner
	say "starting pixelgate on 127.0.0.1:$PORT"
	"$BUILD/pixelgate" -c "$CONF" &
	DAEMON_PID=$!

	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		port_in_use "$PORT" && break
		sleep 0.1
	done
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		local rc=0
		wait "$DAEMON_PID" || rc=$?
		DAEMON_PID=""
		die "pixelgate exited during start-up (status $rc); see its messages above"
	fi
	port_in_use "$PORT" || warn "pixelgate is running but 127.0.0.1:$PORT does not answer yet"
	start_viewer

	local status=0
	wait "$DAEMON_PID" || status=$?
	DAEMON_PID=""
	say "pixelgate exited with status $status"
	exit "$status"
}

main "$@"

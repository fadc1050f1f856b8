#!/usr/bin/env bash
# bench/run.sh: build a release pixelgate in build-bench/, start it in a
# throw-away world on 127.0.0.1 and run build-bench/bench_session (figures,
# then bench_rfb_stream: the cost of checking the browser -> terminal stream)
# or build-bench/bench_soak (churn soak, pass/fail) against it.
#
#   sudo bench/run.sh [--sessions N] [--seconds S] [--fps-cap FPS] [--prestart N]
#   sudo bench/run.sh soak [--users N] [--duration S] [--idle-timeout S]
#                          [--grace S] [--chaos-interval S] [--seed N]
#   sudo bench/run.sh record [--seconds S] [--big-size WxH]
#                            [--big-encoding hextile|raw] [--rounds N]
#   sudo bench/run.sh compare --before BUILD_DIR [--seconds S] [--rounds N]
#   sudo bench/run.sh peers [--seconds S] [--runs N] [--only WORKLOADS]
#                           [--servers pixelgate,pixelgate-wm,pixelgate-wmt,x11vnc,xvnc] [--encodings E,E,...]
#
# peers (issue 12): pixelgate beside x11vnc (-ncache 0, on its own Xvfb) and
# TigerVNC's Xvnc, each with a Chromium (as pixelgate-browser, with its
# sandbox, pixelgate's worker's flags, 1280x800, the same start page and
# upstream proxy) and behind websockify (TLS with the world's certificate,
# 127.0.0.1), one server after the other, measured by build-bench/bench_peers
# (the same client for all) on bench/pageserver.py's peer pages; prints a
# table per workload with ratios to the best peer. Figures only.
#
# record: the daemon records bench-1 and bench-2 (recording = users, into
# the world); bench_session --scenario record measures the picture age of
# bench-1 on the animated page alone, then while a big session (2048x2048
# Hextile noise, full updates) of bench-3 (not recorded) and of bench-2
# (recorded) streams. Figures only.
#
# compare: gateway CPU per MB relayed, a build of another tree (BUILD_DIR
# with its pixelgate and pixelgate-session, e.g. a Release build of a git
# worktree at an older commit) against build-bench/, alternately (before,
# after) N rounds (2), each with a daemon of its own in the same world;
# bench_session --scenario relay is the workload (one viewer: the soak page
# with the viewer's encodings, the soak page and the noise page in Hextile
# with a full update every second), built against
# the --before tree's client library (BUILD_DIR/libpgclient.a; this tree's
# viewer core refuses the old gateway's stream). Figures only.
#
# Soak: N users churn for S seconds (bench/bench_soak.c: reconnects, clean
# and abrupt closes mid-update, takeovers, admin kills, idle timeouts,
# browser crashes); it exits non-zero if the gateway died, its fd count
# grew, the audit log does not verify or lost a login, or the daemon's log
# has an AddressSanitizer report (also one written while it stopped).
#
# The world (a temporary directory, removed at the end, also on Ctrl-C): a
# development CA and a server certificate for 127.0.0.1, a users file with
# bench-1..bench-N and bench-admin (pixelgatectl local-user add --password-file),
# an audit key, a config, bench/pageserver.py and the daemon. Prints the
# table of bench_session on stdout; progress goes to stderr. Figures only:
# nothing here passes or fails on a timing. Environment knobs:
#   PIXELGATE_BENCH_BUILD_DIR  build directory (default: build-bench/ at the repo root)
#   PIXELGATE_BENCH_KEEP=1     keep the temporary directory (logs, config)
#   PIXELGATE_BENCH_NO_BUILD=1 use the binaries already in the build directory
#                              as they are (tests/run.sh: its ASan build)
#   PIXELGATE_PEERS_RESULTS=FILE  peers: copy bench_peers' raw lines there
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${PIXELGATE_BENCH_BUILD_DIR:-$ROOT/build-bench}
GATEWAY_USER=pixelgate
POLICY_SRC=$ROOT/deploy/chromium-policy.json
POLICY_DST=/etc/chromium/policies/managed/pixelgate.json
MODE=bench
SESSIONS=4
PRESTART=0 # the daemon's [session] prestart (bench mode only)
SECONDS_PER_WINDOW=10
FPS_CAP=10
# soak: 4 users is what this 2-CPU machine holds with every session busy
# (see bench/README.md); the limits make churn happen within a short run
SOAK_USERS=4
SOAK_DURATION_S=600
SOAK_IDLE_S=12
SOAK_GRACE_S=4
SOAK_CHAOS_S=15
SOAK_SEED=""
# record and compare
BIG_SIZE=2048x2048
BIG_ENCODING=hextile
ROUNDS=""
BEFORE_DIR=""
# peers
PEER_RUNS=2
PEER_ONLY=""
PEER_SERVERS="pixelgate,x11vnc,xvnc"
PEER_ENCODINGS=""
PEER_PACKAGES=(x11vnc tigervnc-standalone-server websockify x11-apps)
PEER_PIDS=()
PEERS_FAILED=0

# What the build and the sessions need (the tests' list without Criterion).
# shellcheck source=../deploy/lib.sh
source "$ROOT/deploy/lib.sh"
PACKAGES=("${PIXELGATE_PACKAGES[@]}")

WORLD=""
DAEMON_PID=""
DAEMON_LOG=""
NET_PID=""
PAGE_PID=""
SQUID_PID=""
BENCH_PID=""

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench/run.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s [--sessions N] [--seconds S] [--fps-cap FPS] [--prestart N]\n' "$0" >&2
	printf '       %s soak [--users N] [--duration S] [--idle-timeout S] [--grace S]\n' "$0" >&2
	printf '               [--chaos-interval S] [--seed N]\n' >&2
	printf '       %s record [--seconds S] [--big-size WxH] [--big-encoding hextile|raw] [--rounds N]\n' "$0" >&2
	printf '       %s compare --before BUILD_DIR [--seconds S] [--rounds N]\n' "$0" >&2
	printf '       %s peers [--seconds S] [--runs N] [--only read,type,anim30,idle,photo]\n' "$0" >&2
	printf '               [--servers pixelgate,pixelgate-wm,pixelgate-wmt,x11vnc,xvnc] [--encodings zrle,copyrect,...]\n' >&2
	exit 2
}

# Ends one process we started: SIGTERM, SIGKILL after $2 seconds.
stop_pid() {
	local pid=$1 wait_s=$2 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait_s * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		printf 'bench/run.sh: pid %s still running after %s s, killing it\n' "$pid" "$wait_s" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# Everything we started, in reverse order; then the world. Runs on every exit.
cleanup() {
	local rc=$?
	trap - EXIT
	trap "" INT TERM # a second Ctrl-C must not cut the clean-up short
	stop_pid "$BENCH_PID" 5
	stop_peer
	# the daemon ends its sessions (workers, Xvfb, Chromium) on SIGTERM
	stop_pid "$DAEMON_PID" 30
	stop_pid "$SQUID_PID" 5
	stop_pid "$PAGE_PID" 5
	if [[ -n $WORLD && -d $WORLD ]]; then
		# a session process that outlived the daemon holds files in the world
		# (matched by the world's unique path, killed by pid)
		local left=()
		mapfile -t left < <(pgrep -f -- "$WORLD/" || true)
		if [[ ${#left[@]} -gt 0 ]]; then
			printf 'bench/run.sh: session processes left behind, killing: %s\n' "${left[*]}" >&2
			kill -KILL "${left[@]}" 2>/dev/null || true
			sleep 0.5
		fi
		if [[ $rc -ne 0 && $rc -ne 130 && -n $DAEMON_LOG && -f $DAEMON_LOG ]]; then
			printf -- '--- last lines of the daemon log ---\n' >&2
			grep -v '^\[[0-9]' "$DAEMON_LOG" | tail -n 30 >&2 || true
		fi
		if [[ ${PIXELGATE_BENCH_KEEP:-} == 1 ]]; then
			say "kept $WORLD"
		else
			rm -rf -- "$WORLD"
		fi
	fi
	[[ $rc -ne 130 ]] || printf 'bench/run.sh: interrupted\n' >&2
	exit "$rc"
}

parse_args() {
	case ${1:-} in
	soak | record | compare | peers)
		MODE=$1
		shift
		;;
	esac
	while [[ $# -gt 0 ]]; do
		case $MODE:$1 in
		bench:--sessions) SESSIONS=${2:?}; shift 2 ;;
		bench:--seconds) SECONDS_PER_WINDOW=${2:?}; shift 2 ;;
		bench:--fps-cap) FPS_CAP=${2:?}; shift 2 ;;
		bench:--prestart) PRESTART=${2:?}; shift 2 ;;
		soak:--users) SOAK_USERS=${2:?}; shift 2 ;;
		soak:--duration) SOAK_DURATION_S=${2:?}; shift 2 ;;
		soak:--idle-timeout) SOAK_IDLE_S=${2:?}; shift 2 ;;
		soak:--grace) SOAK_GRACE_S=${2:?}; shift 2 ;;
		soak:--chaos-interval) SOAK_CHAOS_S=${2:?}; shift 2 ;;
		soak:--seed) SOAK_SEED=${2:?}; shift 2 ;;
		record:--seconds | compare:--seconds) SECONDS_PER_WINDOW=${2:?}; shift 2 ;;
		record:--big-size) BIG_SIZE=${2:?}; shift 2 ;;
		record:--big-encoding) BIG_ENCODING=${2:?}; shift 2 ;;
		record:--rounds | compare:--rounds) ROUNDS=${2:?}; shift 2 ;;
		compare:--before) BEFORE_DIR=${2:?}; shift 2 ;;
		peers:--seconds) SECONDS_PER_WINDOW=${2:?}; shift 2 ;;
		peers:--runs) PEER_RUNS=${2:?}; shift 2 ;;
		peers:--only) PEER_ONLY=${2:?}; shift 2 ;;
		peers:--servers) PEER_SERVERS=${2:?}; shift 2 ;;
		peers:--encodings) PEER_ENCODINGS=${2:?}; shift 2 ;;
		*:-h | *:--help) usage ;;
		*) usage ;;
		esac
	done
	if [[ $MODE == soak ]]; then
		[[ $SOAK_USERS =~ ^[0-9]+$ && $SOAK_USERS -ge 1 && $SOAK_USERS -le 64 ]] ||
			die "--users must be 1..64"
		[[ $SOAK_DURATION_S =~ ^[0-9]+$ && $SOAK_DURATION_S -ge 1 ]] ||
			die "--duration must be a positive integer"
		[[ $SOAK_IDLE_S =~ ^[0-9]+$ && $SOAK_GRACE_S =~ ^[0-9]+$ && $SOAK_CHAOS_S =~ ^[0-9]+$ ]] ||
			die "--idle-timeout, --grace and --chaos-interval take seconds (0 = off)"
		[[ -z $SOAK_SEED || $SOAK_SEED =~ ^[0-9]+$ ]] || die "--seed must be a number"
		SESSIONS=$SOAK_USERS # users bench-1..bench-N
		return 0
	fi
	if [[ $MODE == peers ]]; then
		[[ $SECONDS_PER_WINDOW =~ ^[0-9]+$ && $SECONDS_PER_WINDOW -ge 2 ]] ||
			die "--seconds must be an integer of at least 2"
		[[ $PEER_RUNS =~ ^[0-9]+$ && $PEER_RUNS -ge 1 && $PEER_RUNS -le 8 ]] ||
			die "--runs must be 1..8"
		[[ -z $PEER_ONLY || $PEER_ONLY =~ ^(read|type|anim30|idle|photo)(,(read|type|anim30|idle|photo))*$ ]] ||
			die "--only takes a comma-separated list of read, type, anim30, idle, photo"
		[[ $PEER_SERVERS =~ ^(pixelgate|pixelgate-wmt?|x11vnc|xvnc)(,(pixelgate|pixelgate-wmt?|x11vnc|xvnc))*$ ]] ||
			die "--servers takes a comma-separated list of pixelgate, pixelgate-wm (the corner watermark on), pixelgate-wmt (the tiled one), x11vnc, xvnc"
		[[ -z $PEER_ENCODINGS || $PEER_ENCODINGS =~ ^(raw|copyrect|hextile|zlib|tight|zrle|jpeg)(,(raw|copyrect|hextile|zlib|tight|zrle|jpeg))*$ ]] ||
			die "--encodings takes a comma-separated list of raw, copyrect, hextile, zlib, tight, zrle, jpeg"
		SESSIONS=1
		PACKAGES+=("${PEER_PACKAGES[@]}")
		return 0
	fi
	if [[ $MODE == record || $MODE == compare ]]; then
		[[ $SECONDS_PER_WINDOW =~ ^[0-9]+$ && $SECONDS_PER_WINDOW -ge 1 ]] ||
			die "--seconds must be a positive integer"
		[[ -z $ROUNDS || ($ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 8) ]] ||
			die "--rounds must be 1..8"
		[[ $BIG_SIZE =~ ^[0-9]+x[0-9]+$ ]] || die "--big-size takes WxH"
		[[ $BIG_ENCODING == hextile || $BIG_ENCODING == raw ]] ||
			die "--big-encoding is hextile or raw"
		if [[ $MODE == record ]]; then
			ROUNDS=${ROUNDS:-1}
			SESSIONS=3 # B bench-1, A recorded bench-2, A not recorded bench-3
		else
			ROUNDS=${ROUNDS:-2}
			SESSIONS=1
			[[ -n $BEFORE_DIR ]] || die "compare needs --before BUILD_DIR"
			BEFORE_DIR=$(cd "$BEFORE_DIR" && pwd) || die "no directory $BEFORE_DIR"
			[[ -x $BEFORE_DIR/pixelgate && -x $BEFORE_DIR/pixelgate-session ]] ||
				die "$BEFORE_DIR has no pixelgate and pixelgate-session"
		fi
		return 0
	fi
	[[ $SESSIONS =~ ^[0-9]+$ && $SESSIONS -ge 1 && $SESSIONS -le 64 ]] ||
		die "--sessions must be 1..64"
	[[ $PRESTART =~ ^[0-9]+$ && $PRESTART -le 64 ]] || die "--prestart must be 0..64"
	[[ $SECONDS_PER_WINDOW =~ ^[0-9]+$ && $SECONDS_PER_WINDOW -ge 1 ]] ||
		die "--seconds must be a positive integer"
	[[ $FPS_CAP =~ ^[0-9]+$ && $FPS_CAP -ge 1 && $FPS_CAP -le 240 ]] ||
		die "--fps-cap must be 1..240"
}

# Packages and the system set-up the sessions need (as tests/run.sh does).
prepare_system() {
	local missing=()
	[[ $EUID -eq 0 ]] || die "run as root (the gateway makes a cell for each session)"
	mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
	if [[ ${#missing[@]} -gt 0 ]]; then
		say "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
	if [[ ! -d /tmp/.X11-unix || $(stat -c '%a %U' /tmp/.X11-unix) != "1777 root" ]]; then
		mkdir -p /tmp/.X11-unix
		chown root:root /tmp/.X11-unix
		chmod 1777 /tmp/.X11-unix
	fi
	if ! getent passwd "$GATEWAY_USER" >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$GATEWAY_USER"
	fi
	if ! cmp -s "$POLICY_SRC" "$POLICY_DST"; then
		install -d -m 0755 "$(dirname "$POLICY_DST")"
		install -m 0644 "$POLICY_SRC" "$POLICY_DST"
	fi
}

# Release build, no sanitizers, no tests; the compiler's output only on failure.
# With PIXELGATE_BENCH_NO_BUILD=1 the binaries in $BUILD are used as they are.
build() {
	local log bin
	if [[ ${PIXELGATE_BENCH_NO_BUILD:-} == 1 ]]; then
		for bin in pixelgate pixelgate-session pixelgatectl bench_session bench_soak \
			bench_rfb_stream; do
			[[ -x $BUILD/$bin ]] || die "$BUILD/$bin is missing (PIXELGATE_BENCH_NO_BUILD=1)"
		done
		say "using the binaries in $BUILD as they are"
		return 0
	fi
	log=$(mktemp /tmp/pixelgate-bench-build.XXXXXX)
	say "building $BUILD (Release)"
	if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIXELGATE_SANITIZE=OFF \
		-DPIXELGATE_TESTS=OFF &&
		cmake --build "$BUILD" -j"$(nproc)" --target pixelgate pixelgate-session \
			pixelgatectl bench_session bench_soak bench_rfb_stream bench_peers; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		rm -f -- "$log"
		die "build failed"
	fi
	rm -f -- "$log"
}

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

make_world() {
	local i port admin_port page_port squid_port limits
	WORLD=$(mktemp -d /tmp/pixelgate-bench.XXXXXX)
	chmod 0711 "$WORLD" # the session uids must be able to traverse it
	mkdir -m 0711 "$WORLD/run"
	say "world in $WORLD"

	cat >"$WORLD/server.ext" <<-'EOF'
		subjectAltName = IP:127.0.0.1
		basicConstraints = CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
	EOF
	(
		cd "$WORLD"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.crt -days 2 -subj '/CN=pixelgate bench CA' \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout server.key -out server.csr -subj '/CN=127.0.0.1'
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile server.ext
		chmod 600 server.key ca.key
	) >"$WORLD/openssl.log" 2>&1 || die "openssl failed: $(tail -n 5 "$WORLD/openssl.log")"

	(umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$WORLD/password")
	(umask 077 && head -c 32 /dev/urandom >"$WORLD/audit.key")
	chmod 600 "$WORLD/audit.key"
	say "adding $SESSIONS users and bench-admin"
	for ((i = 1; i <= SESSIONS; i++)); do
		"$BUILD/pixelgatectl" local-user add "bench-$i" --users-file "$WORLD/users" \
			--password-file "$WORLD/password" >/dev/null
	done
	"$BUILD/pixelgatectl" local-user add bench-admin --admin --users-file "$WORLD/users" \
		--password-file "$WORLD/password" >/dev/null

	/usr/bin/python3 "$ROOT/bench/pageserver.py" >"$WORLD/page.port" 2>"$WORLD/pageserver.log" &
	PAGE_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $WORLD/page.port ]] && break
		sleep 0.1
	done
	page_port=$(head -n 1 "$WORLD/page.port")
	[[ $page_port =~ ^[0-9]+$ ]] || die "the page server did not print its port"

	# the sessions' upstream proxy: the page server's port on 127.0.0.1, nothing else
	squid_port=$(free_port)
	install -d -m 0750 -o proxy -g proxy "$WORLD/squid"
	cat >"$WORLD/squid/squid.conf" <<-EOF
		http_port 127.0.0.1:$squid_port
		pid_filename none
		cache deny all
		cache_mem 8 MB
		cache_effective_user proxy
		access_log none
		cache_log $WORLD/squid/cache.log
		cache_store_log none
		coredump_dir $WORLD/squid
		dns_nameservers 127.0.0.1
		shutdown_lifetime 0 seconds
		acl pages dst 127.0.0.1
		acl page_port port $page_port
		http_access allow pages page_port
		http_access deny all
	EOF
	/usr/sbin/squid -N -f "$WORLD/squid/squid.conf" >"$WORLD/squid/squid.out" 2>&1 &
	SQUID_PID=$!
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$squid_port") 2>/dev/null && break
		sleep 0.1
	done

	PAGE_PORT=$page_port
	SQUID_PORT=$squid_port
	# the network process ($GATEWAY_USER) reads the key, users and audit key
	# and writes the users file, state, audit log and recordings here
	chown "$GATEWAY_USER:" "$WORLD" "$WORLD/server.key" "$WORLD/server.crt" "$WORLD/users" \
		"$WORLD/audit.key"
	write_conf "$WORLD/pixelgate.conf" "$WORLD/state" "$WORLD/audit" "$BUILD/pixelgate"
}

# write_conf CONF STATE_DIR AUDIT_DIR BINARY: a config on fresh ports (PORT,
# ADMIN_PORT), checked with BINARY -n.
write_conf() {
	local conf=$1 state=$2 audit=$3 bin=$4 port admin_port limits recording
	port=$(free_port)
	admin_port=$(free_port)
	while [[ $admin_port == "$port" ]]; do admin_port=$(free_port); done
	if [[ $MODE == soak ]]; then
		limits="# soak: a short grace (immediate re-logins reattach, longer pauses end the
# session) and a short idle timeout (the soak's idle viewers are closed by it)
reconnect_grace_s = $SOAK_GRACE_S
idle_timeout_s = $SOAK_IDLE_S"
	else
		limits="# a viewer that leaves ends its session at once: every scenario starts fresh
reconnect_grace_s = 0"
	fi
	recording="# no recording"
	if [[ $MODE == record ]]; then
		recording="# record: bench-1 (B) and bench-2 (A recorded); bench-3 (A not recorded) is not
recording = users
recording_users = bench-1, bench-2
recording_dir = $WORLD/recordings"
	fi
	cat >"$conf" <<-EOF
		# written by bench/run.sh
		[server]
		listen_address = 127.0.0.1
		listen_port = $port
		tls_cert = $WORLD/server.crt
		tls_key = $WORLD/server.key
		users_file = $WORLD/users
		runtime_dir = $WORLD/run
		state_dir = $state
		# every client of this world is 127.0.0.1, where real users come from
		# one terminal each: no per-address cap
		max_connections_per_address = 0
		[admin]
		admin_listen_address = 127.0.0.1
		admin_listen_port = $admin_port
		[audit]
		audit_dir = $audit
		audit_key_file = $WORLD/audit.key
		$recording
		[session]
		home_page = http://127.0.0.1:$PAGE_PORT/start.html
		upstream_proxy = 127.0.0.1:$SQUID_PORT
		prestart = $PRESTART
		[limits]
		$limits
		max_sessions_per_user = 1
		max_fps = 0
		# every client here is 127.0.0.1: the wrong passwords of the login
		# burst and the soak must not lock it out (each one costs a full
		# check), and no per-address rate applies (20 terminals log in at once)
		login_max_failures = 0
		login_rate_per_s = 0
		admin_rate_per_s = 0
	EOF
	chmod 600 "$conf"
	"$bin" -n -c "$conf" >"$WORLD/check.log" 2>&1 ||
		die "configuration refused by $bin: $(cat "$WORLD/check.log")"
	PORT=$port
	ADMIN_PORT=$admin_port
}

# bench_session's figures.
run_bench() {
	say "running bench_session: $SESSIONS sessions, $SECONDS_PER_WINDOW s windows, cap $FPS_CAP fps"
	"$BUILD/bench_session" --port "$PORT" --admin-port "$ADMIN_PORT" --page-port "$PAGE_PORT" \
		--ca "$WORLD/ca.crt" --password-file "$WORLD/password" --gateway-pid "$NET_PID" \
		--sessions "$SESSIONS" --seconds "$SECONDS_PER_WINDOW" --fps-cap "$FPS_CAP" \
		--prestart "$PRESTART" &
	BENCH_PID=$!
	local rc=0
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=""
	[[ $rc -ne 130 ]] || exit 130
	[[ $rc -eq 0 ]] || die "bench_session exited with status $rc"
	# what checking the browser -> terminal stream costs per MB, beside what
	# copying and encrypting the same bytes cost, and what recording adds to
	# the event loop (bench/bench_rfb_stream.c); recorded into the world
	printf '\n'
	mkdir -p "$WORLD/rfb-bench"
	"$BUILD/bench_rfb_stream" --mib 64 --record "$WORLD/rfb-bench" ||
		die "bench_rfb_stream exited with status $?"
}

# The soak; then the daemon is stopped and its log searched for sanitizer
# reports (LeakSanitizer's only at exit). Exits with the soak's verdict.
run_soak() {
	local rc=0 asan asan_gw leaks ubsan gw_pid seed=()
	[[ -z $SOAK_SEED ]] || seed=(--seed "$SOAK_SEED")
	say "running bench_soak: $SOAK_USERS users, $SOAK_DURATION_S s"
	"$BUILD/bench_soak" --conf "$WORLD/pixelgate.conf" --ca "$WORLD/ca.crt" \
		--password-file "$WORLD/password" --gateway-pid "$NET_PID" \
		--gateway-log "$WORLD/daemon.log" --ctl "$BUILD/pixelgatectl" --page-port "$PAGE_PORT" \
		--users "$SOAK_USERS" --duration "$SOAK_DURATION_S" \
		--chaos-interval "$SOAK_CHAOS_S" "${seed[@]}" &
	BENCH_PID=$!
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=""
	[[ $rc -ne 130 ]] || exit 130
	say "stopping the daemon"
	gw_pid=$NET_PID
	stop_pid "$DAEMON_PID" 30
	DAEMON_PID=""
	# the log holds the session workers' stderr too; the gateway's own
	# reports carry its pid (==PID==ERROR: ...)
	asan=$(grep -c 'ERROR: AddressSanitizer' "$WORLD/daemon.log" || true)
	asan_gw=$(grep -c "==$gw_pid==ERROR: AddressSanitizer" "$WORLD/daemon.log" || true)
	leaks=$(grep -c 'ERROR: LeakSanitizer' "$WORLD/daemon.log" || true)
	ubsan=$(grep -c 'runtime error:' "$WORLD/daemon.log" || true)
	printf 'daemon log after the stop: %s AddressSanitizer (gateway %s, session workers %s), %s LeakSanitizer, %s UBSan reports\n' \
		"$asan" "$asan_gw" "$((asan - asan_gw))" "$leaks" "$ubsan"
	if [[ $asan -gt 0 || $ubsan -gt 0 ]]; then
		# the first reports (not through a pipe: head would cut grep short)
		grep -A 30 -E 'ERROR: AddressSanitizer|runtime error:' "$WORLD/daemon.log" \
			>"$WORLD/sanitizer.txt" || true
		head -n 60 "$WORLD/sanitizer.txt" >&2
		[[ $rc -ne 0 ]] || rc=1
	fi
	[[ $rc -eq 0 ]] || die "soak failed (status $rc)"
}

# start_daemon BINARY CONF LOG: DAEMON_PID, and NET_PID (the privileged
# parent forks the network process, which serves and is measured).
start_daemon() {
	local bin=$1 conf=$2 i
	DAEMON_LOG=$3
	say "starting $bin (log: $DAEMON_LOG)"
	"$bin" -c "$conf" >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	NET_PID=""
	for ((i = 0; i < 100; i++)); do
		NET_PID=$(pgrep -P "$DAEMON_PID" -x pixelgate | head -n 1 || true)
		[[ -z $NET_PID ]] || break
		sleep 0.1
	done
	[[ -n $NET_PID ]] || die "pixelgate's network process did not start (log: $DAEMON_LOG)"
}

# record: bench_session --scenario record (the world records bench-1 and bench-2).
run_record() {
	say "running bench_session --scenario record: $BIG_SIZE $BIG_ENCODING, $SECONDS_PER_WINDOW s windows, $ROUNDS round(s)"
	"$BUILD/bench_session" --port "$PORT" --admin-port "$ADMIN_PORT" --page-port "$PAGE_PORT" \
		--ca "$WORLD/ca.crt" --password-file "$WORLD/password" --gateway-pid "$NET_PID" \
		--sessions "$SESSIONS" --seconds "$SECONDS_PER_WINDOW" --scenario record \
		--big-size "$BIG_SIZE" --big-encoding "$BIG_ENCODING" --rounds "$ROUNDS" \
		--recording-dir "$WORLD/recordings" &
	BENCH_PID=$!
	local rc=0
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=""
	[[ $rc -ne 130 ]] || exit 130
	[[ $rc -eq 0 ]] || die "bench_session exited with status $rc"
	printf '  recordings written: %s\n' "$(find "$WORLD/recordings" -type f -name '*.vncrec' -printf '%f %s bytes, ' 2>/dev/null | sed 's/, $//')"
}

# The commit a build directory was made from (its CMake source tree), or "?".
build_commit() {
	local src
	src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt" 2>/dev/null || true)
	[[ -n $src ]] && git -C "$src" describe --always --dirty 2>/dev/null || printf '?'
}

# compare: the relay workload against the daemon of $BEFORE_DIR and of
# $BUILD, alternately, ROUNDS times; then the table.
run_compare() {
	local r side bin conf rc tag src client=$WORLD/bench_session-client
	# The viewer core of this tree refuses what the old gateway lets through
	# (libvncclient asks for ExtendedDesktopSize; the gateway now strips it,
	# the old one passed the worker's answer), so bench_session.c is built
	# against the client library of the --before tree (no guard) and that one
	# binary runs against both daemons: the same client and workload for each.
	src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BEFORE_DIR/CMakeCache.txt" 2>/dev/null || true)
	# the client library is in viewer/core/ before e975a1a, in client/ after
	# (with its URL parser and the RFB check in libraries of their own)
	local inc=(-I"$src/viewer/core") libs=("$BEFORE_DIR/libpgclient.a")
	if [[ -f $src/client/client_core.h ]]; then
		inc=(-I"$src/client" -I"$src/proxy/common")
		libs+=("$BEFORE_DIR/libpgclient_url.a" "$BEFORE_DIR/libpgrfb.a")
	fi
	# and its platform layer in one more, after e8217c6
	[[ ! -f $BEFORE_DIR/libpgplatform.a ]] || libs+=("$BEFORE_DIR/libpgplatform.a")
	[[ -f ${inc[0]#-I}/client_core.h && -f $BEFORE_DIR/libpgclient.a ]] ||
		die "$BEFORE_DIR: no CMake source tree with the client library, or no libpgclient.a"
	say "building bench_session.c against $BEFORE_DIR/libpgclient.a"
	# shellcheck disable=SC2046 # pkg-config's words are meant to split
	cc -O2 -Wall -Wextra -D_GNU_SOURCE "${inc[@]}" \
		$(pkg-config --cflags libwebsockets libvncclient jansson openssl) \
		"$ROOT/bench/bench_session.c" "${libs[@]}" \
		$(pkg-config --libs libwebsockets libvncclient jansson openssl) -lpthread -lm \
		-o "$client" >"$WORLD/client-build.log" 2>&1 ||
		die "building the client failed: $(tail -n 20 "$WORLD/client-build.log")"
	for ((r = 1; r <= ROUNDS; r++)); do
		for side in before after; do
			bin=$BUILD/pixelgate
			[[ $side == after ]] || bin=$BEFORE_DIR/pixelgate
			tag=$side-$r
			conf=$WORLD/pixelgate-$tag.conf
			write_conf "$conf" "$WORLD/state-$tag" "$WORLD/audit-$tag" "$bin"
			start_daemon "$bin" "$conf" "$WORLD/daemon-$tag.log"
			say "round $r, $side: bench_session --scenario relay, $SECONDS_PER_WINDOW s each"
			"$client" --port "$PORT" --admin-port "$ADMIN_PORT" \
				--page-port "$PAGE_PORT" --ca "$WORLD/ca.crt" \
				--password-file "$WORLD/password" --gateway-pid "$NET_PID" \
				--sessions 1 --seconds "$SECONDS_PER_WINDOW" --scenario relay \
				>"$WORLD/relay-$tag.txt" &
			BENCH_PID=$!
			rc=0
			wait "$BENCH_PID" || rc=$?
			BENCH_PID=""
			[[ $rc -ne 130 ]] || exit 130
			[[ $rc -eq 0 ]] || die "bench_session exited with status $rc ($side, round $r)"
			stop_pid "$DAEMON_PID" 30
			DAEMON_PID=""
			sed "s/^relay /$side $r /" "$WORLD/relay-$tag.txt" >>"$WORLD/relay-all.txt"
		done
	done
	printf '\ngateway CPU per MB relayed to one viewer, %s s windows, %s rounds (before, after alternately)\n' \
		"$SECONDS_PER_WINDOW" "$ROUNDS"
	printf '  before: %s (%s)\n  after:  %s (%s)\n' "$BEFORE_DIR" "$(build_commit "$BEFORE_DIR")" \
		"$BUILD" "$(build_commit "$BUILD")"
	# lines: SIDE ROUND NAME SECONDS BYTES GW_CPU_MS FRAMES
	awk '
	{ k = $3 SUBSEP $2; mb[$1, k] = $5 / 1e6; cpu[$1, k] = $6 / 1000; fr[$1, k] = $7 / $4
	  if (!($3 in seen)) { seen[$3] = 1; names[++nn] = $3 }
	  if ($2 > rounds) rounds = $2
	  tmb[$1, $3] += $5 / 1e6; tcpu[$1, $3] += $6 / 1000 }
	function row(label, bm, bc, am, ac,    bms, ams, ch) {
		bms = bm > 0 ? bc * 1000 / bm : 0
		ams = am > 0 ? ac * 1000 / am : 0
		ch = (bms > 0 && ams > 0) ? (ams / bms - 1) * 100 : 0
		printf "  %-22s %9.1f %8.2f %8.3f   %9.1f %8.2f %8.3f   %+7.1f%%\n", label, bm, bc,
		       bms, am, ac, ams, ch
	}
	END {
		printf "  %-22s %9s %8s %8s   %9s %8s %8s   %8s\n", "", "before MB", "CPU s", "ms/MB",
		       "after MB", "CPU s", "ms/MB", "change"
		for (i = 1; i <= nn; i++) {
			n = names[i]
			for (r = 1; r <= rounds; r++) {
				k = n SUBSEP r
				row(n ", round " r, mb["before", k], cpu["before", k], mb["after", k], cpu["after", k])
			}
			row(n ", all", tmb["before", n], tcpu["before", n], tmb["after", n], tcpu["after", n])
		}
		printf "  (MB = 10^6 bytes of RFB the viewer received; CPU s = the gateway network process'"'"'s\n"
		printf "   user + system time over the window; change = after'"'"'s ms/MB against before'"'"'s)\n"
	}' "$WORLD/relay-all.txt"
}

# ---- peers (issue 12) --------------------------------------------------------

# Stops the processes of the peer being measured (Chromium, websockify, the
# VNC server, its X server), last started first.
stop_peer() {
	local i
	for ((i = ${#PEER_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PEER_PIDS[i]}" 10
	done
	PEER_PIDS=()
PEERS_FAILED=0
}

# A display number with no X server (nor a lock or socket) yet.
free_display() {
	local n
	for ((n = 40; n < 200; n++)); do
		[[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] || {
			printf '%s\n' "$n"
			return 0
		}
	done
	die "no free X display number"
}

# wait_x DISPLAY PID: until the X server answers (xdpyinfo), 20 s at most.
wait_x() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$2" 2>/dev/null || die "the X server on :$1 exited (log in $WORLD)"
		DISPLAY=:$1 xdpyinfo >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "the X server on :$1 did not answer within 20 s"
}

# wait_port PORT PID: until 127.0.0.1:PORT accepts, 20 s at most.
wait_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$2" 2>/dev/null || die "pid $2 exited before listening on 127.0.0.1:$1"
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on 127.0.0.1:$1 after 20 s"
}

# start_peer_chromium DISPLAY TAG: a Chromium on :DISPLAY as pixelgate-browser
# with its sandbox, pixelgate's worker's flags (proxy/session/session_browser.c
# but the CDP pipe), a profile of its own in the world, the same start page
# and upstream proxy as the sessions.
start_peer_chromium() {
	local display=$1 tag=$2 home=$WORLD/peer-$2
	install -d -m 0700 -o pixelgate-browser -g pixelgate-browser "$home" "$home/tmp"
	setpriv --reuid=pixelgate-browser --regid=pixelgate-browser --init-groups \
		env -i HOME="$home" TMPDIR="$home/tmp" DISPLAY=":$display" LANG=C.UTF-8 \
		PATH=/usr/bin:/bin \
		/usr/bin/chromium --user-data-dir="$home/profile" --no-first-run \
		--no-default-browser-check --disable-background-networking \
		--disable-component-update --disable-sync --disable-breakpad --noerrdialogs \
		--password-store=basic --disable-gpu --disable-smooth-scrolling \
		--enable-features=NetworkServiceInProcess2 \
		--disable-features=Translate,MediaRouter,DialMediaRouteProvider,OptimizationHints,SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxAimPopup \
		--lang=ja --window-position=0,0 --window-size=1280,800 \
		--force-webrtc-ip-handling-policy=disable_non_proxied_udp \
		--proxy-server="http://127.0.0.1:$SQUID_PORT" --proxy-bypass-list='<-loopback>' \
		-- "http://127.0.0.1:$PAGE_PORT/start.html" >"$WORLD/chromium-$tag.log" 2>&1 &
	PEER_PIDS+=($!)
}

# start_websockify VNC_PORT: TLS WebSockets on a free port of 127.0.0.1 (WS_PORT)
# to 127.0.0.1:VNC_PORT; WS_PID.
start_websockify() {
	WS_PORT=$(free_port)
	websockify --ssl-only --cert "$WORLD/server.crt" --key "$WORLD/server.key" \
		"127.0.0.1:$WS_PORT" "127.0.0.1:$1" >"$WORLD/websockify-$1.log" 2>&1 &
	WS_PID=$!
	PEER_PIDS+=("$WS_PID")
	wait_port "$WS_PORT" "$WS_PID"
}

# run_bench_peers NAME ARGS...: bench_peers on one server; its lines into
# $WORLD/peers.txt.
run_bench_peers() {
	local name=$1 rc=0 only=()
	shift
	[[ -z $PEER_ONLY ]] || only=(--only "$PEER_ONLY")
	[[ -z $PEER_ENCODINGS ]] || only+=(--encodings "$PEER_ENCODINGS")
	say "measuring $name: $PEER_RUNS run(s) of ${PEER_ONLY:-every workload}, $SECONDS_PER_WINDOW s windows"
	"$BUILD/bench_peers" --name "$name" --ca "$WORLD/ca.crt" --page-port "$PAGE_PORT" \
		--seconds "$SECONDS_PER_WINDOW" --runs "$PEER_RUNS" "${only[@]}" "$@" \
		>>"$WORLD/peers.txt" &
	BENCH_PID=$!
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=""
	[[ $rc -ne 130 ]] || exit 130
	if [[ $rc -ne 0 ]]; then
		# the other servers are still measured; the tables say what is missing
		printf 'bench/run.sh: bench_peers exited with status %s (%s)\n' "$rc" "$name" >&2
		printf 'failed %s status %s\n' "$name" "$rc" >>"$WORLD/peers.txt"
		PEERS_FAILED=1
	fi
}

peer_pixelgate() {
	start_daemon "$BUILD/pixelgate" "$WORLD/pixelgate.conf" "$WORLD/daemon.log"
	run_bench_peers pixelgate --port "$PORT" --user bench-1 \
		--password-file "$WORLD/password" --pixelgate-daemon "$DAEMON_PID" \
		--transport-pid "$NET_PID" --fb-dir "$WORLD/run"
	stop_pid "$DAEMON_PID" 30
	DAEMON_PID=""
}

# pixelgate with [policy] watermark = corner (pixelgate-wm) or tiled
# (pixelgate-wmt) (issue 15: within 10 % of off)
peer_pixelgate_wm() {
	local name=${1:-pixelgate-wm} mode=${2:-corner}
	{ cat "$WORLD/pixelgate.conf"; printf '[policy]\nwatermark = %s\n' "$mode"; } >"$WORLD/$name.conf"
	chmod 600 "$WORLD/$name.conf"
	start_daemon "$BUILD/pixelgate" "$WORLD/$name.conf" "$WORLD/daemon-$name.log"
	run_bench_peers "$name" --port "$PORT" --user bench-1 \
		--password-file "$WORLD/password" --pixelgate-daemon "$DAEMON_PID" \
		--transport-pid "$NET_PID" --fb-dir "$WORLD/run"
	stop_pid "$DAEMON_PID" 30
	DAEMON_PID=""
}

peer_x11vnc() {
	local d vnc_port xpid vpid
	d=$(free_display)
	vnc_port=$(free_port)
	Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp -noreset >"$WORLD/xvfb-$d.log" 2>&1 &
	xpid=$!
	PEER_PIDS+=("$xpid")
	wait_x "$d" "$xpid"
	x11vnc -display ":$d" -rfbport "$vnc_port" -localhost -nopw -forever -shared \
		-ncache 0 -nosel -quiet >"$WORLD/x11vnc.log" 2>&1 &
	vpid=$!
	PEER_PIDS+=("$vpid")
	wait_port "$vnc_port" "$vpid"
	start_websockify "$vnc_port"
	start_peer_chromium "$d" x11vnc
	run_bench_peers x11vnc --port "$WS_PORT" --ws-path / --server-pid "$vpid" \
		--server-pid "$xpid" --transport-pid "$WS_PID" --xwd-display ":$d"
	stop_peer
}

peer_xvnc() {
	local d vnc_port xpid
	d=$(free_display)
	vnc_port=$(free_port)
	Xvnc ":$d" -geometry 1280x800 -depth 24 -SecurityTypes None -localhost \
		-rfbport "$vnc_port" -nolisten tcp -SendCutText=0 -AcceptCutText=0 \
		>"$WORLD/xvnc.log" 2>&1 &
	xpid=$!
	PEER_PIDS+=("$xpid")
	wait_x "$d" "$xpid"
	wait_port "$vnc_port" "$xpid"
	start_websockify "$vnc_port"
	start_peer_chromium "$d" xvnc
	run_bench_peers xvnc --port "$WS_PORT" --ws-path / --server-pid "$xpid" \
		--transport-pid "$WS_PID" --xwd-display ":$d"
	stop_peer
}

# The tables: per workload, each server's median over the runs, and the
# ratio to the best peer (the lower of x11vnc's and Xvnc's; lower is better).
print_peers() {
	local runs_text="medians of $PEER_RUNS runs"
	[[ $PEER_RUNS -gt 1 ]] || runs_text="one run"
	printf '\npixelgate against the peers: 1280x800, %s s windows, %s, %s\n' \
		"$SECONDS_PER_WINDOW" "$runs_text" "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf '  build %s; %s CPUs; encodings asked for: %s\n' "$(build_commit "$BUILD")" "$(nproc)" \
		"${PEER_ENCODINGS:-as the viewer (tight zrle zlib hextile copyrect raw, JPEG quality 5)}"
	awk -v secs="$SECONDS_PER_WINDOW" '
	function median(key, col,    n, i, j, t, a) {
		n = 0
		for (i = 1; i <= runs[key]; i++) {
			if (val[key, i, col] == "-") continue
			a[++n] = val[key, i, col] + 0
		}
		if (n == 0) return "-"
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function cell(v, best, fmt,    s) {
		if (v == "-") return sprintf("%16s", "-")
		s = sprintf(fmt, v)
		if (best == "-" || best == "") return sprintf("%16s", s "       ")
		if (best + 0 == 0) return sprintf("%16s", s (v + 0 == 0 ? " (1.00x)" : " (  inf)"))
		return sprintf("%16s", s sprintf(" (%4.2fx)", v / best))
	}
	function psnr(mse) {
		if (mse == "-") return "-"
		if (mse + 0 == 0) return "inf"
		return sprintf("%.1f", 10 * log(255 * 255 / mse) / log(10))
	}
	$1 == "result" {
		key = $2 SUBSEP $3
		if (!($2 in seen_s)) { seen_s[$2] = 1; servers[++ns] = $2 }
		if (!($3 in seen_w)) { seen_w[$3] = 1; wls[++nw] = $3 }
		r = ++runs[key]
		val[key, r, 1] = $5 / 1000; val[key, r, 2] = $6; val[key, r, 3] = $7
		val[key, r, 4] = $8; val[key, r, 5] = $9; val[key, r, 6] = $10
		val[key, r, 7] = $13; seen_keys[key, r] = $11 "/" $12
	}
	$1 == "refused" { $1 = ""; refused[++nr] = $0 }
	$1 == "failed" { failed[++nf] = $2 " (status " $4 ")" }
	END {
		what["read"] = "reading: Page_Down through Japanese/English text with headings and tables"
		what["type"] = "typing: letters into a focused text area (each key adds a glyph)"
		what["anim30"] = "animation: a 300x250 canvas redrawn at 30 fps, the rest still"
		what["idle"] = "idle: a still page"
		what["photo"] = "photos: Page_Down through photo-like pictures"
		for (w = 1; w <= nw; w++) {
			wl = wls[w]
			printf "\n%s (%s s)\n", what[wl] ? what[wl] : wl, secs
			printf "  %-12s %16s %16s %16s %16s %16s %16s %7s %7s\n", "server", "kB", "updates",
			       "server CPU ms", "transport ms", "key p50 ms", "key p95 ms", "PSNR dB", "keys"
			for (c = 1; c <= 7; c++) best[c] = "-"
			for (s = 1; s <= ns; s++) {
				key = servers[s] SUBSEP wl
				for (c = 1; c <= 7; c++) med[s, c] = runs[key] ? median(key, c) : "-"
				if (servers[s] ~ /^pixelgate/) continue
				for (c = 1; c <= 6; c++)
					if (med[s, c] != "-" && (best[c] == "-" || med[s, c] < best[c])) best[c] = med[s, c]
			}
			for (s = 1; s <= ns; s++) {
				key = servers[s] SUBSEP wl
				if (!runs[key]) continue
				printf "  %-12s %s %s %s %s %s %s %7s %7s\n", servers[s],
				       cell(med[s, 1], best[1], "%.1f"), cell(med[s, 2], best[2], "%d"),
				       cell(med[s, 3], best[3], "%d"), cell(med[s, 4], best[4], "%d"),
				       cell(med[s, 5], best[5], "%.1f"), cell(med[s, 6], best[6], "%.1f"),
				       psnr(med[s, 7]), seen_keys[key, runs[key]]
			}
		}
		printf "\n  (x) = the figure over the best peer'"'"'s (x11vnc or Xvnc, the lower; lower is better).\n"
		printf "  kB: RFB bytes the client received (10^3); updates: FramebufferUpdates decoded;\n"
		printf "  server CPU: utime+stime of the encoder and X server (pixelgate: the session'"'"'s\n"
		printf "  pixelgate-session and its Xvfb; x11vnc + its Xvfb; Xvnc), not the browser;\n"
		printf "  transport: websockify, or pixelgate'"'"'s network process (TLS, WebSocket, RFB checks);\n"
		printf "  key p50/p95: key sent -> first changed pixel decoded by the client; keys: keys\n"
		printf "  followed by a change / keys sent (last run); PSNR: the still picture after the\n"
		printf "  window against the X server'"'"'s screen (inf = identical), pointer box left out.\n"
		if (nr) printf "\n  the client'"'"'s guard (rfb_stream.c) refused a server'"'"'s data, window measured again:\n"
		for (i = 1; i <= nr; i++) printf "   %s\n", refused[i]
		for (i = 1; i <= nf; i++) printf "\n  NOT MEASURED to the end: %s\n", failed[i]
	}' "$WORLD/peers.txt"
}

run_peers() {
	local server
	: >"$WORLD/peers.txt"
	for server in ${PEER_SERVERS//,/ }; do
		case $server in
		pixelgate) peer_pixelgate ;;
		pixelgate-wm) peer_pixelgate_wm pixelgate-wm corner ;;
		pixelgate-wmt) peer_pixelgate_wm pixelgate-wmt tiled ;;
		x11vnc) peer_x11vnc ;;
		xvnc) peer_xvnc ;;
		esac
	done
	print_peers
	if [[ -n ${PIXELGATE_PEERS_RESULTS:-} ]]; then
		cp -- "$WORLD/peers.txt" "$PIXELGATE_PEERS_RESULTS"
	fi
	[[ $PEERS_FAILED -eq 0 ]] || die "a server was not measured to the end (see above)"
}

main() {
	parse_args "$@"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cd "$ROOT"
	prepare_system
	build
	make_world
	case $MODE in
	compare)
		run_compare
		return 0
		;;
	peers)
		run_peers
		return 0
		;;
	esac
	start_daemon "$BUILD/pixelgate" "$WORLD/pixelgate.conf" "$WORLD/daemon.log"
	case $MODE in
	soak) run_soak ;;
	record) run_record ;;
	*) run_bench ;;
	esac
}

main "$@"

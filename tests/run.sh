#!/usr/bin/env bash
# tests/run.sh: install what the tests need, build with ASan/UBSan and
# -Werror, run every suite (unit, integration) through ctest.
#
# Meant for a fresh Debian 12 machine, as root or as a user with sudo:
#   sudo tests/run.sh
# Exits non-zero if any step or any test fails, or a test was skipped without
# PIXELGATE_TEST_ALLOW_SKIP=1. Environment knobs:
#   PIXELGATE_BUILD_DIR       build directory (default: build-tests/ at the repo root)
#   PIXELGATE_TEST_TIMEOUT_S  ctest timeout for a test that sets none (default 2400;
#                             every integration test has its own, tests/CMakeLists.txt)
#   PIXELGATE_TEST_ALLOW_SKIP 1: a test that cannot run on this machine (e.g. no
#                             tmpfs mount) is skipped and counted, instead of failing
#   PIXELGATE_CTEST_REGEX     run only the ctest entries matching this (ctest -R)
#   PIXELGATE_RUN_STEPS       which of "tests fuzz soak package" to run (default: all
#                             four; the summary lists the others as not run)
#   PIXELGATE_FUZZ_SECONDS    seconds per fuzz target (default: tests/fuzz/run.sh's)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${PIXELGATE_BUILD_DIR:-$ROOT/build-tests}
# The gateway without sanitizers, for valgrind memcheck (valgrind cannot run ASan binaries).
MEMCHECK_BUILD=${PIXELGATE_MEMCHECK_BUILD_DIR:-$ROOT/build-memcheck}
TEST_TIMEOUT_S=${PIXELGATE_TEST_TIMEOUT_S:-2400}
# The user the gateway's network process runs as (sessions get uids of their own).
GATEWAY_USER=pixelgate
POLICY_SRC=$ROOT/deploy/chromium-policy.json
POLICY_DST=/etc/chromium/policies/managed/pixelgate.json

# Debian packages the build and the tests need: pixelgate's (deploy/lib.sh), xwd,
# valgrind (the memcheck integration test runs the real gateway under it) and
# util-linux's nsenter (the cell tests look into a session's namespaces),
# xclip (the terminal's clipboard in the viewer's clipboard tests), novnc
# (its vnc_lite.html, unmodified, is the third-party client test_clients.c opens),
# debhelper, dpkg-dev, systemd-container (systemd-nspawn), curl, man-db and
# nftables (the operator guide's firewall is checked) for the package step
# (tests/package/run.sh), haproxy (test_cluster.c runs two nodes behind it),
# shellcheck source=../deploy/lib.sh
source "$ROOT/deploy/lib.sh"
# clang and its runtime libraries build the libFuzzer targets (tests/fuzz/run.sh).
PACKAGES=("${PIXELGATE_PACKAGES[@]}" x11-apps valgrind util-linux clang libclang-rt-14-dev wine64
	slapd ldap-utils oathtool xclip novnc debhelper dpkg-dev systemd-container curl man-db
	nftables haproxy)
RUN_STEPS=${PIXELGATE_RUN_STEPS:-tests fuzz soak package}

# Step results for the closing summary: "name|status|detail".
SUMMARY=()
CTEST_LINE=""

say() { printf '==> %s\n' "$*"; }
warn() { printf 'run.sh: warning: %s\n' "$*" >&2; }

record() { SUMMARY+=("$1|$2|${3:-}"); }

print_summary() {
	local entry name status detail
	printf '\n==================== pixelgate tests: summary ====================\n'
	for entry in "${SUMMARY[@]}"; do
		IFS='|' read -r name status detail <<<"$entry"
		printf '  %-14s %-8s %s\n' "$name" "$status" "$detail"
	done
	printf '==================================================================\n'
	# ctest's own closing line last, so that it is what a reader sees at the end.
	if [[ -n $CTEST_LINE ]]; then
		printf '%s\n' "$CTEST_LINE"
	fi
}

# Record a failed step, print the summary and leave.
die_step() {
	record "$1" FAILED "$2"
	print_summary
	printf 'run.sh: FAILED at step "%s": %s\n' "$1" "$2" >&2
	exit 1
}

# 1. Packages: ask dpkg first; apt-get only if something is missing.
step_packages() {
	local missing=()
	mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
	if [[ ${#missing[@]} -eq 0 ]]; then
		record packages ok "all ${#PACKAGES[@]} present"
		return 0
	fi
	say "installing missing packages: ${missing[*]}"
	can_be_root || die_step packages "missing ${missing[*]}; run as root or with sudo"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die_step packages "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" || die_step packages "apt-get install failed"
	record packages ok "installed ${missing[*]}"
}

# 2. System set-up the sessions need: X socket dir, gateway user, Chromium policy.
step_system() {
	local notes=()
	python3 -m json.tool "$POLICY_SRC" >/dev/null ||
		die_step system "$POLICY_SRC is not valid JSON"

	if ! can_be_root; then
		warn "not root and no sudo: skipping /tmp/.X11-unix, $GATEWAY_USER and the Chromium policy"
		record system skipped "no root, no sudo"
		return 0
	fi

	# Xvfb started by an unprivileged user cannot create this directory itself.
	if [[ ! -d /tmp/.X11-unix || $(stat -c '%a %U' /tmp/.X11-unix) != "1777 root" ]]; then
		as_root mkdir -p /tmp/.X11-unix || die_step system "cannot create /tmp/.X11-unix"
		as_root chown root:root /tmp/.X11-unix || die_step system "cannot chown /tmp/.X11-unix"
		as_root chmod 1777 /tmp/.X11-unix || die_step system "cannot chmod /tmp/.X11-unix"
		notes+=("/tmp/.X11-unix fixed")
	fi

	# The network process's user (the privileged parent makes the session cells).
	if ! getent passwd "$GATEWAY_USER" >/dev/null; then
		as_root useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$GATEWAY_USER" ||
			die_step system "cannot create user $GATEWAY_USER"
		notes+=("user $GATEWAY_USER created")
	fi
	# Installing squid may have started Debian's own instance; the tests run their own.

	if ! cmp -s "$POLICY_SRC" "$POLICY_DST"; then
		as_root install -d -m 0755 "$(dirname "$POLICY_DST")" ||
			die_step system "cannot create $(dirname "$POLICY_DST")"
		as_root install -m 0644 "$POLICY_SRC" "$POLICY_DST" ||
			die_step system "cannot install $POLICY_DST"
		notes+=("Chromium policy installed")
	fi
	record system ok "${notes[*]:-already in place}"
}

# Facts that explain most integration-test failures, printed up front.
print_environment() {
	local userns
	say "environment"
	printf '  %-26s %s\n' "user" "$(id -un) (uid $EUID)"
	printf '  %-26s %s\n' "repository" "$ROOT"
	printf '  %-26s %s\n' "cmake" "$(cmake --version | head -n1)"
	printf '  %-26s %s\n' "chromium" \
		"$(/usr/lib/chromium/chromium --version 2>/dev/null || echo 'not runnable')"
	userns=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo '?')
	printf '  %-26s %s\n' "user.max_user_namespaces" "$userns"
	if [[ $userns == 0 ]]; then
		warn "user namespaces are disabled: Chromium's sandbox cannot start"
	fi
	# Workers run as session uids that are nobody's: the build dir must be reachable by others.
	if [[ $EUID -eq 0 ]] && ! setpriv --reuid=2100000000 --regid=2100000000 --clear-groups \
		test -x "$BUILD/.." 2>/dev/null; then
		warn "others cannot enter $(dirname "$BUILD"): workers exec'd from $BUILD will fail (chmod o+x the parent directories)"
	fi
}

step_configure() {
	say "configuring $BUILD (Debug, ASan+UBSan, -Werror)"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
		-DPIXELGATE_SANITIZE=ON -DPIXELGATE_WERROR=ON ||
		die_step configure "cmake configure failed"
	record configure ok "$BUILD (Debug, ASan+UBSan, -Werror)"
}

step_build() {
	local jobs
	jobs=$(nproc)
	say "building with $jobs jobs"
	cmake --build "$BUILD" -j"$jobs" || die_step build "compilation failed (see above)"
	record build ok "-j$jobs"
}

# The gateway as released (optimised, with debug info for valgrind's stacks), no
# sanitizers: the memcheck integration test runs it under valgrind. Not -Werror:
# at -O2 GCC 12 warns of possible snprintf truncation that the Debug -Werror build
# does not see (the messages are cut, safely).
step_memcheck_build() {
	say "building the gateway for valgrind in $MEMCHECK_BUILD (RelWithDebInfo, no sanitizers)"
	cmake -S "$ROOT" -B "$MEMCHECK_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DPIXELGATE_SANITIZE=OFF -DPIXELGATE_WERROR=OFF -DPIXELGATE_TESTS=OFF >/dev/null ||
		die_step memcheck-build "cmake configure failed"
	cmake --build "$MEMCHECK_BUILD" -j"$(nproc)" --target pixelgate ||
		die_step memcheck-build "compilation failed (see above)"
	export PIXELGATE_MEMCHECK_DIR=$MEMCHECK_BUILD
	record memcheck-build ok "$MEMCHECK_BUILD/pixelgate"
}

# The Windows viewer (issue 13), cross-compiled with MinGW-w64 from Debian's
# source packages (the libraries cached in /var/cache/pixelgate-windows:
# minutes the first time, seconds after), into $BUILD/windows, where the Wine
# integration test (test_viewer.c) runs it.
step_windows_build() {
	local log=$BUILD/run-windows-build.log
	say "building the Windows viewer into $BUILD/windows (log: $log)"
	if ! as_root "$ROOT/deploy/build-windows-viewer.sh" --out "$BUILD/windows" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die_step windows-build "deploy/build-windows-viewer.sh failed (log: $log)"
	fi
	record windows-build ok "$(tail -n 1 "$log" | sed 's/^build-windows-viewer: //')"
}

# Is step $1 one of PIXELGATE_RUN_STEPS? If not, the summary says so.
wanted() {
	if [[ " $RUN_STEPS " == *" $1 "* ]]; then
		return 0
	fi
	record "$1" "not run" "not in PIXELGATE_RUN_STEPS ($RUN_STEPS)"
	return 1
}

# ctest: the unit tests, then one entry per integration test (each with its
# own timeout). A skipped test (exit 77, tests/cr_main.c) is listed by ctest
# as "Skipped"; it is counted here, and it only happens where the test allowed
# it (PIXELGATE_TEST_ALLOW_SKIP=1; without it a test that cannot run fails).
step_test() {
	local log rc skipped regex=()
	log=$BUILD/run-tests.log
	wanted tests || return 0
	[[ -z ${PIXELGATE_CTEST_REGEX:-} ]] || regex=(-R "$PIXELGATE_CTEST_REGEX")
	say "running tests (ctest, default timeout ${TEST_TIMEOUT_S}s)"
	# quarantine_size_mb: ASan keeps freed memory (256 MB by default) to catch
	# use-after-free; 16 MB keeps that while letting the relay test measure the
	# gateway's own memory use rather than the quarantine's.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=16
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	set +e
	ctest --test-dir "$BUILD" --output-on-failure --no-tests=error \
		--timeout "$TEST_TIMEOUT_S" "${regex[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	CTEST_LINE=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n1 || true)
	skipped=$(grep -cE '^[[:space:]]*[0-9]+ - .* \(Skipped\)$' "$log" || true)
	if [[ $rc -ne 0 ]]; then
		die_step tests "ctest exit $rc; failed: $(sed -n '/tests FAILED:/,$p' "$log" |
			sed -nE 's/^[[:space:]]*[0-9]+ - //p' | tr '\n' ' ')(log: $log)"
	fi
	if [[ $skipped -gt 0 ]]; then
		record tests ok "${CTEST_LINE:-ctest passed}; $skipped SKIPPED (PIXELGATE_TEST_ALLOW_SKIP=1): $(
			sed -nE 's/^[[:space:]]*[0-9]+ - (.*) \(Skipped\)$/\1/p' "$log" | tr '\n' ' ')"
	else
		record tests ok "${CTEST_LINE:-ctest passed}; 0 skipped"
	fi
}

# Every libFuzzer target (tests/fuzz/) built with clang and run for a bounded
# time from its committed seed corpus; a crash, leak or timeout fails the step.
step_fuzz() {
	local log rc summary
	log=$BUILD/run-fuzz.log
	wanted fuzz || return 0
	say "fuzzing: every target in tests/fuzz (log: $log)"
	set +e
	PIXELGATE_FUZZ_BUILD_DIR=$BUILD/fuzz bash "$ROOT/tests/fuzz/run.sh" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	summary=$(grep -cE '^fuzz_[a-z0-9_]+ .* ok' "$log" || true)
	if [[ $rc -ne 0 ]]; then
		die_step fuzz "tests/fuzz/run.sh exit $rc (log: $log)"
	fi
	record fuzz ok "$summary targets, no finding"
}

# A short churn soak (bench/run.sh soak, bench/bench_soak.c) against this
# ASan build: a few users log in, stream big updates and leave cleanly or
# abruptly mid-update, with takeovers, admin kills, idle timeouts and browser
# crashes, for SOAK_DURATION_S. Fails if the gateway died, its fds grew, the
# audit log does not verify or lost a login, or its log has an
# AddressSanitizer (or UBSan) report. About 100 s in all.
SOAK_USERS=3
SOAK_DURATION_S=70
step_soak() {
	local log rc=0 summary leaks asan
	log=$BUILD/run-soak.log
	wanted soak || return 0
	if ! can_be_root; then
		[[ ${PIXELGATE_TEST_ALLOW_SKIP:-} == 1 ]] ||
			die_step soak "not root and no sudo: the soak's sessions run in cells, made as root (PIXELGATE_TEST_ALLOW_SKIP=1 skips it)"
		warn "not root and no sudo: skipping the soak (PIXELGATE_TEST_ALLOW_SKIP=1)"
		record soak SKIPPED "no root, no sudo (PIXELGATE_TEST_ALLOW_SKIP=1)"
		return 0
	fi
	say "soak: $SOAK_USERS users for $SOAK_DURATION_S s against the ASan build (log: $log)"
	set +e
	as_root env PIXELGATE_BENCH_BUILD_DIR="$BUILD" PIXELGATE_BENCH_NO_BUILD=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=16 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$ROOT/bench/run.sh" soak --users "$SOAK_USERS" --duration "$SOAK_DURATION_S" \
		--idle-timeout 10 --grace 3 --chaos-interval 10 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	summary=$(sed -n 's/^summary: //p' "$log" | tail -n1)
	# what bench/run.sh found in the daemon's log after stopping it (a report
	# from a session worker fails the step too: it is the product's memory bug)
	asan=$(sed -nE 's/^daemon log after the stop: (.*)$/\1/p' "$log" | tail -n1)
	leaks=$(sed -nE 's/^daemon log after the stop: .* ([0-9]+) LeakSanitizer.*/\1/p' "$log" | tail -n1)
	[[ -z $leaks || $leaks == 0 ]] || summary="$summary; $leaks LeakSanitizer report(s) at exit"
	[[ $rc -eq 0 || -z $asan ]] || summary="$summary; daemon log: $asan"
	if [[ $rc -ne 0 ]]; then
		die_step soak "exit $rc: ${summary:-no summary} (log: $log)"
	fi
	record soak ok "$summary"
}

# The Debian package (tests/package/run.sh): build, install, the service under
# systemd (PID 1 of a container where this machine runs no systemd) with a
# session through a reload, upgrade, remove, purge with the audit log kept.
step_package() {
	local log rc
	log=$BUILD/run-package.log
	wanted package || return 0
	say "the Debian package: build, install, service, upgrade, purge (log: $log)"
	set +e
	as_root bash "$ROOT/tests/package/run.sh" "$BUILD/package" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [[ $rc -ne 0 ]]; then
		die_step package "tests/package/run.sh exit $rc: $(grep -c '^package: FAIL' "$log") checks failed (log: $log)"
	fi
	record package ok "$(grep -c '^package: ok' "$log") checks; $(sed -n 's/^package: ok   systemd-analyze security: //p' "$log")"
}

main() {
	cd "$ROOT"
	step_packages
	step_system
	print_environment
	step_configure
	step_build
	step_memcheck_build
	step_windows_build
	step_test
	step_fuzz
	step_soak
	step_package
	print_summary
}

main "$@"

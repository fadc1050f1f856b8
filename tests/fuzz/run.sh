#!/usr/bin/env bash
# tests/fuzz/run.sh: build every libFuzzer target of tests/fuzz/ with clang
# (ASan, UBSan, libFuzzer) and run each for a bounded time, starting from its
# committed seed corpus in tests/fuzz/corpus/<target>/ (copied to a scratch
# directory: the repository is never written). A crash, a leak, a timeout, an
# out-of-memory, a sanitizer report, a broken invariant (abort) or a target
# that exits non-zero fails the run: exit 1, with the target, its crash file
# and the end of its log. One summary line per target.
#
# Usage: tests/fuzz/run.sh [--list] [TARGET...]
#   --list     print the targets' names and exit
#   TARGET...  build and run only these (default: all)
# Environment:
#   PIXELGATE_FUZZ_BUILD_DIR  binaries, scratch corpora, crash files and logs
#                             (default: build-fuzz/ at the repository root)
#   PIXELGATE_FUZZ_SECONDS    how long each target runs (default 20)
#   PIXELGATE_FUZZ_JOBS       targets built and run at once (default 2)
#   PIXELGATE_FUZZ_CC         the compiler (default clang)
# Debian 12 packages: clang and libclang-rt-14-dev (libFuzzer and the
# sanitizer runtimes; only recommended by clang), llvm-14 for symbolized
# stack traces, and the -dev packages of deploy/lib.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${PIXELGATE_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
RUN_S=${PIXELGATE_FUZZ_SECONDS:-20}
JOBS=${PIXELGATE_FUZZ_JOBS:-2}
CC=${PIXELGATE_FUZZ_CC:-clang}

CFLAGS=(-g -O1 "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=undefined
	-std=c11 -D_GNU_SOURCE -Wall -Wextra -I proxy/common -I tests/fuzz)

# Every target: its name (tests/fuzz/NAME.c), libFuzzer's -max_len for it, and
# what it is built with besides its own source and CFLAGS: sources (from the
# repository root), compiler flags, libraries. cflags:PKG is pkg-config's
# --cflags of PKG, pkg:PKG its --cflags and --libs; @gw is the rest of the
# gateway as the targets that compile one of its files need it.
TARGETS='
fuzz_admin          4096   proxy/common/admin_text.c proxy/common/users.c proxy/common/file_atomic.c -ljansson -largon2 -lcrypto
fuzz_audit_chain    4096   proxy/common/audit_chain.c -ljansson -lcrypto
fuzz_clip_text      8192   proxy/common/clip_text.c proxy/common/utf8.c tests/fuzz/support.c -lz
fuzz_cdp            16384  -I proxy/session cflags:libvncserver cflags:x11 tests/fuzz/support.c
                           proxy/session/session_cdp.c proxy/common/utf8.c -ljansson
fuzz_http           8192   @gw proxy/gateway/gateway_admit.c proxy/common/login.c proxy/common/users.c proxy/common/ratelimit.c
                           proxy/common/refusals.c proxy/common/audit_chain.c proxy/common/utf8.c
                           -largon2 pkg:libwebsockets
fuzz_ipc            20000  @gw proxy/gateway/gateway_session.c proxy/gateway/gateway_proc.c
                           proxy/gateway/gateway_admit.c
                           proxy/common/ipc.c
                           proxy/common/browser_event.c proxy/common/utf8.c
                           proxy/common/end_text.c
fuzz_limits         4096   proxy/common/node_limits.c proxy/common/file_atomic.c -ljansson
fuzz_login          4096   proxy/common/login.c proxy/common/users.c proxy/common/file_atomic.c -ljansson -largon2 -lcrypto
fuzz_proxy_v2       1024   proxy/common/proxy_v2.c
fuzz_record         16384  @gw proxy/common/rfb_stream.c
fuzz_rfb_filter     2048   proxy/common/rfb_filter.c
fuzz_rfb_stream     16384  tests/fuzz/support.c -lvncclient
fuzz_viewer_config  4096   -I viewer -I client -I proxy/common cflags:sdl2 viewer/viewer_config.c client/client_url.c
                           proxy/common/ini_lines.c pkg:inih
'
GW='-I proxy/gateway cflags:libwebsockets tests/fuzz/gw_stubs.c tests/fuzz/support.c
    proxy/common/config.c proxy/common/ini_lines.c proxy/common/node_limits.c proxy/common/lockout.c
    proxy/common/ticket.c proxy/common/proxy_v2.c proxy/common/file_atomic.c
    proxy/gateway/gateway_policy.c -ljansson -linih -lcrypto'

die() {
	printf 'tests/fuzz/run.sh: %s\n' "$*" >&2
	exit 1
}

# The table as "name max_len words..." lines (continuation lines joined).
table() {
	local line out=""
	while IFS= read -r line; do
		[[ -z ${line// /} ]] && continue
		if [[ $line == ' '* ]]; then
			out+=" ${line#"${line%%[! ]*}"}"
		else
			[[ -n $out ]] && printf '%s\n' "$out"
			out=$line
		fi
	done <<<"$TARGETS"
	[[ -n $out ]] && printf '%s\n' "$out"
}

all_targets() {
	table | awk '{ print $1 }'
}

# The build recipe of target $1: its words after max_len, with @gw, cflags: and pkg: expanded.
recipe() {
	local word
	local -a words gw out=()
	read -r -a words <<<"$(table | awk -v t="$1" '$1 == t { $1 = ""; $2 = ""; print }')"
	read -r -d '' -a gw <<<"$GW" || true
	for word in "${words[@]}"; do
		case $word in
		@gw) out+=("${gw[@]}") ;;
		*) out+=("$word") ;;
		esac
	done
	for word in "${out[@]}"; do
		case $word in
		cflags:*) pkg-config --cflags "${word#cflags:}" | tr ' ' '\n' ;;
		pkg:*) pkg-config --cflags --libs "${word#pkg:}" | tr ' ' '\n' ;;
		*) printf '%s\n' "$word" ;;
		esac
	done | sed '/^$/d'
}

max_len() {
	table | awk -v t="$1" '$1 == t { print $2 }'
}

# Every tests/fuzz/fuzz_*.c is in the table and the other way round.
check_table() {
	local f name list
	list=$(all_targets)
	for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
		name=$(basename "$f" .c)
		grep -qx -- "$name" <<<"$list" ||
			die "$name.c has no line in the table of tests/fuzz/run.sh: add its recipe"
	done
	for name in $list; do
		[[ -f $ROOT/tests/fuzz/$name.c ]] || die "the table names $name, but tests/fuzz/$name.c is missing"
	done
}

# Build target $1 into $BUILD/$1; the result in $BUILD/results/$1.build.
build_one() {
	local t=$1 rc=0
	local -a extra
	mapfile -t extra < <(recipe "$t")
	(cd "$ROOT" && "$CC" "${CFLAGS[@]}" "tests/fuzz/$t.c" "${extra[@]}" -o "$BUILD/$t") \
		>"$BUILD/logs/$t.build.log" 2>&1 || rc=$?
	echo "$rc" >"$BUILD/results/$t.build"
}

# Run target $1 for RUN_S seconds; "runs|seconds|corpus|result|detail" in $BUILD/results/$1.
run_one() {
	local t=$1 rc=0 dir="$BUILD/run/$1" runs="-" secs="-" corpus result detail=""
	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
	cp -- "$ROOT/tests/fuzz/corpus/$t"/* "$dir/corpus/"
	(cd "$dir" && TMPDIR="$dir/tmp" "$BUILD/$t" -max_total_time="$RUN_S" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/" \
		-print_final_stats=1 corpus) >"$dir/log" 2>&1 || rc=$?
	local done_line
	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$dir/log" | tail -n 1 || true)
	if [[ $done_line =~ ^Done\ ([0-9]+)\ runs\ in\ ([0-9]+)\ second ]]; then
		runs=${BASH_REMATCH[1]}
		secs=${BASH_REMATCH[2]}
	elif [[ $(grep -m 1 '^stat::number_of_executed_units:' "$dir/log" || true) =~ ([0-9]+)$ ]]; then
		runs=${BASH_REMATCH[1]} # stopped early: the final stats still count the runs
	fi
	corpus=$(find "$dir/corpus" -type f | wc -l)
	local artifact report
	artifact=$(find "$dir/artifacts" -type f | head -n 1)
	report=$(grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|invariant failed|^SUMMARY: ' "$dir/log" || true)
	if [[ $rc -ne 0 ]]; then
		result=FAIL
		detail="exit status $rc"
	elif [[ -n $artifact ]]; then
		result=FAIL
		detail="left $(basename "$artifact")"
	elif [[ -n $report ]]; then
		result=FAIL
		detail="report in its log"
	elif [[ $runs == - ]]; then
		result=FAIL
		detail="no \"Done N runs\" line: it did not finish"
	else
		result=ok
	fi
	[[ -n $report ]] && detail+="${detail:+: }$report"
	detail=${detail//|//}
	printf '%s|%s|%s|%s|%s|%s\n' "$runs" "$secs" "$corpus" "$result" "$detail" "$artifact" \
		>"$BUILD/results/$t"
}

# Run function $1 for each further argument, JOBS at a time.
pool() {
	local fn=$1 t
	shift
	for t in "$@"; do
		while (($(jobs -rp | wc -l) >= JOBS)); do
			wait -n || true
		done
		"$fn" "$t" &
	done
	wait
}

main() {
	local -a targets=()
	local t list
	check_table
	list=$(all_targets)
	if [[ ${1:-} == --list ]]; then
		all_targets
		return 0
	fi
	if [[ $# -gt 0 ]]; then
		for t in "$@"; do
			grep -qx -- "$t" <<<"$list" || die "no such target: $t (see --list)"
			targets+=("$t")
		done
	else
		mapfile -t targets < <(all_targets)
	fi
	[[ $RUN_S =~ ^[0-9]+$ && $RUN_S -ge 1 ]] || die "PIXELGATE_FUZZ_SECONDS must be a whole number >= 1"
	[[ $JOBS =~ ^[0-9]+$ && $JOBS -ge 1 ]] || die "PIXELGATE_FUZZ_JOBS must be a whole number >= 1"
	command -v "$CC" >/dev/null 2>&1 ||
		die "$CC not found (Debian: apt-get install clang libclang-rt-14-dev)"
	for t in "${targets[@]}"; do
		compgen -G "$ROOT/tests/fuzz/corpus/$t/*" >/dev/null ||
			die "$t has no seeds in tests/fuzz/corpus/$t/"
	done
	# A symbolizer makes the sanitizers' stack traces readable (llvm-14).
	if [[ -z ${ASAN_SYMBOLIZER_PATH:-} && -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
		export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
	fi
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

	local start=$SECONDS
	mkdir -p "$BUILD/logs" "$BUILD/results" "$BUILD/run"
	BUILD=$(cd "$BUILD" && pwd)
	rm -f "$BUILD/results/"*
	printf '==> building %d fuzz targets with %s into %s\n' "${#targets[@]}" "$CC" "$BUILD"
	pool build_one "${targets[@]}"
	local failed=0
	for t in "${targets[@]}"; do
		if [[ $(cat "$BUILD/results/$t.build") != 0 ]]; then
			printf 'tests/fuzz/run.sh: %s does not build (%s):\n' "$t" "$BUILD/logs/$t.build.log" >&2
			tail -n 30 "$BUILD/logs/$t.build.log" >&2
			failed=1
		fi
	done
	((failed == 0)) || exit 1

	printf '==> running each target for %d s, %d at a time\n' "$RUN_S" "$JOBS"
	pool run_one "${targets[@]}"

	local runs secs corpus result detail artifact
	printf '\n==================== pixelgate fuzz targets ====================\n'
	for t in "${targets[@]}"; do
		IFS='|' read -r runs secs corpus result detail artifact <"$BUILD/results/$t"
		printf '%-20s %-5s %10s runs in %3s s, corpus %5s%s\n' "$t" "$result" "$runs" \
			"$secs" "$corpus" "${detail:+  ($detail)}"
		[[ $result == ok ]] || failed=1
	done
	printf '================================================================\n'
	printf 'total %d s\n' $((SECONDS - start))
	if ((failed)); then
		for t in "${targets[@]}"; do
			IFS='|' read -r runs secs corpus result detail artifact <"$BUILD/results/$t"
			[[ $result == ok ]] && continue
			printf '\ntests/fuzz/run.sh: %s FAILED: %s\n' "$t" "$detail" >&2
			if [[ -n $artifact ]]; then
				printf '  crash file: %s\n' "$artifact" >&2
				printf '  replay:     %s %s\n' "$BUILD/$t" "$artifact" >&2
			fi
			printf '  log:        %s (its end:)\n' "$BUILD/run/$t/log" >&2
			grep -v -E '^#[0-9]+ |^INFO: |^\s*$' "$BUILD/run/$t/log" | tail -n 40 >&2
		done
		exit 1
	fi
}

main "$@"

#!/bin/bash
# deploy/build-windows-viewer.sh: the libraries of pixelgate-viewer for Windows
# x86-64, cross-compiled on Debian 12 with MinGW-w64 from Debian's own source
# packages (issue 13). Nothing prebuilt is downloaded: `apt-get source` (a
# deb-src line is added next to the machine's deb lines if there is none)
# and the MinGW-w64 toolchain from Debian's packages.
#
#   deploy/build-windows-viewer.sh [--deps-only] [--out DIR]
#
# Writes DIR/pixelgate-viewer.exe (default: build-windows/ in the clone), one
# static executable that needs no DLL besides Windows' own.
#
# Built libraries are cached outside the clone, in $PIXELGATE_WIN_CACHE
# (default /var/cache/pixelgate-windows): src/ (the unpacked source
# packages), build/ (each library's build tree), prefix/ (static libraries
# and headers), stamps/ (one file per library and version: present = built).
# A second run rebuilds nothing that is already there.
#
# The libraries: zlib, libjpeg-turbo, OpenSSL, libwebsockets, libvncclient,
# jansson, SDL2, FreeType, SDL2_ttf, inih. --deps-only stops after them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PIXELGATE_WIN_CACHE:-/var/cache/pixelgate-windows}
PREFIX=$CACHE/prefix
HOST=x86_64-w64-mingw32
JOBS=$(nproc)
DEPS_ONLY=0
OUT=$ROOT/build-windows

die() {
	printf 'build-windows-viewer: %s\n' "$*" >&2
	exit 1
}
say() { printf 'build-windows-viewer: %s\n' "$*" >&2; }

while [[ $# -gt 0 ]]; do
	case $1 in
	--deps-only) DEPS_ONLY=1; shift ;;
	--out)
		[[ $# -ge 2 ]] || die "--out needs a directory"
		OUT=$(realpath -m "$2")
		shift 2
		;;
	-h | --help)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "run as root or install sudo"
	SUDO=sudo
fi

# ---- the toolchain and the source lines ----------------------------------

PKGS=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 mingw-w64-tools dpkg-dev cmake make
	pkg-config perl xz-utils bzip2 wixl)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# deb-src lines next to the machine's own deb lines (deb822 or one-line form)
have_src() {
	grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources ||
		grep -qs '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}
if ! have_src; then
	say "adding deb-src lines beside the machine's deb lines"
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -e $f ]] || continue
		grep -q '^Types: deb$' "$f" || continue
		sed 's/^Types: deb$/Types: deb-src/' "$f" |
			$SUDO tee "/etc/apt/sources.list.d/pixelgate-src-$(basename "$f")" >/dev/null
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -e $f ]] || continue
		grep -q '^deb ' "$f" || continue
		sed -n 's/^deb /deb-src /p' "$f" |
			$SUDO tee "/etc/apt/sources.list.d/pixelgate-src-$(basename "$f" .list).list" \
				>/dev/null
	done
	have_src || die "no deb line to add a deb-src line beside"
	APT_UPDATE=1
fi
if [[ ${#missing[@]} -gt 0 || ${APT_UPDATE:-0} == 1 ]]; then
	say "installing: ${missing[*]:-(nothing; reading the source lists)}"
	$SUDO apt-get update -qq
	[[ ${#missing[@]} -eq 0 ]] ||
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

CC=$HOST-gcc-posix
CXX=$HOST-g++-posix
command -v "$CC" >/dev/null || die "$CC not found after installing gcc-mingw-w64-x86-64"
# every directory a library is installed into: install(1) makes none
mkdir -p "$CACHE/src" "$CACHE/build" "$CACHE/stamps" "$PREFIX/include" "$PREFIX/lib/pkgconfig" \
	"$PREFIX/bin"

TOOLCHAIN=$CACHE/toolchain.cmake
cat >"$TOOLCHAIN.new" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $CC)
set(CMAKE_CXX_COMPILER $CXX)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_FIND_ROOT_PATH $PREFIX /usr/$HOST)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
mv "$TOOLCHAIN.new" "$TOOLCHAIN"
export PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig:$PREFIX/share/pkgconfig
export PKG_CONFIG_PATH=""

# ---- fetching and building one library -------------------------------------

# The unpacked source of Debian source package $1 (Debian's patches applied),
# fetched once: the newest version the archive serves (an entry whose files
# are not there any more is skipped). Prints its directory.
fetch() {
	local pkg=$1 dir ver
	dir=$(find "$CACHE/src" -maxdepth 1 -mindepth 1 -type d -name "$pkg-[0-9]*" | sort -V | tail -n 1)
	if [[ -n $dir ]]; then
		printf '%s\n' "$dir"
		return
	fi
	(
		cd "$CACHE/src"
		apt-get source -qq "$pkg" >"$CACHE/src/$pkg.fetch.log" 2>&1 && exit 0
		for ver in $(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -rV | uniq); do
			apt-get source -qq "$pkg=$ver" >>"$CACHE/src/$pkg.fetch.log" 2>&1 && exit 0
		done
		exit 1
	) || die "apt-get source $pkg failed: $(tail -n 3 "$CACHE/src/$pkg.fetch.log")"
	dir=$(find "$CACHE/src" -maxdepth 1 -mindepth 1 -type d -name "$pkg-[0-9]*" | sort -V | tail -n 1)
	[[ -n $dir ]] || die "apt-get source $pkg unpacked nothing under $CACHE/src"
	printf '%s\n' "$dir"
}

# Runs "$@" with its output in $log; on failure shows the end of it.
run_logged() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 || die "$(basename "$log" .log): '$*' failed; the end of $log:
$(tail -n 25 "$log")"
}

# cmake_lib NAME SRC_SUBDIR TARGET [cmake options...]: configure, build and
# install with the MinGW toolchain (TARGET "install" for all, or one target
# whose files are then installed by hand by the caller).
cmake_lib() {
	local name=$1 src=$2 target=$3
	shift 3
	local b=$CACHE/build/$name log=$CACHE/build/$name.log
	rm -rf "$b" "$log"
	run_logged "$log" cmake -S "$src" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
		-DCMAKE_PREFIX_PATH="$PREFIX" -DBUILD_SHARED_LIBS=OFF "$@"
	if [[ $target == install ]]; then
		run_logged "$log" cmake --build "$b" -j "$JOBS" --target install
	else
		run_logged "$log" cmake --build "$b" -j "$JOBS" --target "$target"
	fi
}

# built NAME DIR: true if DIR's version of NAME is built already.
built() { [[ -e $CACHE/stamps/$1-$(basename "$2") ]]; }
stamp() { touch "$CACHE/stamps/$1-$(basename "$2")"; }

# write_pc FILE NAME VERSION LIBS [REQUIRES_PRIVATE [LIBS_PRIVATE]]: a
# pkg-config file under $PREFIX/lib/pkgconfig for a library whose own build
# writes none.
write_pc() {
	install -d "$PREFIX/lib/pkgconfig"
	cat >"$PREFIX/lib/pkgconfig/$1.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: $2
Description: $2 (built for Windows by build-windows-viewer.sh)
Version: $3
Requires.private: ${5:-}
Libs: -L\${libdir} $4
Libs.private: ${6:-}
Cflags: -I\${includedir}
EOF
}

build_zlib() {
	local src b
	src=$(fetch zlib)
	built zlib "$src" && return
	say "zlib ($(basename "$src"))"
	# the static library only: Debian's source has no win32/ (the DLL's resources)
	cmake_lib zlib "$src" zlibstatic -DZLIB_BUILD_EXAMPLES=OFF
	b=$CACHE/build/zlib
	install -d "$PREFIX/include"
	install -m 0644 "$src/zlib.h" "$b/zconf.h" "$PREFIX/include/"
	install -m 0644 "$b/libzlibstatic.a" "$PREFIX/lib/libz.a"
	write_pc zlib zlib "$(basename "$src" | sed 's/^zlib-//; s/\.dfsg.*//')" -lz
	stamp zlib "$src"
}

# cmake_dep PKG LABEL [cmake options...]: Debian source package PKG built
# and installed as it is with the MinGW toolchain (once per version).
cmake_dep() {
	local pkg=$1 label=$2 src
	shift 2
	src=$(fetch "$pkg")
	built "$pkg" "$src" && return
	say "$label ($(basename "$src"))"
	cmake_lib "$pkg" "$src" install "$@"
	stamp "$pkg" "$src"
}

build_openssl() {
	local src b log
	src=$(fetch openssl)
	built openssl "$src" && return
	say "OpenSSL ($(basename "$src")): the longest step, several minutes"
	b=$CACHE/build/openssl
	log=$CACHE/build/openssl.log
	rm -rf "$b" "$log"
	cp -a "$src" "$b"
	(
		cd "$b"
		run_logged "$log" ./Configure mingw64 no-shared no-tests no-module \
			--cross-compile-prefix="$HOST-" --prefix="$PREFIX" --libdir=lib \
			CC=gcc-posix CXX=g++-posix
		run_logged "$log" make -j "$JOBS" build_libs
		run_logged "$log" make install_dev
	)
	stamp openssl "$src"
}

build_vncclient() {
	local src
	src=$(fetch libvncserver)
	# every public header (rfbclient.h includes keysym.h and others)
	install -d "$PREFIX/include/rfb"
	install -m 0644 "$src"/rfb/*.h "$PREFIX/include/rfb/"
	built libvncclient "$src" && {
		install -m 0644 "$CACHE/build/libvncserver/rfb/rfbconfig.h" "$PREFIX/include/rfb/"
		return
	}
	say "libvncclient ($(basename "$src"))"
	cmake_lib libvncserver "$src" vncclient -DWITH_OPENSSL=OFF -DWITH_GNUTLS=OFF \
		-DWITH_GCRYPT=OFF -DWITH_SDL=OFF -DWITH_GTK=OFF -DWITH_LIBSSHTUNNEL=OFF \
		-DWITH_SYSTEMD=OFF -DWITH_FFMPEG=OFF -DWITH_XCB=OFF -DWITH_LZO=OFF \
		-DWITH_PNG=OFF -DWITH_SASL=OFF -DWITH_EXAMPLES=OFF -DWITH_TESTS=OFF \
		-DWITH_THREADS=ON -DWITH_ZLIB=ON -DWITH_JPEG=ON
	local b=$CACHE/build/libvncserver
	install -m 0644 "$b"/rfb/rfbconfig.h "$PREFIX/include/rfb/"
	install -m 0644 "$(find "$b" -name 'libvncclient.a' | head -n 1)" "$PREFIX/lib/"
	write_pc libvncclient LibVNCClient "$(basename "$src" | sed 's/^libvncserver-//; s/+.*//')" \
		-lvncclient "zlib libjpeg" -lws2_32
	stamp libvncclient "$src"
}

# inih: one C file (Debian builds it with meson; not needed for one file).
# From Debian's source package when the archive serves it, else from
# third_party/inih (upstream r55, the version Debian 12 ships: the archive
# here answers 404 for libinih's source).
build_inih() {
	local src b ver
	if src=$( (fetch libinih) 2>/dev/null); then
		ver=$(basename "$src" | sed 's/^libinih-//')
	else
		src=$ROOT/third_party/inih
		ver=55
		say "libinih's source package is not served; using third_party/inih (r55)"
	fi
	built inih "inih-$ver" && return
	say "inih ($ver)"
	b=$CACHE/build/inih
	rm -rf "$b"
	install -d "$b" "$PREFIX/include" "$PREFIX/lib"
	# meson's defaults are ini.h's: no -D, as Debian's build
	"$HOST-gcc-posix" -O2 -std=c99 -c "$src/ini.c" -o "$b/ini.o"
	"$HOST-ar" rcs "$PREFIX/lib/libinih.a" "$b/ini.o"
	install -m 0644 "$src/ini.h" "$PREFIX/include/"
	write_pc inih inih "$ver" -linih
	stamp inih "inih-$ver"
}

t0=$SECONDS
build_zlib
cmake_dep libjpeg-turbo libjpeg-turbo -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_SIMD=OFF \
	-DWITH_TURBOJPEG=ON -DWITH_JAVA=OFF
build_openssl
cmake_dep libwebsockets libwebsockets -DLWS_WITH_SSL=ON -DLWS_WITH_SHARED=OFF \
	-DLWS_WITH_STATIC=ON -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITHOUT_SERVER=OFF \
	-DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_WITH_ZLIB=OFF -DLWS_WITH_LIBUV=OFF \
	-DLWS_WITH_LIBEV=OFF -DLWS_WITH_LIBEVENT=OFF -DLWS_WITH_GLIB=OFF -DLWS_IPV6=ON \
	-DDISABLE_WERROR=ON -DLWS_OPENSSL_INCLUDE_DIRS="$PREFIX/include" \
	-DLWS_OPENSSL_LIBRARIES="$PREFIX/lib/libssl.a;$PREFIX/lib/libcrypto.a;/usr/$HOST/lib/libws2_32.a;/usr/$HOST/lib/libcrypt32.a"
# libwebsockets installs libwebsockets_static.a and no .pc
write_pc libwebsockets libwebsockets 4.1.6 -lwebsockets_static openssl \
	"-lws2_32 -liphlpapi -lcrypt32 -luserenv"
build_vncclient
cmake_dep jansson jansson -DJANSSON_BUILD_DOCS=OFF -DJANSSON_WITHOUT_TESTS=ON \
	-DJANSSON_EXAMPLES=OFF -DJANSSON_BUILD_SHARED_LIBS=OFF
cmake_dep libsdl2 SDL2 -DSDL_SHARED=OFF -DSDL_STATIC=ON -DSDL_TEST=OFF -DSDL2_DISABLE_SDL2MAIN=OFF
cmake_dep freetype FreeType -DFT_DISABLE_HARFBUZZ=ON -DFT_DISABLE_BZIP2=ON -DFT_DISABLE_PNG=ON \
	-DFT_DISABLE_BROTLI=ON -DFT_REQUIRE_ZLIB=ON
cmake_dep libsdl2-ttf SDL2_ttf -DSDL2TTF_VENDORED=OFF -DSDL2TTF_HARFBUZZ=OFF -DSDL2TTF_SAMPLES=OFF
# SDL2_ttf writes no .pc either
write_pc SDL2_ttf SDL2_ttf 2.20.1 -lSDL2_ttf "sdl2 freetype2"
build_inih
say "libraries ready under $PREFIX ($((SECONDS - t0)) s)"
if [[ $DEPS_ONLY == 1 ]]; then
	exit 0
fi

# ---- the viewer ------------------------------------------------------------

say "pixelgate-viewer.exe"
install -d "$OUT"
log=$OUT/build.log
rm -f "$log"
PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig run_logged "$log" cmake -S "$ROOT" -B "$OUT" \
	-DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release -DPIXELGATE_WERROR=ON
# wintype.exe: the tests' Unicode typist under Wine (tests/fixtures/wintype.c)
PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig run_logged "$log" cmake --build "$OUT" -j "$JOBS" \
	--target pixelgate-viewer wintype
"$HOST-strip" "$OUT/pixelgate-viewer.exe"

# ---- the MSI ---------------------------------------------------------------

# msitools' wixl (deploy/windows/pixelgate-viewer.wxs): per machine, a
# Start-menu entry, %ProgramData%\pixelgate for IT's viewer.conf. The licences
# of everything linked into the .exe: each Debian source's debian/copyright.
stage=$OUT/msi
rm -rf "$stage"
install -d "$stage"
install -m 0644 "$ROOT/deploy/windows/pixelgate-viewer.wxs" "$ROOT/deploy/windows/viewer.conf.example" \
	"$stage/"
install -m 0755 "$OUT/pixelgate-viewer.exe" "$stage/"
{
	echo "pixelgate-viewer.exe links these libraries statically; their licences follow."
	for d in "$CACHE"/src/*/; do
		[[ -e $d/debian/copyright ]] || continue
		printf '\n===== %s (Debian source package) =====\n\n' "$(basename "$d")"
		cat "$d/debian/copyright"
	done
	printf '\n===== inih r55 (third_party/inih) =====\n\n'
	cat "$ROOT/third_party/inih/LICENSE.txt"
} >"$stage/THIRD-PARTY.txt"
# x.y.z for Windows Installer: 0.1.<commits on this branch>
version=0.1.$(git -C "$ROOT" rev-list --count HEAD 2>/dev/null || echo 0)
(cd "$stage" && run_logged "$log" wixl -a x64 -D Version="$version" \
	-o "$OUT/pixelgate-viewer.msi" pixelgate-viewer.wxs)
say "built $OUT/pixelgate-viewer.exe ($(($(stat -c %s "$OUT/pixelgate-viewer.exe") / 1024)) KiB)" \
	"and $OUT/pixelgate-viewer.msi ($version, $(($(stat -c %s "$OUT/pixelgate-viewer.msi") / 1024)) KiB)"

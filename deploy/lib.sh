# shellcheck shell=bash
# deploy/lib.sh: what deploy/quickstart.sh, tests/run.sh and bench/run.sh share.
# Sourced, not run. Defines the Debian packages pixelgate builds and runs
# with, and helpers to run a command as root and to find missing packages.

# Packages for building and running pixelgate, the viewer and pixelgatectl;
# squid is the upstream proxy quickstart and the tests run (the sessions' only
# way out; in production the prefectural security cloud's proxy).
# shellcheck disable=SC2034 # used by the scripts that source this file
PIXELGATE_PACKAGES=(
	build-essential cmake pkg-config
	libvncserver-dev libwebsockets-dev libssl-dev libcriterion-dev libsdl2-dev libsdl2-ttf-dev libfontconfig-dev
	libx11-dev libxdamage-dev libxfixes-dev libxtst-dev libxau-dev libxft-dev
	libjansson-dev libinih-dev libargon2-dev libpng-dev zlib1g-dev libldap-dev liboath-dev libqrencode-dev libsystemd-dev
	xvfb chromium fonts-noto-cjk openssl python3 x11-utils xdotool procps
	squid
)

# Run a command as root: directly when root, else through sudo.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		printf '%s: need root for: %s (run as root or install sudo)\n' "${0##*/}" "$*" >&2
		return 1
	fi
}

can_be_root() {
	[[ $EUID -eq 0 ]] || command -v sudo >/dev/null 2>&1
}

# Print the packages of "$@" that dpkg does not list as installed, one per line.
missing_packages() {
	local pkg
	for pkg in "$@"; do
		if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) != ii* ]]; then
			printf '%s\n' "$pkg"
		fi
	done
}

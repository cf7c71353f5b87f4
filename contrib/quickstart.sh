#!/bin/sh
# NAME
#	quickstart.sh - set up, build and run or test targrey-milter on Debian 12
# SYNOPSIS
#	contrib/quickstart.sh run
#	contrib/quickstart.sh test
#	contrib/quickstart.sh bench
#	contrib/quickstart.sh deb
# DESCRIPTION
#	run	installs the build and runtime dependencies with apt, builds, and
#		starts the milter in the foreground on inet:8891@localhost with
#		the embedded defaults, state under ./var/, as the invoking user.
#	test	installs everything the tests need too (Debian's postfix, swaks,
#		nsd, ...), builds, and runs "make check" (unit + integration).
#	bench	installs what "test" installs plus the pair targrey-milter
#		replaces (pypolicyd-spf, Postgrey: the end-to-end comparison;
#		their system services are never started), builds, and runs
#		"make bench" (about 10 minutes; prints a table of figures).
#	deb	installs the build dependencies and Debian's packaging tools,
#		builds, and makes the Debian package from a clean copy of the
#		sources (make distdir; no source file is written):
#		build/deb/targrey-milter_VERSION_ARCH.deb (and -dbgsym). Install
#		it with "apt install ./build/deb/targrey-milter_*.deb".
#	Must run as root (or with sudo available) for apt-get.
# DIAGNOSTICS
#	Exits non-zero when a step fails; "make check" prints every failure.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)

# Packaging: the .deb (deb, tests/docs/t_deb.sh) and the .rpm test.
PKG_DEPS="debhelper dpkg-dev lintian rpm"
BUILD_DEPS="build-essential autoconf automake pkg-config libmilter-dev libspf2-dev
	libpcre2-dev liblmdb-dev libcmocka-dev libmicrohttpd-dev"
TEST_DEPS="postfix postfix-pcre swaks nsd dnsutils python3 lmdb-utils mandoc
	clang libclang-rt-14-dev prometheus tidy chromium $PKG_DEPS"
BENCH_DEPS="postfix-policyd-spf-python postgrey"
# state_backend = redis (issue 13): the client library, and servers for the tests
BUILD_DEPS="$BUILD_DEPS libhiredis-dev"
TEST_DEPS="$TEST_DEPS redis-server redis-sentinel"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are missing; never start their services.
install_packages() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "quickstart: installing$missing"
	echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod 755 "$policy"
		trap 'as_root rm -f "$policy"' EXIT
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
	if [ -e "$policy" ] && grep -q 'exit 101' "$policy"; then as_root rm -f "$policy"; trap - EXIT; fi
}

# Debian's Exim as .deb files for t_targrey_exim.py, which unpacks them
# (never installs them: exim4 conflicts with postfix).
fetch_exim() {
	d=$top/tests/integration/exim-debs
	ls "$d"/exim4-daemon-light_*.deb >/dev/null 2>&1 && return 0
	mkdir -p "$d" && (cd "$d" && apt-get download -q exim4-daemon-light exim4-base libidn12) \
	    || echo "quickstart: cannot fetch Exim's packages: t_targrey_exim will be skipped"
}

build() {
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure ${CONFIGURE_FLAGS:-}
	make -j"$(nproc)"
}

case "${1:-}" in
run)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS
	build
	mkdir -p "$top/var"
	exec "$top/src/targrey-milter" -f \
	    -o "state_directory=$top/var" -o "pid_file=$top/var/targrey-milter.pid" \
	    -o "user=$(id -un)" -o "group=$(id -gn)"
	;;
test)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS $TEST_DEPS
	fetch_exim
	build
	make -j"$(nproc)" check
	;;
bench)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS $TEST_DEPS $BENCH_DEPS
	build
	make bench
	;;
deb)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS $PKG_DEPS
	build
	version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
	rm -rf "$top/build/deb" && mkdir -p "$top/build/deb"
	make -s distdir distdir="$top/build/deb/targrey-milter-$version" \
	    top_distdir="$top/build/deb/targrey-milter-$version"
	(cd "$top/build/deb/targrey-milter-$version" && dpkg-buildpackage -us -uc -b)
	rm -rf "$top/build/deb/targrey-milter-$version"
	ls -l "$top"/build/deb/*.deb
	;;
*)
	echo "usage: $0 run|test|bench|deb" >&2
	exit 2
	;;
esac

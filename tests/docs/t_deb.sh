#!/bin/sh
# NAME
#	t_deb.sh - the Debian package builds, passes lintian, installs, runs,
#	and goes away on purge as policy says
# DESCRIPTION
#	Builds the package from a clean copy of the sources with
#	DEB_BUILD_OPTIONS=nocheck (make check runs the unit tests itself),
#	once per source hash (pkglib.sh: the plain and the sanitizer phase
#	of CI share it). Then:
#	  - debian/changelog's version is the one configure.ac gives;
#	  - lintian reports no error (E:) on the .deb;
#	  - dpkg -i succeeds without a running systemd; the account targrey
#	    exists with home /var/lib/targrey-milter, that directory is
#	    targrey's, mode 750; with Postfix installed, targrey is in the
#	    group postfix and /var/spool/postfix/targrey (for a unix socket)
#	    is targrey:postfix 750; /etc/targrey-milter/* are conffiles; the
#	    service is enabled (multi-user.target.wants link);
#	  - the installed targrey-milter -t, run as targrey as the unit's
#	    ExecStartPre does, accepts the installed configuration;
#	  - the installed binary, in the foreground on a test port, passes a
#	    session through a private Postfix (deb_session.py, the rig);
#	  - dpkg -r keeps the configuration and the state directory's data;
#	  - dpkg --purge removes every file the package listed, the
#	    configuration, the state directory and the enable link; only the
#	    account targrey remains (Debian never removes system users). The
#	    test then deletes that account when it created it.
# DIAGNOSTICS
#	Exit 0 when all holds, 1 listing each problem, 77 (skipped) when not
#	root, a tool is missing, or the package is installed on this machine
#	already (the test would replace an administrator's installation).
set -u

b=${TG_BUILDDIR:-.}
s=${TG_SRCDIR:-.}
. "$s/tests/docs/testlib.sh"
. "$s/tests/docs/pkglib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i of the package)"; exit 77; }
for p in dpkg-buildpackage dh lintian python3 runuser; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
if dpkg-query -W -f='${Status}' targrey-milter 2>/dev/null | grep -q installed; then
	echo "SKIP: the package targrey-milter is installed on this machine; not replacing it"
	exit 77
fi

t=$(mktemp -d /tmp/tg-deb.XXXXXX) || exit 1
had_user=no
getent passwd targrey >/dev/null && had_user=yes
cleanup() {
	dpkg-query -W targrey-milter >/dev/null 2>&1 && dpkg --purge targrey-milter >/dev/null 2>&1
	if [ "$had_user" = no ] && getent passwd targrey >/dev/null; then
		deluser --system --quiet targrey >/dev/null 2>&1
		getent group targrey >/dev/null && delgroup --system --quiet targrey >/dev/null 2>&1
	fi
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pkg_init || { echo "FAIL: make distdir"; exit 1; }
check "debian/changelog version" \
    "$(dpkg-parsechangelog -l "$s/debian/changelog" -S Version)" "$version"
pkg_deb || { echo "FAIL: dpkg-buildpackage"; exit 1; }
check "a -dbgsym package beside it" \
    "$(test -f "$dbgsym" && echo yes)" yes

lintian "$deb" 2>&1 | grep -v 'running with root privileges' >"$t/lintian.out"
sed 's/^/lintian: /' "$t/lintian.out"
check "lintian errors" "$(grep -c '^E:' "$t/lintian.out")" 0

# Install: no systemd runs here, the maintainer scripts must not mind.
dpkg -i "$deb" >"$t/install.out" 2>&1
rc=$?; check "dpkg -i exit" "$rc" 0; [ "$rc" = 0 ] || cat "$t/install.out"
check "targrey's home" "$(getent passwd targrey | cut -d: -f6)" /var/lib/targrey-milter
check "log directory owner and mode" \
    "$(stat -c '%U:%G %a' /var/log/targrey-milter 2>&1)" "targrey:targrey 750"
check "state directory owner and mode" \
    "$(stat -c '%U:%G %a' /var/lib/targrey-milter 2>&1)" "targrey:targrey 750"
check "conffiles" "$(dpkg-query -W -f='${Conffiles}' targrey-milter | awk 'NF {print $1}' | sort | tr '\n' ' ')" \
    "/etc/logrotate.d/targrey-milter /etc/targrey-milter/permit_client_nots25r /etc/targrey-milter/recipient_whitelist /etc/targrey-milter/s25r_whitelist /etc/targrey-milter/targrey-milter.conf "
if getent group postfix >/dev/null && [ -d /var/spool/postfix ]; then
	check "targrey in the group postfix (unix socket for smtpd)" \
	    "$(id -nG targrey | tr ' ' '\n' | grep -cx postfix)" 1
	check "socket directory in Postfix's chroot" \
	    "$(stat -c '%U:%G %a' /var/spool/postfix/targrey 2>&1)" "targrey:postfix 750"
fi
wants=/etc/systemd/system/multi-user.target.wants/targrey-milter.service
check "service enabled" "$(readlink "$wants")" /lib/systemd/system/targrey-milter.service
dpkg -L targrey-milter > "$t/files"

runuser -u targrey -- /usr/sbin/targrey-milter -t >"$t/t.out" 2>&1
rc=$?; check "installed targrey-milter -t as targrey" "$rc" 0; [ "$rc" = 0 ] || cat "$t/t.out"

python3 "$s/tests/docs/deb_session.py" /usr/sbin/targrey-milter
check "session through Postfix and the installed milter" "$?" 0

echo marker > /var/lib/targrey-milter/marker
dpkg -r targrey-milter >"$t/remove.out" 2>&1
rc=$?; check "dpkg -r exit" "$rc" 0; [ "$rc" = 0 ] || cat "$t/remove.out"
check "configuration kept by remove" \
    "$(test -f /etc/targrey-milter/targrey-milter.conf && echo yes)" yes
check "state data kept by remove" "$(cat /var/lib/targrey-milter/marker 2>&1)" marker

dpkg --purge targrey-milter >"$t/purge.out" 2>&1
rc=$?; check "dpkg --purge exit" "$rc" 0; [ "$rc" = 0 ] || cat "$t/purge.out"
left=""
while read -r f; do
	[ -d "$f" ] && continue   # directories shared with other packages stay
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done < "$t/files"
for f in /etc/targrey-milter /var/lib/targrey-milter /run/targrey-milter "$wants" \
    /var/spool/postfix/targrey /var/log/targrey-milter \
    /var/lib/systemd/deb-systemd-helper-enabled/targrey-milter.service.dsh-also; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
check "files left after purge" "$left" ""
check "account targrey after purge (policy: kept)" \
    "$(getent passwd targrey >/dev/null && echo kept)" kept

[ "$fails" -eq 0 ] && echo "the package builds, installs, runs and purges"
[ "$fails" -eq 0 ]

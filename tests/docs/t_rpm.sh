#!/bin/sh
# NAME
#	t_rpm.sh - the RPM spec builds an .rpm holding the same files as the
#	Debian package
# DESCRIPTION
#	With Debian's rpm package (rpmbuild), builds contrib/targrey-milter.spec
#	from a tarball of a clean copy of the sources ("rpmbuild -bb --nodeps
#	--nocheck": the RHEL build dependencies are not installable here; the
#	systemd/sysusers macros RHEL's systemd-rpm-macros provides are given
#	as paths and empty scriptlets when missing, see pkglib.sh), builds the
#	.deb too (or reuses both from the cache), and checks:
#	  - the spec's Version is the one configure.ac gives;
#	  - "rpm -qlp" lists the same files as the .deb, once the paths that
#	    differ by design are mapped (/lib/systemd -> /usr/lib/systemd;
#	    man pages and documents with or without .gz); the documentation
#	    directory is
#	    compared on the upstream documents only (Debian adds changelog.gz
#	    and copyright, RPM puts LICENSE under /usr/share/licenses);
#	  - the configuration files are %config(noreplace), the state
#	    directory belongs to targrey with mode 0750.
# DIAGNOSTICS
#	Exit 0 when all holds, 1 listing each problem, 77 (skipped) when
#	rpmbuild or dpkg-buildpackage is not installed.
set -u

b=${TG_BUILDDIR:-.}
s=${TG_SRCDIR:-.}
. "$s/tests/docs/testlib.sh"
. "$s/tests/docs/pkglib.sh"

for p in rpmbuild rpm dpkg-buildpackage dh flock; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
t=$(mktemp -d /tmp/tg-rpm.XXXXXX) || exit 1
chmod 755 "$t"
trap 'rm -rf "$t"' EXIT
trap 'exit 1' INT TERM HUP

pkg_init || { echo "FAIL: make distdir"; exit 1; }
check "spec version" "$(sed -n 's/^Version: *//p' "$s/contrib/targrey-milter.spec")" "$version"
pkg_rpm || { echo "FAIL: rpmbuild"; exit 1; }
pkg_deb || { echo "FAIL: dpkg-buildpackage"; exit 1; }

# normalise: the files (not directories) each package installs, with the
# by-design path differences mapped, documentation reduced to upstream's.
normalise() {
	sed -e 's|^/lib/systemd/|/usr/lib/systemd/|' \
	    -e '\|^/usr/share/man/|s|\.gz$||' -e '\|^/usr/share/doc/|s|\.gz$||' \
	    -e '\|^/usr/share/doc/targrey-milter/changelog|d' \
	    -e '\|^/usr/share/doc/targrey-milter/copyright$|d' \
	    -e '\|^/usr/share/licenses/|d' | sort
}
dpkg-deb -c "$deb" | awk '$1 ~ /^-/ { sub(/^\./, "", $6); print $6 }' | normalise > "$t/deb.files"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null |
    awk '$1 ~ /^-/ { print $2 }' | normalise > "$t/rpm.files"
diff "$t/deb.files" "$t/rpm.files" > "$t/files.diff"
check "files of the .rpm vs the .deb (diff)" "$(cat "$t/files.diff")" ""
check "files compared" "$(test "$(wc -l < "$t/deb.files")" -ge 15 && echo "15 or more")" "15 or more"
check "the .rpm's license file" \
    "$(rpm -qlp "$rpm" 2>/dev/null | grep -c '^/usr/share/licenses/targrey-milter/LICENSE$')" 1
check "%config(noreplace) files" \
    "$(rpm -qp --qf '[%{FILEFLAGS:fflags}|%{FILENAMES}\n]' "$rpm" 2>/dev/null | awk -F'|' '$1 ~ /c/ && $1 ~ /n/ { print $2 }' | sort | tr '\n' ' ')" \
    "/etc/logrotate.d/targrey-milter /etc/targrey-milter/permit_client_nots25r /etc/targrey-milter/recipient_whitelist /etc/targrey-milter/s25r_whitelist /etc/targrey-milter/targrey-milter.conf "
check "state directory in the .rpm" \
    "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm" 2>/dev/null | grep ' /var/lib/targrey-milter$')" \
    "drwxr-x--- targrey:targrey /var/lib/targrey-milter"

if [ "$fails" -ne 0 ]; then
	echo "--- deb files"; cat "$t/deb.files"
	echo "--- rpm -qlp"; rpm -qlp "$rpm"
	exit 1
fi
echo "the .rpm installs the .deb's files:"
sed 's/^/  /' "$t/rpm.files"

#!/bin/sh
# NAME
#	t_install.sh - "make install" never overwrites what an administrator
#	edited; "make uninstall" removes only unmodified files
# DESCRIPTION
#	Installs into a temp DESTDIR, edits the configuration and one table,
#	installs again and uninstalls: the edited files must survive both, the
#	new versions must appear beside them as NAME.sample during the second
#	install, and the unedited ones must go at uninstall.
# DIAGNOSTICS
#	Exit 0 when all holds, 1 listing each problem.
set -u

b=${TG_BUILDDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-install.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT

inst() {
	${MAKE:-make} -s -C "$b" "$1" DESTDIR="$t/root" >"$t/$1.out" 2>&1 \
	    || { cat "$t/$1.out"; fail "make $1 failed"; }
}

inst install
etc=$(find "$t/root" -type d -name targrey-milter -path '*etc*' | head -n1)
test -n "$etc" || { fail "no etc/targrey-milter directory installed"; exit 1; }
for f in targrey-milter.conf s25r_whitelist recipient_whitelist permit_client_nots25r; do
	test -f "$etc/$f" || fail "first install: $f missing"
	test -f "$etc/$f.sample" && fail "first install: $f.sample made though nothing was there"
done
echo "milter_socket = inet:9999@127.0.0.1  # edited" >> "$etc/targrey-milter.conf"
echo "/\.edited\.example$/ OK" >> "$etc/s25r_whitelist"
cp "$etc/targrey-milter.conf" "$t/conf.want"
cp "$etc/s25r_whitelist" "$t/table.want"

inst install
cmp -s "$etc/targrey-milter.conf" "$t/conf.want" || fail "reinstall replaced the edited targrey-milter.conf"
cmp -s "$etc/s25r_whitelist" "$t/table.want" || fail "reinstall replaced the edited s25r_whitelist"
for f in targrey-milter.conf s25r_whitelist; do
	test -f "$etc/$f.sample" || fail "reinstall: no $f.sample beside the edited $f"
	grep -q "keeping .*$f" "$t/install.out" || fail "reinstall did not say it kept $f"
done

inst uninstall
cmp -s "$etc/targrey-milter.conf" "$t/conf.want" || fail "uninstall removed the edited targrey-milter.conf"
cmp -s "$etc/s25r_whitelist" "$t/table.want" || fail "uninstall removed the edited s25r_whitelist"
for f in recipient_whitelist permit_client_nots25r targrey-milter.conf.sample s25r_whitelist.sample; do
	test -e "$etc/$f" && fail "uninstall left the unmodified $f"
done
test "$fails" -eq 0 && echo "install keeps edited files; uninstall removes only unmodified ones"
test "$fails" -eq 0

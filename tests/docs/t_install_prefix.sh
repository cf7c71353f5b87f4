#!/bin/sh
# NAME
#	t_install_prefix.sh - "make install" into a private prefix, as root,
#	leaves the system's users alone
# DESCRIPTION
#	Runs "make install prefix=TMP" (no DESTDIR) as root: it must neither
#	run systemd-sysusers nor chown anything to targrey, must say that it
#	left the users alone, and the state directory under the prefix stays
#	root's. (Before, it ran systemd-sysusers and created a system account
#	with a home outside the prefix.) "make uninstall" with the same prefix
#	then cleans up.
# DIAGNOSTICS
#	Exit 0 when all holds, 1 listing each problem, 77 (skipped) when not
#	root (the behaviour under test is root's).
set -u

b=${TG_BUILDDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the hook only touches users as root)"; exit 77; }
t=$(mktemp -d /tmp/tg-prefix.XXXXXX) || exit 1
trap 'rm -rf "$t"' EXIT

${MAKE:-make} -C "$b" install prefix="$t/p" >"$t/out" 2>&1
rc=$?
check "make install prefix=$t/p: exit" "$rc" 0
check "systemd-sysusers run" "$(grep -c 'systemd-sysusers' "$t/out")" 0
check "chown to targrey" "$(grep -c 'chown targrey' "$t/out")" 0
check "says it left the users alone" "$(grep -c "not touching the system's users for prefix $t/p" "$t/out")" 1
check "state directory owner" "$(stat -c %U "$t/p/var/lib/targrey-milter" 2>&1)" root
${MAKE:-make} -C "$b" uninstall prefix="$t/p" >"$t/un.out" 2>&1
check "make uninstall: exit" "$?" 0
[ "$fails" -eq 0 ] || { echo "--- make install output"; cat "$t/out"; exit 1; }
echo "a private prefix leaves the system's users alone"

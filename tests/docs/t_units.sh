#!/bin/sh
# NAME
#	t_units.sh - the systemd units load cleanly; the init script and the
#	postmulti helper are valid POSIX sh
# DESCRIPTION
#	Copies the generated units to a temp dir with ExecStart pointing at
#	the built daemon (systemd-analyze checks that the binary exists) and
#	runs "systemd-analyze verify" on targrey-milter.service and on an
#	instance of targrey-milter@.service: any warning about them fails.
#	Then "sh -n" on the init script and targrey-postmulti, and the init
#	script's usage and LSB header.
# DIAGNOSTICS
#	Exit 0 when clean, 1 listing each problem, 77 (skipped) when
#	systemd-analyze is not installed.
set -u

b=${TG_BUILDDIR:-.}
s=${TG_SRCDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-units.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT

for f in "$b/contrib/targrey-milter.init" "$s/contrib/targrey-postmulti"; do
	sh -n "$f" || fail "$f: sh -n reports a syntax error"
done
grep -q '^### BEGIN INIT INFO' "$b/contrib/targrey-milter.init" || fail "init script: no LSB header"
grep -q '@[a-z]*dir@' "$b/contrib/targrey-milter.init" "$b/contrib/targrey-milter.service" \
    "$b/contrib/targrey-milter@.service" && fail "a generated file still holds an @dir@ placeholder"
out=$(sh "$b/contrib/targrey-milter.init" bogus 2>&1)
case "$out" in
*usage:*start*stop*reload*restart*status*) ;;
*) fail "init script usage: got \"$out\", want start|stop|reload|restart|status" ;;
esac

if ! command -v systemd-analyze >/dev/null; then
	[ "$fails" -eq 0 ] || exit 1
	echo "SKIP: systemd-analyze is not installed (shell checks passed)"
	exit 77
fi
for u in targrey-milter.service targrey-milter@.service; do
	sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/targrey-milter |\1$b/src/targrey-milter |" \
	    "$b/contrib/$u" > "$t/$u"
	grep -q "^ExecStart=$b/src/targrey-milter " "$t/$u" || fail "$u: no ExecStart running targrey-milter"
	grep -q '^RestrictAddressFamilies=.*AF_NETLINK' "$t/$u" || fail "$u: AF_NETLINK not allowed (the tarpit probe needs it)"
	grep -q '^PrivateNetwork=yes' "$t/$u" && fail "$u: PrivateNetwork hides smtpd's sockets from the probe"
done
for u in targrey-milter.service targrey-milter@test.service; do
	out=$(cd "$t" && systemd-analyze verify --man=no "./$u" 2>&1 | grep -F "targrey-milter")
	if [ -n "$out" ]; then
		fail "systemd-analyze verify $u:"
		echo "$out"
	else
		echo "ok: systemd-analyze verify $u"
	fi
done

[ "$fails" -eq 0 ] || exit 1

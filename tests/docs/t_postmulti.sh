#!/bin/sh
# NAME
#	t_postmulti.sh - contrib/targrey-postmulti against a real postmulti
# DESCRIPTION
#	postmulti(1) always takes /etc/postfix as the primary instance (it
#	has no -c and refuses a non-default MAIL_CONFIG). So the test enters
#	a private mount namespace (unshare -m, needs root) and bind-mounts a
#	copy of /etc/postfix over /etc/postfix there: the real one is never
#	written. In that copy it runs "postmulti -e init", creates two
#	instances postfix-a and postfix-b with their config, queue and data
#	directories under a temp dir, and checks enable, disable and status.
#	A checksum of every file in the real /etc/postfix is compared before and
#	after.
# DIAGNOSTICS
#	Exit 0 when every check passes, 1 with "got X, want Y" lines when
#	one fails, 77 (skipped) when not root or unshare/postmulti is missing.
set -u

srcdir=${TG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tool=$srcdir/contrib/targrey-postmulti

if [ "${1:-}" != inner ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v postmulti >/dev/null; then
		echo "SKIP: needs root, unshare(1) and postmulti(1)"
		exit 77
	fi
	. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
	before=$(etc_postfix_sum)
	unshare -m --propagation private sh "$0" inner
	rc=$?
	after=$(etc_postfix_sum)
	if [ "$before" != "$after" ]; then
		echo "FAIL: the real /etc/postfix changed"
		exit 1
	fi
	exit $rc
fi

. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d /tmp/tg-postmulti.XXXXXX) || exit 1
trap 'umount /etc/postfix 2>/dev/null; rm -rf "$t"' EXIT

get() { postmulti -i "$1" -x postconf -xh "$2" | tr '\n' ' ' | sed 's/ *$//'; }
raw() { postmulti -i "$1" -x postconf -h "$2" | tr '\n' ' ' | sed 's/ *$//'; }
getn() { postmulti -i "$1" -x postconf -n "$2" 2>/dev/null; }

private_etc_postfix "$t/etc" || exit 1
postmulti -e init || exit 1
for i in a b; do
	postmulti -I "postfix-$i" -e create config_directory="$t/$i" \
	    queue_directory="$t/q$i" data_directory="$t/d$i" || exit 1
done
other='inet:127.0.0.1:9999, { unix:/run/other.sock, default_action = tempfail }'
postmulti -i postfix-a -x postconf -e "smtpd_milters = $other"
postmulti -i postfix-b -x postconf -e "milter_default_action = tempfail"

sh "$tool" enable postfix-a > "$t/out" 2>&1
check "enable a: exit" "$?" 0
check "enable a: a's milters" "$(get postfix-a smtpd_milters)" "$other, inet:localhost:8891"
check "enable a: a's default action" "$(getn postfix-a milter_default_action)" "milter_default_action = accept"
check "enable a: a's milters as written" "$(raw postfix-a smtpd_milters)" "$other, \$targrey_milter"
check "enable a: the recorded socket" "$(getn postfix-a targrey_milter)" "targrey_milter = inet:localhost:8891"
check "enable a: b's milters" "$(get postfix-b smtpd_milters)" ""
check "enable a: primary's milters" "$(get - smtpd_milters)" ""

sh "$tool" enable postfix-a > "$t/out" 2>&1
check "enable a twice: a's milters" "$(get postfix-a smtpd_milters)" "$other, inet:localhost:8891"

sh "$tool" status > "$t/status" 2>&1
check "status: lines" "$(cut -f1,2 "$t/status" | tr '\t\n' ': ')" "-:disabled postfix-a:enabled postfix-b:disabled "
check "status: a's value" "$(grep '^postfix-a' "$t/status" | cut -f3)" "smtpd_milters = $other, inet:localhost:8891"
sh "$tool" status postfix-a > /dev/null
check "status a: exit" "$?" 0
sh "$tool" status postfix-b > /dev/null
check "status b: exit" "$?" 1
sh "$tool" status postfix-nonesuch > /dev/null 2>&1
check "status of a missing instance: exit" "$?" 1

sh "$tool" enable postfix-b unix:/run/tg.sock > "$t/out" 2>&1
check "enable b with a socket: b's milters" "$(get postfix-b smtpd_milters)" "unix:/run/tg.sock"
check "enable b: b's default action kept" "$(getn postfix-b milter_default_action)" "milter_default_action = tempfail"
check "enable b: a's milters unchanged" "$(get postfix-a smtpd_milters)" "$other, inet:localhost:8891"
sh "$tool" -s unix:/run/tg.sock status postfix-b > /dev/null
check "status -s b: exit" "$?" 0

sh "$tool" disable postfix-b unix:/run/tg.sock > "$t/out" 2>&1
check "disable b: exit" "$?" 0
check "disable b: b's setting removed" "$(getn postfix-b smtpd_milters)" ""

sh "$tool" disable postfix-a > "$t/out" 2>&1
check "disable a: exit" "$?" 0
check "disable a: other milters kept" "$(get postfix-a smtpd_milters)" "$other"
check "disable a: default action left" "$(getn postfix-a milter_default_action)" "milter_default_action = accept"
sh "$tool" status > "$t/status" 2>&1
check "status after disable" "$(cut -f1,2 "$t/status" | tr '\t\n' ': ')" "-:disabled postfix-a:disabled postfix-b:disabled "

# Enabled on another socket, status and disable find it without being told.
sh "$tool" enable postfix-b inet:localhost:8892 > "$t/out" 2>&1
check "enable b on 8892: b's milters" "$(get postfix-b smtpd_milters)" "inet:localhost:8892"
sh "$tool" status postfix-b > "$t/status"
check "status b (8892, no -s): exit" "$?" 0
check "status b (8892, no -s): line" "$(cut -f2,3 "$t/status")" "enabled	smtpd_milters = inet:localhost:8892"
sh "$tool" disable postfix-b > "$t/out" 2>&1
check "disable b (8892, no socket): exit" "$?" 0
check "disable b (8892, no socket): b's milters" "$(getn postfix-b smtpd_milters)" ""
check "disable b: the recorded socket removed" "$(getn postfix-b targrey_milter)" ""

# An entry written literally (as older versions did) is still found.
postmulti -i postfix-a -x postconf -e "smtpd_milters = $other, inet:localhost:8891"
sh "$tool" status postfix-a > /dev/null
check "status a (literal entry): exit" "$?" 0
sh "$tool" disable postfix-a > "$t/out" 2>&1
check "disable a (literal entry): other milters kept" "$(get postfix-a smtpd_milters)" "$other"

sh "$tool" enable > /dev/null 2>&1
check "enable without an instance: exit" "$?" 2

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
exit 0

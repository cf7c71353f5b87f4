# testlib.sh - the shared helpers of the shell tests in tests/docs
#
# Source it: . "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
# It sets fails=0 and defines:
#   fail MESSAGE...       print "FAIL: MESSAGE" and count a failure
#   check WHAT GOT WANT   print "ok: WHAT" when GOT equals WANT, else fail
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

check() {
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# etc_postfix_sum: one checksum over every file in /etc/postfix (names
# and contents), so that a test can prove it left the real one alone
# whether or not it has a main.cf.
etc_postfix_sum() {
	(cd /etc/postfix && find . -type f -print0 | sort -z | xargs -0 cksum) | cksum
}

# private_etc_postfix DIR: copy /etc/postfix to DIR and bind-mount the
# copy over /etc/postfix (call it inside "unshare -m"). Debian's postfix
# installed with "No configuration", as the quick start does, has no
# main.cf: the copy then gets one that only sets compatibility_level to
# this Postfix's version (main.cf.proto makes "postmulti -e init" fail).
private_etc_postfix() {
	mkdir "$1" && cp -a /etc/postfix/. "$1/" || return 1
	[ -f "$1/main.cf" ] || printf 'compatibility_level = %s\n' \
	    "$(postconf -d -h mail_version | cut -d. -f1,2)" > "$1/main.cf" || return 1
	mount --bind "$1" /etc/postfix
}

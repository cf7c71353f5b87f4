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

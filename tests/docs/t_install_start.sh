#!/bin/sh
# NAME
#	t_install_start.sh - a hand install ("make install") starts on its
#	defaults and stops cleanly
# DESCRIPTION
#	Installs into a temp DESTDIR, then, in a private mount namespace
#	(unshare -m) where that tree is bind-mounted over $(prefix), starts
#	the installed daemon as an administrator would after "make install":
#	no -f, no configuration given (the installed one), the installed
#	state directory handed to the daemon's account as the install
#	message says. Overridden, as little as possible: the socket (a free
#	loopback port) and user/group (nobody: the targrey account may not
#	exist). Asserted: the start exits 0; the pid directory, which
#	nothing created before, exists root-owned 0755 with the pid file of
#	a running daemon that listens on the port; SIGTERM stops it within
#	20 s and the pid file is gone. Before the fix the start failed:
#	"cannot write pid file ...: No such file or directory".
#	Needs root (mount namespace); $(prefix) must be a directory of its
#	own holding sysconfdir, localstatedir and runstatedir (the default
#	/usr/local does).
# DIAGNOSTICS
#	Exit 0 when all holds, 1 with "got X, want Y" lines.
set -u

b=${TG_BUILDDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-instart.XXXXXX") || exit 1
chmod 755 "$t"
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# Where the installed daemon looks by default: its own -d output.
default() { "$b/src/targrey-milter" -d | sed -n "s/^$1 = //p"; }
prefix=$(sed -n 's/^prefix = //p' "$b/Makefile")
pidfile=$(default pid_file)
state=$(default state_directory)
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (mount namespace)"; exit 1; }
case "$prefix" in
/|/usr|/usr/|'') echo "FAIL: prefix $prefix: cannot bind-mount a test tree over it"; exit 1 ;;
esac
case "$pidfile/$state/" in
"$prefix"/*"$prefix"/*) ;;
*) echo "FAIL: pid_file $pidfile or state_directory $state outside prefix $prefix"; exit 1 ;;
esac

${MAKE:-make} -s -C "$b" install DESTDIR="$t/root" >"$t/install.out" 2>&1 \
    || { cat "$t/install.out"; echo "FAIL: make install"; exit 1; }
test -d "$t/root$(dirname "$pidfile")" && fail "make install made the pid directory: the test proves nothing"
user=nobody group=$(id -gn nobody)
chown "$user:$group" "$t/root$state"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
    sh "$t/root$prefix" "$prefix" "$prefix/sbin/targrey-milter" \
    -p "inet:$port@127.0.0.1" -o user="$user" -o group="$group" >"$t/out" 2>&1
check "start of the installed daemon: exit" "$?" 0
i=0
while [ $i -lt 100 ] && ! [ -s "$t/root$pidfile" ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$t/root$pidfile" 2>/dev/null)
check "pid file holds a running process" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
check "pid directory owner and mode" "$(stat -c '%U %a' "$t/root$(dirname "$pidfile")" 2>&1)" "root 755"
listening=$(python3 -c 'import socket, sys, time
for i in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close(); print("yes"); break
    except OSError:
        time.sleep(0.1)
else:
    print("no")' "$port")
check "milter port accepts connections" "$listening" yes
[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
i=0
while [ $i -lt 200 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
check "stopped within 20 s" "$(kill -0 "$pid" 2>/dev/null && echo no || echo yes)" yes
i=0
while [ $i -lt 100 ] && [ -e "$t/root$pidfile" ]; do sleep 0.1; i=$((i + 1)); done
check "pid file removed at stop" "$(test -e "$t/root$pidfile" && echo no || echo yes)" yes
pid=

[ "$fails" -eq 0 ] || { cat "$t/out"; echo "$fails check(s) failed"; exit 1; }
echo "the hand-installed daemon starts on its defaults and stops cleanly"

#!/bin/sh
# NAME
#	t_initscript.sh - the SysV init script starts, reloads, reports and
#	stops the real daemon
# DESCRIPTION
#	Writes a configuration in a temp dir (milter on a free loopback port,
#	state and pid file in the temp dir; as root the daemon switches to
#	nobody) and drives contrib/targrey-milter.init through
#	$TARGREY_MILTER_DEFAULTS: start, status, a TCP connect to the milter
#	port, reload (SIGHUP, daemon still running, same pid), a reload with
#	a broken configuration (refused, daemon still running), stop, status.
#	The daemon runs with the descriptor limit of the systemd unit
#	(65536, or the hard limit when that cannot be raised); the pid
#	directory is root's 0755 (as root), and one that an older script had
#	given to the daemon's user is given back to root; the pid file is
#	gone after stop.
# DIAGNOSTICS
#	Exit 0 when every step behaves, 1 with "got X, want Y" lines.
set -u

b=${TG_BUILDDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-init.XXXXXX") || exit 1
chmod 755 "$t"
init=$b/contrib/targrey-milter.init
export TARGREY_MILTER_DEFAULTS="$t/defaults"

cleanup() {
	pid=$(cat "$t/run/targrey-milter.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" = 0 ]; then
	user=nobody group=$(id -gn nobody)
else
	user=$(id -un) group=$(id -gn)
fi
cat > "$t/targrey-milter.conf" <<CONF
milter_socket = inet:$port@127.0.0.1
state_directory = $t/state
user = $user
group = $group
syslog_facility = local7
CONF
cat > "$t/defaults" <<DEF
DAEMON=$b/src/targrey-milter
CONFIG=$t/targrey-milter.conf
PIDFILE=$t/run/targrey-milter.pid
STOP_TIMEOUT=20
DEF

connects() {
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); print("yes")
except OSError:
    print("no")' "$port"
}

sh "$init" status > /dev/null
check "status before start" "$?" 3
sh "$init" start > "$t/out" 2>&1
check "start: exit" "$?" 0
pid=$(cat "$t/run/targrey-milter.pid" 2>/dev/null)
check "start: pid file holds a running process" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
check "start: milter port accepts connections" "$(connects)" yes
check "start: state directory owner" "$(stat -c %U "$t/state")" "$user"
soft=$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "/proc/$pid/limits" 2>/dev/null)
want=65536	# or the hard limit where even root may not raise it (containers)
(ulimit -n 65536) 2>/dev/null || want=$(ulimit -H -n)
check "start: descriptor limit of the daemon" "$soft" "$want"
if [ "$(id -u)" = 0 ]; then
	check "start: pid directory owner and mode" "$(stat -c '%U %a' "$t/run")" "root 755"
fi
sh "$init" status > /dev/null
check "status while running" "$?" 0
sh "$init" start > /dev/null 2>&1
check "second start: same pid" "$(cat "$t/run/targrey-milter.pid")" "$pid"

sh "$init" reload > "$t/out" 2>&1
check "reload: exit" "$?" 0
sleep 1
check "reload: same process still running" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
echo "tarpit_delay = soon" >> "$t/targrey-milter.conf"
sh "$init" reload > "$t/out" 2>&1
check "reload with a broken configuration: exit" "$?" 1
check "reload with a broken configuration: still running" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
sed -i '/^tarpit_delay/d' "$t/targrey-milter.conf"

sh "$init" stop > "$t/out" 2>&1
check "stop: exit" "$?" 0
check "stop: process gone" "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" no
check "stop: port closed" "$(connects)" no
sh "$init" status > /dev/null
check "status after stop" "$?" 3
check "stop: pid file removed" "$(test -e "$t/run/targrey-milter.pid" && echo yes || echo no)" no

if [ "$(id -u)" = 0 ]; then
	# An older script gave the pid directory to the daemon's user.
	chown "$user:$group" "$t/run"
	sh "$init" start > "$t/out" 2>&1
	check "start with a user-owned pid directory: exit" "$?" 0
	check "start with a user-owned pid directory: given back" "$(stat -c '%U %a' "$t/run")" "root 755"
	sh "$init" stop > /dev/null 2>&1
fi

[ "$fails" -eq 0 ] || { cat "$t/out"; echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"

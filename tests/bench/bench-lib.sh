# bench-lib.sh - shell helpers for the load driver tests and benchmarks
#
# Source it. Needs TG_BUILDDIR (set by `make check` / `make bench`).
# bl_free_port            print a free loopback TCP port (bound to 0, released)
# bl_start_null ARGS...   start tests/bench/nullmilter ARGS, wait for its pid
#                         file, set BL_PID; every started pid is killed by
#                         bl_cleanup (installed as an EXIT trap by bl_init)
# bl_start_epoll ARGS...  the same for tests/bench/epollnull
# bl_init                 make BL_TMP (a private temp dir) and the trap

BL_PIDS=""

bl_init() {
	BL_TMP=$(mktemp -d /tmp/tg-bench.XXXXXX) || exit 99
	trap bl_cleanup EXIT
	trap 'exit 1' INT TERM
}

bl_cleanup() {
	for p in $BL_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $BL_PIDS; do
		wait "$p" 2>/dev/null
	done
	BL_PIDS=""
	test -n "$BL_TMP" && rm -rf "$BL_TMP"
}

bl_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bl_start_null() {
	bl_start_prog nullmilter "$@"
}

bl_start_epoll() {
	bl_start_prog epollnull "$@"
}

# bl_start_prog NAME ARGS...: start tests/bench/NAME -p PIDFILE ARGS
bl_start_prog() {
	_prog=$1
	shift
	rm -f "$BL_TMP/null.pid"
	"$TG_BUILDDIR/tests/bench/$_prog" -p "$BL_TMP/null.pid" "$@" &
	BL_PID=$!
	BL_PIDS="$BL_PIDS $BL_PID"
	for _i in $(seq 1 100); do
		test -s "$BL_TMP/null.pid" && return 0
		kill -0 "$BL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "$_prog $* did not start" >&2
	return 1
}

# bl_stop PID: stop one process started here
bl_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	BL_PIDS=$(echo "$BL_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

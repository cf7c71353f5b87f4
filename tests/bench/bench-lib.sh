# bench-lib.sh - shell helpers for the load driver tests and benchmarks
#
# Source it. Needs TG_BUILDDIR (set by `make check` / `make bench`).
# bl_free_port            print a free loopback TCP port (bound to 0, released)
# bl_start_null ARGS...   start tests/bench/nullmilter ARGS, wait for its pid
#                         file, set BL_PID; every started pid is killed by
#                         bl_cleanup (installed as an EXIT trap by bl_init)
# bl_start_epoll ARGS...  the same for tests/bench/epollnull
# bl_init                 make BL_TMP (a private temp dir) and the trap
# bl_stop PID             stop one process started here
# Reading milterload's output and recording figures (bench-note.sh):
# bl_note AREA FIGURE VALUE UNIT   record one figure
# bl_col FILE KIND STAGE FIELD     a field of a latency row (4 = p50,
#                                  5 = p99, 7 = max)
# bl_rate FILE                     sessions/s
# bl_proc FILE                     "cpu-per-1000 vmhwm-kB peak-threads"
# bl_note_run AREA LABEL FILE      record sessions/s, reply p50/p99 per
#                                  stage and the milter's CPU, VmHWM, threads
# bl_load                          "1-min 5-min 15-min" load average

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

bl_note() { $SHELL "$TG_SRCDIR/tests/bench/bench-note.sh" "$1" "$2" "$3" "$4"; }

bl_col() { awk -v k="$2" -v s="$3" -v f="$4" '$1 == k && $2 == s { print $f }' "$1"; }

bl_rate() { awk '$1 == "sessions" && $NF == "sessions/s" { print $(NF - 1) }' "$1"; }

bl_proc() { sed -n 's/.* s, \([0-9.]*\) cpu s per 1000 sessions, VmHWM \([0-9]*\) kB.*peak \([0-9]*\)$/\1 \2 \3/p' "$1"; }

bl_load() { cut -d' ' -f1-3 /proc/loadavg; }

bl_note_run() {
	bl_note "$1" "$2 sessions/s (c=20)" "$(bl_rate "$3")" "sessions/s"
	for _st in connect helo mail rcpt data eom; do
		if test -n "$(bl_col "$3" reply $_st 4)"; then
			bl_note "$1" "$2 $_st reply p50/p99" \
			    "$(bl_col "$3" reply $_st 4)/$(bl_col "$3" reply $_st 5)" ms
		else
			bl_note "$1" "$2 $_st reply p50/p99" "-" "(no reply asked)"
		fi
	done
	set -- "$1" "$2" $(bl_proc "$3")
	bl_note "$1" "$2 milter cpu per 1000 sessions" "${3:-n/a}" "cpu s"
	bl_note "$1" "$2 milter VmHWM" "${4:-n/a}" kB
	bl_note "$1" "$2 milter peak threads" "${5:-n/a}" threads
}

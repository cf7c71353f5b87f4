#!/bin/sh
# bench-milterload.sh - figures of the milter path measured with milterload:
#   - the libmilter null milter (the floor any libmilter milter starts from):
#     sessions/s and per-stage latency with 20 concurrent sessions;
#   - one message at a time over TCP without and with TCP_NODELAY on the
#     milter's listening socket, and over a unix socket (Nagle + delayed ACK);
#   - the same against src/targrey-milter (default configuration, socket on
#     a free port, state under a temp dir, trusted_networks empty), when it
#     runs.
# Prints figures and records them with bench-note.sh; never fails on time.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
ML="$TG_BUILDDIR/tests/bench/milterload"
DUR=${BENCH_DURATION:-8}

note() { $SHELL "$TG_SRCDIR/tests/bench/bench-note.sh" "$1" "$2" "$3" "$4"; }

# col FILE KIND STAGE FIELD: a field of a latency row (4 = p50, 5 = p99, 7 = max)
col() { awk -v k="$2" -v s="$3" -v f="$4" '$1 == k && $2 == s { print $f }' "$1"; }

# rate FILE: sessions/s
rate() { awk '$1 == "sessions" && $NF == "sessions/s" { print $(NF - 1) }' "$1"; }

# proc FILE: "cpu-per-1000 vmhwm-kB peak-threads"
proc() { sed -n 's/.* s, \([0-9.]*\) cpu s per 1000 sessions, VmHWM \([0-9]*\) kB.*peak \([0-9]*\)$/\1 \2 \3/p' "$1"; }

# load AREA LABEL SOCKET PID: 20 concurrent clean sessions for DUR seconds
load() {
	out="$BL_TMP/$2.out"
	"$ML" -s "$3" -c 20 -d "$DUR" -p "$4" -a 127.0.0.2-127.0.0.200 \
	    -N "mail%n.example.com" >"$out" 2>&1
	echo "-- $1 $2: 20 concurrent sessions for $DUR s"; cat "$out"
	note "$1" "$2 sessions/s (c=20)" "$(rate "$out")" "sessions/s"
	for st in connect helo mail rcpt data eom; do
		note "$1" "$2 $st reply p50/p99" \
		    "$(col "$out" reply $st 4)/$(col "$out" reply $st 5)" ms
	done
	note "$1" "$2 take-wait p99/max (rcpt)" \
	    "$(col "$out" take rcpt 5)/$(col "$out" take rcpt 7)" ms
	set -- "$1" "$2" $(proc "$out")
	note "$1" "$2 milter cpu per 1000 sessions" "${3:-n/a}" "cpu s"
	note "$1" "$2 milter VmHWM" "${4:-n/a}" kB
	note "$1" "$2 milter peak threads" "${5:-n/a}" threads
}

# one AREA LABEL SOCKET: one message at a time
one() {
	out="$BL_TMP/$2.out"
	"$ML" -s "$3" -c 1 -n 40 >"$out" 2>&1
	echo "-- $1 $2: one session at a time"; cat "$out"
	note "$1" "one-at-a-time $2 eom p50/max" \
	    "$(col "$out" reply eom 4)/$(col "$out" reply eom 7)" ms
	note "$1" "one-at-a-time $2 session p50" "$(col "$out" reply session 4)" ms
}

# The null milter.
port=$(bl_free_port)
bl_start_null -n -s "inet:$port@127.0.0.1" && {
	load null-milter tcp-nodelay "inet:$port@127.0.0.1" "$BL_PID"
	one null-milter tcp-nodelay "inet:$port@127.0.0.1"
	bl_stop "$BL_PID"
}
port=$(bl_free_port)
bl_start_null -s "inet:$port@127.0.0.1" && {
	one null-milter tcp-plain "inet:$port@127.0.0.1"
	bl_stop "$BL_PID"
}
bl_start_null -s "unix:$BL_TMP/null.sock" && {
	one null-milter unix "unix:$BL_TMP/null.sock"
	bl_stop "$BL_PID"
}

# targrey-milter itself.
. "$TG_SRCDIR/tests/bench/bench-daemon.sh"
port=$(bl_free_port)
if bd_start_daemon "inet:$port@127.0.0.1"; then
	load targrey-milter tcp "inet:$port@127.0.0.1" "$BD_PID"
	one targrey-milter tcp "inet:$port@127.0.0.1"
	bl_stop "$BD_PID"
	if bd_start_daemon "unix:$BL_TMP/tg.sock"; then
		one targrey-milter unix "unix:$BL_TMP/tg.sock"
		bl_stop "$BD_PID"
	fi
else
	note targrey-milter "(daemon did not start: see output)" - -
fi
exit 0

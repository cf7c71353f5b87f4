#!/bin/sh
# bench-milterload.sh - figures of the milter path measured with milterload:
#   - the libmilter null milter (the floor any libmilter milter starts from):
#     sessions/s and per-stage latency with 20 concurrent sessions; the same
#     answers from epollnull (one epoll thread, no libmilter) beside it;
#   - one message at a time over TCP without and with TCP_NODELAY on the
#     milter's listening socket, and over a unix socket (Nagle + delayed ACK);
#   - a burst of 200 sessions the milter holds 8 s at RCPT while clean
#     sessions arrive: how long clean sessions wait for a libmilter worker;
#   - the same against src/targrey-milter (default configuration, socket on
#     a free port, state under a temp dir, trusted_networks empty), when it
#     runs.
# Prints figures and records them with bench-note.sh; never fails on time.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
ML="$TG_BUILDDIR/tests/bench/milterload"
DUR=${BENCH_DURATION:-8}

# load AREA LABEL SOCKET PID: 20 concurrent clean sessions for DUR seconds
# (client names per driver thread: "mail%n" turns S25R-suspicious from
# session 10000 on, rule 2, and "[ADDR]" is rule 0: targrey-milter would
# tarpit them for tarpit_delay)
load() {
	out="$BL_TMP/$2.out"
	"$ML" -s "$3" -c 20 -d "$DUR" -p "$4" -a 127.0.0.2-127.0.0.200 \
	    -N "mail%t.example.com" >"$out" 2>&1
	echo "-- $1 $2: 20 concurrent sessions for $DUR s (load $(bl_load))"
	cat "$out"
	bl_note_run "$1" "$2" "$out"
	bl_note "$1" "$2 driver cpu per 1000 sessions" \
	    "$(awk '$1 == "driver" { print $5 }' "$out")" "cpu s"
	bl_note "$1" "$2 take-wait p99/max (rcpt)" \
	    "$(bl_col "$out" take rcpt 5)/$(bl_col "$out" take rcpt 7)" ms
}

# rated AREA LABEL SOCKET: 200 sessions/s for DUR seconds (up to 8 at once),
# a load the machine carries without queueing: the latency a stage adds
rated() {
	out="$BL_TMP/$2-rated.out"
	"$ML" -s "$3" -c 8 -r 200 -d "$DUR" -a 127.0.0.2-127.0.0.200 \
	    -N "mail%t.example.com" >"$out" 2>&1
	echo "-- $1 $2: 200 sessions/s for $DUR s"; cat "$out"
	for st in connect mail rcpt eom; do
		bl_note "$1" "$2 at 200/s: $st reply p50/p99" \
		    "$(bl_col "$out" reply $st 4)/$(bl_col "$out" reply $st 5)" ms
	done
}

# one AREA LABEL SOCKET: one message at a time
one() {
	out="$BL_TMP/$2.out"
	"$ML" -s "$3" -c 1 -n 40 -N "mail%t.example.com" >"$out" 2>&1
	echo "-- $1 $2: one session at a time"; cat "$out"
	bl_note "$1" "one-at-a-time $2 eom p50/max" \
	    "$(bl_col "$out" reply eom 4)/$(bl_col "$out" reply eom 7)" ms
	bl_note "$1" "one-at-a-time $2 session p50" "$(bl_col "$out" reply session 4)" ms
}

# takemax FILE: the largest "take" max over all stages, in ms
takemax() { awk '$1 == "take" && $7 > m { m = $7 } END { print m + 0 }' "$1"; }

# burst AREA SOCKET PID: 200 sessions whose RCPT is held 8 s (client names
# containing "dyn") opened at once, while clean sessions arrive at 20/s
# (the libmilter worker-pool scenario of issue 5)
burst() {
	"$ML" -s "$2" -c 200 -n 200 -a 127.0.1.1-127.0.1.200 -p "$3" \
	    -N "p%n.dyn.example.jp" >"$BL_TMP/burst-held.out" 2>&1 &
	held=$!
	"$ML" -s "$2" -c 4 -r 20 -d 10 -a 127.0.2.1-127.0.2.100 \
	    -N "mail%n.example.com" >"$BL_TMP/burst-clean.out" 2>&1
	wait "$held"
	echo "-- $1 burst: 200 held sessions"; cat "$BL_TMP/burst-held.out"
	echo "-- $1 burst: clean sessions at 20/s"; cat "$BL_TMP/burst-clean.out"
	bl_note "$1" "burst: clean sessions take-wait max (any stage)" \
	    "$(takemax "$BL_TMP/burst-clean.out")" ms
	bl_note "$1" "burst: clean sessions optneg take p99" \
	    "$(bl_col "$BL_TMP/burst-clean.out" take optneg 5)" ms
	bl_note "$1" "burst: held sessions take-wait max (any stage)" \
	    "$(takemax "$BL_TMP/burst-held.out")" ms
	bl_note "$1" "burst: held sessions completed" \
	    "$(awk '$1 == "completed" { print $2 "/200" }' "$BL_TMP/burst-held.out")" sessions
	set -- "$1" $(bl_proc "$BL_TMP/burst-held.out")
	bl_note "$1" "burst: milter peak threads" "${4:-n/a}" threads
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
# The same answers from one epoll thread without libmilter: the part of the
# null milter's cost that is libmilter's engine, not the protocol.
port=$(bl_free_port)
bl_start_epoll -s "inet:$port@127.0.0.1" && {
	load epoll-null tcp "inet:$port@127.0.0.1" "$BL_PID"
	bl_stop "$BL_PID"
}
port=$(bl_free_port)
bl_start_null -n -r 8000 -m dyn -s "inet:$port@127.0.0.1" && {
	burst null-milter "inet:$port@127.0.0.1" "$BL_PID"
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
	rated targrey-milter tcp "inet:$port@127.0.0.1"
	one targrey-milter tcp "inet:$port@127.0.0.1"
	bl_stop "$BD_PID"
	if bd_start_daemon "unix:$BL_TMP/tg.sock"; then
		one targrey-milter unix "unix:$BL_TMP/tg.sock"
		bl_stop "$BD_PID"
	fi
else
	bl_note targrey-milter "(daemon did not start: see output)" - -
fi
exit 0

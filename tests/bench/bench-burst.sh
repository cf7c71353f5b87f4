#!/bin/sh
# NAME
#	bench-burst.sh - idle wake-ups, and 2,000 tarpits opened at once,
#	against src/targrey-milter (issue 17)
# DESCRIPTION
#	Starts the daemon (bench-daemon.sh: defaults, trusted_networks empty)
#	with an nsd that knows no name (every reverse lookup is "no name":
#	S25R rule 0, so every client without a -N name is tarpitted),
#	tarpit_max_sessions above the burst, and:
#	- idle: context switches of all its threads over BENCH_IDLE_SECONDS
#	  (5) while nothing happens, per second ("wake-ups/s");
#	- burst: BENCH_BURST_SESSIONS (2000) sessions opened at once, each
#	  tarpitted at its first RCPT and hanging up 3 s into it (the tarpit's
#	  probe must notice), while clean sessions (S25R-clean names) arrive
#	  at 20/s. Figures: the longest the milter took to read any command
#	  outside a tarpit ("take", both drivers, the connect included in
#	  optneg), option negotiation p50, hang-up seen (client FIN to the
#	  RCPT reply) p50/p99, handoff failures (the daemon's "no spare
#	  libmilter worker confirmed" warnings), the milter's CPU, VmHWM and
#	  peak threads, and the kernel's listen-queue overflows meanwhile.
#	- yardstick: the same N sessions at once against epollnull -r 3000
#	  (no libmilter, one epoll thread, RCPT held 3 s): optneg take
#	  p50/p99/max and the longest take from connect to RCPT. On a shared
#	  2-core machine the driver's N threads and the kernel alone make
#	  connecting and the first commands take hundreds of ms there too.
#	Goal (issue 17): no handoff failure, no take over 100 ms, hang-up
#	seen p99 <= 400 ms. Printed, never asserted.
# DIAGNOSTICS
#	Exits 0 unless its own tools fail; a daemon or nsd that does not
#	start is noted in the table.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
. "$TG_SRCDIR/tests/bench/bench-daemon.sh"
ML="$TG_BUILDDIR/tests/bench/milterload"
N=${BENCH_BURST_SESSIONS:-2000}
IDLE=${BENCH_IDLE_SECONDS:-5}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

# switches PID: voluntary + involuntary context switches of all its threads
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'
}

# overflows: the kernel's listen-queue overflow counter (all sockets)
overflows() {
	awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1; next }
	    $1 == "TcpExt:" && h { print $c + 0 }' /proc/net/netstat
}

# takemax FILE: the largest "take" max over all stages, in ms
takemax() { awk '$1 == "take" && $7 > m { m = $7 } END { print m + 0 }' "$1"; }

# after FILE COL: a column of the "after" row (hang-up to RCPT reply)
after() { awk -v c="$2" '$1 == "after" { print $c }' "$1"; }

bd_start_dns "$BL_TMP/dns" </dev/null || {
	bl_note burst "(nsd did not start)" - -; exit 0; }
port=$(bl_free_port)
sock="inet:$port@127.0.0.1"
bd_start_daemon "$sock" "dns_servers = $BD_DNS
tarpit_max_sessions = $((N + 100))
tarpit_delay = 60s
log_level = 0" || { bl_note burst "(daemon did not start)" - -; exit 0; }

sleep 1
a=$(switches "$BD_PID"); sleep "$IDLE"; b=$(switches "$BD_PID")
idle=$(awk -v a="$a" -v b="$b" -v s="$IDLE" 'BEGIN { printf "%.1f", (b - a) / s }')
echo "-- idle: $(ls /proc/"$BD_PID"/task | wc -l) threads, $idle wake-ups/s over $IDLE s"
bl_note targrey-milter "idle wake-ups" "$idle" "per s"

o0=$(overflows)
"$ML" -s "$sock" -c "$N" -n "$N" -a 127.0.1.1-127.0.8.254 -p "$BD_PID" \
    -B disconnect:3 -T 90 >"$BL_TMP/held.out" 2>&1 &
held=$!
"$ML" -s "$sock" -c 4 -r 20 -d 8 -a 127.0.9.1-127.0.9.100 \
    -N "mail%n.example.com" >"$BL_TMP/clean.out" 2>&1
wait "$held"
o1=$(overflows)
fails=$(grep -c "no spare libmilter worker" "$BD_LOG")
echo "-- burst: $N tarpitted sessions at once, hanging up 3 s into RCPT (load $(bl_load))"
cat "$BL_TMP/held.out"
echo "-- burst: clean sessions at 20/s meanwhile"; cat "$BL_TMP/clean.out"
echo "-- burst: handoff failures $fails, listen-queue overflows $((o1 - o0))"
bl_note burst "$N at once: handoff failures" "$fails" warnings
bl_note burst "$N at once: take max, held/clean (goal <= 100)" \
    "$(takemax "$BL_TMP/held.out")/$(takemax "$BL_TMP/clean.out")" ms
bl_note burst "$N at once: optneg p50 (held)" \
    "$(bl_col "$BL_TMP/held.out" take optneg 4)" ms
bl_note burst "$N at once: hang-up seen p50/p99 (goal p99 <= 400)" \
    "$(after "$BL_TMP/held.out" 4)/$(after "$BL_TMP/held.out" 5)" ms
bl_note burst "$N at once: completed" \
    "$(awk '$1 == "completed" { print $2 "/'"$N"'" }' "$BL_TMP/held.out")" sessions
set -- $(bl_proc "$BL_TMP/held.out")
bl_note burst "$N at once: milter cpu per 1000, VmHWM, peak threads" \
    "${1:-?} s/${2:-?} kB/${3:-?}" ""
bl_note burst "$N at once: listen-queue overflows" "$((o1 - o0))" ""
bl_stop "$BD_PID"

# The yardstick: the same N sessions at once, RCPT held 3 s, against
# epollnull (one epoll thread, no libmilter), with the same driver on the
# same machine: what connecting and the first commands cost without
# libmilter. Stages up to RCPT only (epollnull releases all RCPTs at once).
port=$(bl_free_port)
bl_start_epoll -s "inet:$port@127.0.0.1" -r 3000 && {
	"$ML" -s "inet:$port@127.0.0.1" -c "$N" -n "$N" -a 127.0.1.1-127.0.8.254 \
	    -T 90 >"$BL_TMP/epoll.out" 2>&1
	echo "-- burst yardstick: $N sessions at once, RCPT held 3 s, against epollnull (load $(bl_load))"
	grep -E '^(sessions|take +(optneg|connect|helo|mail|rcpt) |completed)' "$BL_TMP/epoll.out"
	e=$BL_TMP/epoll.out
	bl_note burst "$N at once, epollnull: optneg take p50/p99/max" \
	    "$(bl_col "$e" take optneg 4)/$(bl_col "$e" take optneg 5)/$(bl_col "$e" take optneg 7)" ms
	bl_note burst "$N at once, epollnull: take max connect..rcpt" \
	    "$(awk '$1 == "take" && $2 ~ /^(connect|helo|mail|rcpt)$/ && $7 > m { m = $7 } END { print m + 0 }' "$e")" ms
	bl_stop "$BL_PID"
}
exit 0

#!/bin/sh
# t_milterload_smoke.sh - the load driver completes its sessions against the
# libmilter null milter with the replies it must get (no timing asserts).
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
ML="$TG_BUILDDIR/tests/bench/milterload"
fails=0

# check NAME OUTPUT-FILE PATTERN: the output holds the pattern (a fixed line)
check() {
	if grep -qxF -- "$3" "$2"; then
		echo "ok: $1"
	else
		echo "FAIL: $1: got:"; sed 's/^/    /' "$2"; echo "  want line: $3"
		fails=$((fails + 1))
	fi
}

# checkrc NAME GOT WANT
checkrc() {
	if test "$2" -eq "$3"; then echo "ok: $1 exit $2"
	else echo "FAIL: $1: got exit $2, want $3"; fails=$((fails + 1)); fi
}

# sessions200 LABEL: 200 sessions over TCP to $port: every stage continues,
# EOM adds one header.
sessions200() {
	"$ML" -s "inet:$port@127.0.0.1" -c 10 -n 200 -a 127.0.0.2-127.0.0.60 \
	    -e helo=c -e rcpt=c -e eom=c >"$BL_TMP/out-$1" 2>&1
	checkrc "$1: 200 sessions" $? 0
	check "$1: all completed" "$BL_TMP/out-$1" "completed 200 failed 0 unexpected 0"
	check "$1: connect replies" "$BL_TMP/out-$1" "replies  continue=200  (connect)"
	check "$1: header replies" "$BL_TMP/out-$1" "replies  continue=1000  (header)"
	check "$1: eom replies" "$BL_TMP/out-$1" "replies  continue=200 addheader=200  (eom)"
}

# 1. The libmilter null milter, then epollnull (the same answers without
#    libmilter, the engine yardstick of bench-milterload.sh).
port=$(bl_free_port)
bl_start_epoll -s "inet:$port@127.0.0.1" || exit 1
sessions200 epollnull
bl_stop "$BL_PID"
bl_start_null -n -s "inet:$port@127.0.0.1" || exit 1
sessions200 nullmilter

# 2. An expectation that cannot hold makes the driver fail (exit 3).
"$ML" -s "inet:$port@127.0.0.1" -c 2 -n 4 -e eom=r >"$BL_TMP/out2" 2>&1
checkrc "wrong expectation" $? 3
check "counted" "$BL_TMP/out2" "count    unexpected_reply=4"
"$ML" -s "inet:$port@127.0.0.1" -c 2 -n 4 -e mail=c >"$BL_TMP/out2b" 2>&1
checkrc "expectation at MAIL" $? 0
"$ML" -s "inet:$port@127.0.0.1" -c 2 -n 4 -e "mail=550 5.7.1" >"$BL_TMP/out2c" 2>&1
checkrc "reply text expectation that cannot hold" $? 3
bl_stop "$BL_PID"

# 3. unix socket, milter asks for macros with setsymlist and tempfails the
#    connection when {daemon_port} or {client_addr} is missing.
bl_start_null -S -s "unix:$BL_TMP/null.sock" || exit 1
"$ML" -s "unix:$BL_TMP/null.sock" -c 5 -n 50 -e helo=c >"$BL_TMP/out3" 2>&1
checkrc "symlist over unix" $? 0
check "symlist connect" "$BL_TMP/out3" "replies  continue=50  (connect)"
bl_stop "$BL_PID"

# 4. A milter that holds RCPT for 1 s with progress every 200 ms: the 0.5 s
#    reply timeout is restarted by progress; the client disconnects 0.3 s
#    into the RCPT, so the driver ends each session with ABORT and QUIT.
#    One session at a time: concurrent ones would meet libmilter's worker
#    pool starvation (issue 5) and time out before OPTNEG is answered.
port=$(bl_free_port)
bl_start_null -r 1000 -s "inet:$port@127.0.0.1" || exit 1
"$ML" -s "inet:$port@127.0.0.1" -c 1 -n 3 -T 0.5 -B disconnect:0.3 \
    >"$BL_TMP/out4" 2>&1
checkrc "progress and disconnect" $? 0
check "completed" "$BL_TMP/out4" "completed 3 failed 0 unexpected 0"
check "rcpt replies" "$BL_TMP/out4" "replies  continue=3 progress=12  (rcpt)"
if awk '$1 == "after" && $2 == "action" && $3 == 3 { f = 1 } END { exit !f }' \
    "$BL_TMP/out4" \
    && awk '$1 == "take" && $2 == "rcpt" && $3 == 3 { f = 1 } END { exit !f }' \
    "$BL_TMP/out4" \
    && ! grep -q '(eom)' "$BL_TMP/out4"; then
	echo "ok: disconnect recorded, take probed, no message after it"
else
	echo "FAIL: disconnect/take rows:"; cat "$BL_TMP/out4"; fails=$((fails + 1))
fi
bl_stop "$BL_PID"

# 5. IPv6 client sockets (::1) where the host has IPv6 loopback: the
#    setsymlist milter gets {client_addr} and {daemon_port} for them too.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	bl_start_null -S -s "unix:$BL_TMP/null6.sock" || exit 1
	"$ML" -s "unix:$BL_TMP/null6.sock" -c 2 -n 10 -a ::1 -e helo=c \
	    -e eom=c >"$BL_TMP/out5" 2>&1
	checkrc "IPv6 clients" $? 0
	check "IPv6 connect" "$BL_TMP/out5" "replies  continue=10  (connect)"
	bl_stop "$BL_PID"
else
	echo "note: no IPv6 loopback here, IPv6 client check not run"
fi

echo "$fails failure(s)"
test "$fails" -eq 0

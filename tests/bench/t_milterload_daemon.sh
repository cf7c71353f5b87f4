#!/bin/sh
# t_milterload_daemon.sh - the load driver talks to src/targrey-milter
# (default configuration, trusted_networks empty): 50 sessions from clean,
# named loopback clients all complete and are accepted at RCPT and at the
# end of the message. No timing asserts.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
. "$TG_SRCDIR/tests/bench/bench-daemon.sh"
port=$(bl_free_port)
bd_start_daemon "inet:$port@127.0.0.1" || exit 1
"$TG_BUILDDIR/tests/bench/milterload" -s "inet:$port@127.0.0.1" -c 5 -n 50 \
    -a 127.0.0.2-127.0.0.30 -N "mail%n.example.com" -H "mail%n.example.com" \
    -e rcpt=c -e eom=c -p "$BD_PID" >"$BL_TMP/out" 2>&1
rc=$?
cat "$BL_TMP/out"
fails=0
if test $rc -ne 0; then
	echo "FAIL: milterload: got exit $rc, want 0"; fails=$((fails + 1))
fi
if grep -qxF "completed 50 failed 0 unexpected 0" "$BL_TMP/out"; then
	echo "ok: 50 sessions completed as expected"
else
	echo "FAIL: want line: completed 50 failed 0 unexpected 0"; fails=$((fails + 1))
fi
# the decision line may be written just after the reply: wait up to 2 s
for _i in $(seq 1 20); do
	n=$(grep -c 'action=accept' "$BL_TMP/daemon.log")
	test "$n" -ge 50 && break
	sleep 0.1
done
if test "$n" -eq 50; then
	echo "ok: daemon logged 50 accept decisions"
else
	echo "FAIL: daemon accept lines: got $n, want 50"
	sed 's/^/    /' "$BL_TMP/daemon.log" | tail -20
	fails=$((fails + 1))
fi
test $fails -eq 0

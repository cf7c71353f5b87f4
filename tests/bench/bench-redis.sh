#!/bin/sh
# bench-redis.sh - the daemon under milterload, state in LMDB and in Redis
#   Starts nsd (an SPF record for example.com, everything else NXDOMAIN) and a
#   private redis-server on loopback, then src/targrey-milter twice: with the
#   LMDB state, then with state_backend = redis. Each time milterload runs 8
#   concurrent sessions for BENCH_DURATION seconds (default 8) from
#   S25R-suspicious clients ("[ADDR]", no name) with a new sender each:
#   tarpit_max_share = 0 greylists them at once, so every session is one
#   store decision that writes a new triplet (450 at RCPT). Prints sessions/s
#   and the rcpt reply p50/p99 of both, and the difference of the p50/p99
#   (the latency Redis adds per decision), the round trips per decision on
#   Redis (calls of MGET, EVALSHA, EVAL and SCRIPT counted by the server's
#   INFO commandstats, divided by the sessions) and where the CPU went:
#   the milter, redis-server and milterload's CPU seconds during each run.
#   Figures only, never pass/fail.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
. "$TG_SRCDIR/tests/bench/bench-daemon.sh"
bl_init
ML="$TG_BUILDDIR/tests/bench/milterload"
DUR=${BENCH_DURATION:-8}

bd_start_dns "$BL_TMP/dns" <<REC || exit 1
example.com. TXT v=spf1 ip4:192.0.2.0/24 -all
REC
rport=$(bl_free_port)
mkdir -p "$BL_TMP/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$BL_TMP/redis" --save '' \
    --appendonly no --daemonize no >"$BL_TMP/redis.log" 2>&1 &
rpid=$!
BL_PIDS="$BL_PIDS $rpid"
for _i in $(seq 1 50); do
	redis-cli -p "$rport" ping >/dev/null 2>&1 && break
	sleep 0.1
done

# cpu_s PID: the CPU seconds (user + system) of a running process
cpu_s() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'
}

# calls: the commands clients sent to the Redis server so far
calls() {
	redis-cli -p "$rport" INFO commandstats | tr -d '\r' | awk -F'[:=,]' \
	    '$1 ~ /^cmdstat_(mget|evalsha|eval|script)/ { n += $3 } END { print n + 0 }'
}

# run LABEL EXTRA-CONFIG: one daemon, one milterload run
run() {
	port=$(bl_free_port)
	bd_start_daemon "inet:$port@127.0.0.1" "tarpit_max_share = 0
dns_servers = $BD_DNS
log_level = 0
$2" || return 1
	c0=$(calls) r0=$(cpu_s "$rpid")
	"$ML" -s "inet:$port@127.0.0.1" -c 8 -d "$DUR" -a 127.0.0.2-127.0.0.200 \
	    -N "[%a]" -f "s%n@example.com" -p "$BD_PID" >"$BL_TMP/$1.out" 2>&1 &
	mlpid=$! mlcpu=0
	while kill -0 "$mlpid" 2>/dev/null; do
		v=$(cpu_s "$mlpid") && test -n "$v" && mlcpu=$v
		sleep 0.2
	done
	wait "$mlpid"
	c1=$(calls) r1=$(cpu_s "$rpid")
	bl_stop "$BD_PID"
	echo "-- $1: 8 concurrent greylisted sessions for $DUR s (load $(bl_load))"
	grep -E "sessions/s|^reply +rcpt|rcpt\)|^milter" "$BL_TMP/$1.out"
	n=$(awk '$1 == "sessions" { print $2 }' "$BL_TMP/$1.out")
	awk -v a="$c0" -v b="$c1" -v n="${n:-0}" -v r="$r1" -v q="$r0" -v m="$mlcpu" 'BEGIN {
	    if (n > 0 && b > a) printf "redis    %.2f round trips per session (server-counted)\n", (b - a) / n
	    printf "cpu      redis-server %.2f s, milterload %.2f s (milter: the line above)\n", r - q, m }'
}

run lmdb "" || exit 1
run redis "state_backend = redis
redis_server = 127.0.0.1:$rport" || exit 1
for f in lmdb redis; do
	eval "${f}_p50=\$(bl_col \"\$BL_TMP/$f.out\" reply rcpt 4)"
	eval "${f}_p99=\$(bl_col \"\$BL_TMP/$f.out\" reply rcpt 5)"
	eval "${f}_rate=\$(bl_rate \"\$BL_TMP/$f.out\")"
done
echo "decisions/s: lmdb $lmdb_rate, redis $redis_rate"
added=$(awk -v a="$lmdb_p50" -v b="$redis_p50" -v c="$lmdb_p99" -v d="$redis_p99" \
    'BEGIN { printf "%.3f/%.3f", b - a, d - c }')
echo "rcpt reply p50/p99: lmdb $lmdb_p50/$lmdb_p99 ms, redis $redis_p50/$redis_p99 ms;" \
    "added by redis $added ms"
bl_note redis "daemon decisions/s, lmdb/redis (8 sessions at once)" "$lmdb_rate/$redis_rate" "1/s"
bl_note redis "rcpt reply p50/p99 on redis" "$redis_p50/$redis_p99" ms
bl_note redis "rcpt reply p50/p99 added by redis" "$added" ms
exit 0

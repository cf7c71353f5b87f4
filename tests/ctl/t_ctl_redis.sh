#!/bin/sh
# NAME
#	t_ctl_redis - targreyctl on the Redis backend, and the LMDB -> Redis migration
# DESCRIPTION
#	Starts a private redis-server on a free loopback port (own directory,
#	no persistence), imports a Postgrey dump into LMDB, dumps it and
#	loads the dump into Redis (the documented migration), then checks on
#	Redis: dump equals the LMDB dump, list, show, explain, whitelist
#	(seen by explain), stats, expire (server-side expiry), delete,
#	import-postgrey. Stops the server. Prints "got X, want Y" and exits 1
#	on the first mismatch.
set -u
ctl="${TG_BUILDDIR:-.}/src/targreyctl"
dir=$(mktemp -d /tmp/t_ctl_redis.XXXXXX) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
: > "$dir/empty.conf"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$dir/redis"
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --save '' \
	--appendonly no --daemonize no > "$dir/redis.log" 2>&1 &
pid=$!
i=0
until redis-cli -p "$port" ping > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: redis-server did not start"; exit 1; }
	sleep 0.1
done

lmdb() {
	"$ctl" -c "$dir/empty.conf" -o state_directory="$dir/state" "$@"
}
redis() {
	"$ctl" -c "$dir/empty.conf" -o state_backend=redis -o redis_server="127.0.0.1:$port" \
	    -o redis_key_prefix=mx: "$@"
}
. "${TG_SRCDIR:-.}/tests/ctl/ctllib.sh"

write_pg_dump "$dir/pg.dump"

out=$(lmdb import-postgrey "$dir/pg.dump"); want_status "lmdb import" $? 0
lmdb whitelist add 198.51.100.0/24 > /dev/null; want_status "lmdb whitelist add" $? 0
lmdb dump | sort > "$dir/dump.lmdb"; want_status "lmdb dump" $? 0

# the migration: dump from LMDB, load into Redis
out=$(redis load "$dir/dump.lmdb"); want_status "redis load" $? 0
want_output "redis load" "loaded 4 records, 0 bad lines" "$out"
redis dump | sort > "$dir/dump.redis"
cmp -s "$dir/dump.lmdb" "$dir/dump.redis" || fail "redis dump differs from the LMDB dump: $(diff "$dir/dump.lmdb" "$dir/dump.redis")"
[ "$(redis-cli -p "$port" --scan --pattern 'mx:greylist:*' | wc -l)" = 2 ] \
	|| fail "want 2 greylist keys under the prefix mx:"

out=$(redis list greylist); want_status list $? 0
want_output list "192.0.2.0/alice@example.org/bob@example.net	first=" "$out"
want_output list "retries=2 passed=1" "$out"
out=$(redis show 192.0.2.10); want_status show $? 0
want_output show "passes=3" "$out"
out=$(redis explain 192.0.2.44 '[192.0.2.44]' Alice+news@example.org bob@example.net)
want_output explain "verdict: pass_triplet (triplet_passed)" "$out"
# the whitelist entry came with the dump and applies at once
out=$(redis explain 198.51.100.1 '[198.51.100.1]' new@example.org bob@example.net)
want_output "explain whitelisted" "verdict: pass_awl (manual_whitelist)" "$out"
redis whitelist remove 198.51.100.0/24 > /dev/null; want_status "whitelist remove" $? 0
out=$(redis explain 198.51.100.1 '[198.51.100.1]' new@example.org bob@example.net)
want_output "explain not whitelisted" "verdict: tarpit (new_client)" "$out"
redis whitelist add 203.0.113.0/24 > /dev/null; want_status "whitelist add" $? 0
out=$(redis whitelist list); want_output "whitelist list" "203.0.113.0/24	added=" "$out"

out=$(redis expire); want_status expire $? 0
want_output expire "server-side expiry" "$out"
ttl=$(redis-cli -p "$port" pttl 'mx:clients:192.0.2.0')
[ "$ttl" -gt 0 ] || fail "pttl of a loaded client: got $ttl, want > 0"
out=$(redis stats); want_status stats $? 0
want_output stats "greylist         2 records" "$out"
want_output stats "redis: 127.0.0.1:$port, keys mx:*, server-side expiry" "$out"

redis delete 192.0.2.0 > /dev/null; want_status delete $? 0
redis delete 192.0.2.0 > /dev/null 2>&1; want_status "delete again" $? 1
out=$(redis -o redis_key_prefix=fresh: import-postgrey "$dir/pg.dump"); want_status "redis import" $? 0
want_output "redis import" "imported 2 triplets (1 passed) and 1 clients" "$out"

# Redis gone: a clear error, not a hang
kill "$pid"; wait "$pid" 2>/dev/null; pid=
out=$(redis -o redis_timeout=300ms list greylist 2>&1); st=$?
[ "$st" -ne 0 ] || fail "list with Redis down: got status 0, want an error"
echo "t_ctl_redis: all checks passed"
exit 0

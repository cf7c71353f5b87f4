#!/bin/sh
# NAME
#	tsan-load.sh - the daemon built with ThreadSanitizer, under load
# SYNOPSIS
#	make tsan-load
#	TG_SRCDIR=... TG_BUILDDIR=... sh tests/bench/tsan-load.sh
# DESCRIPTION
#	Builds src/targrey-milter with -fsanitize=thread (clang, else gcc) in
#	its own build directory, $TG_BUILDDIR/tests/bench/tsan-build (kept
#	for the next run; a configured source tree is copied there first,
#	since autoconf refuses a VPATH build from it). Starts it on a free
#	loopback port with a configuration that exercises the threaded
#	parts: LMDB store writes, greylisting, tarpits (tarpit_delay = 2s,
#	tarpit_max_sessions small enough to fill), the DNS cache (S25R
#	reverse lookups and SPF against nsd on loopback, started through the
#	integration rig's rig_dns.py; small cache, short TTLs) and a short
#	state_expire_interval. Then tests/bench/milterload drives it with
#	several clients at once:
#	  clean     mailN.example.com, reported as 192.0.2.N (SPF skips
#	            127/8), SPF pass through an include, accepted (20 a second, so
#	            that the load lasts through the reloads, 1.5 s apart)
#	  wait      S25R-looking names that wait out the tarpit
#	  hangup    S25R-looking names that disconnect 1 s into the tarpit,
#	            then come back (greylisted: new, then early retries)
#	  pipeline  S25R-looking names that pipeline during the tarpit
#	while the configuration is reloaded (SIGHUP) TSAN_RELOADS times,
#	each reload changing tarpit_max_sessions, greylist_delay, log_level.
#	Finally SIGTERM while 20 more clients are in the tarpit (the drain
#	cancels the tarpits; waits for their "tarpit: start" lines, hence
#	log_level = 2), and the log is
#	searched for "WARNING: ThreadSanitizer".
#
#	Suppressions: tests/bench/tsan.supp (see there; only LMDB's own
#	shared-memory reader table). TSAN_SESSIONS scales the load
#	(default 600 sessions in all), TSAN_RELOADS the reloads (default 6).
# DIAGNOSTICS
#	Prints the sessions driven, the reloads done, the number of TSan
#	warnings and each unique report (its first frames); the full log is
#	kept in tests/bench/tsan-load.log. Exit 0 with no warning, 1 with
#	warnings or when the daemon did not run or exit cleanly, 77 when no
#	compiler can build with -fsanitize=thread.
set -u
srcdir=${TG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TG_BUILDDIR:-$srcdir}
tsdir=$builddir/tests/bench/tsan-build
log=$builddir/tests/bench/tsan-load.log
sessions=${TSAN_SESSIONS:-600}
reloads=${TSAN_RELOADS:-6}
. "$srcdir/tests/bench/bench-lib.sh"
. "$srcdir/tests/bench/bench-daemon.sh"

# tsan_cc: print a compiler that links a threaded program with TSan
tsan_cc() {
	for cc in ${TSAN_CC:-clang gcc}; do
		printf '#include <pthread.h>\nstatic void *f(void *a) { return a; }\nint main(void) { pthread_t t; pthread_create(&t, 0, f, 0); return pthread_join(t, 0); }\n' \
		    > "$BL_TMP/t.c"
		"$cc" -fsanitize=thread -pthread "$BL_TMP/t.c" -o "$BL_TMP/t" 2>/dev/null \
		    && "$BL_TMP/t" 2>/dev/null && { echo "$cc"; return 0; }
	done
	return 1
}

# tsan_source: print a source tree that can be configured from tsdir
tsan_source() {
	if [ ! -f "$srcdir/config.status" ]; then
		echo "$srcdir"
		return 0
	fi
	git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1 || {
		echo "tsan-load: $srcdir is configured in place and not a git checkout;" \
		    "use a VPATH build" >&2
		return 1
	}
	rm -rf "$tsdir/src"
	mkdir -p "$tsdir/src"
	(cd "$srcdir" && git ls-files -co --exclude-standard -z \
	    | grep -zv '^tests/bench/tsan-build/' | xargs -0 tar cf -) \
	    | tar xf - -C "$tsdir/src" || return 1
	(cd "$tsdir/src" && autoreconf -fi >/dev/null 2>&1) || return 1
	echo "$tsdir/src"
}

# tsan_build: configure (once) and make the daemon in tsdir/obj
tsan_build() {
	cc=$(tsan_cc) || { echo "tsan-load: no compiler builds with -fsanitize=thread"; exit 77; }
	src=$(tsan_source) || exit 1
	mkdir -p "$tsdir/obj"
	if [ ! -f "$tsdir/obj/Makefile" ] || [ "$src" = "$tsdir/src" ]; then
		(cd "$tsdir/obj" && "$src/configure" -q CC="$cc" \
		    CFLAGS="-g -O1 -fsanitize=thread -fno-omit-frame-pointer" \
		    LDFLAGS="-fsanitize=thread") >"$tsdir/configure.out" 2>&1 \
		    || { cat "$tsdir/configure.out"; exit 1; }
	fi
	echo "tsan-load: building the daemon with $cc -fsanitize=thread in $tsdir/obj"
	make -C "$tsdir/obj" -j2 src/targrey-milter >"$tsdir/make.out" 2>&1 \
	    || { tail -n 30 "$tsdir/make.out"; exit 1; }
}

# tsan_dns: start nsd with the test zones; sets DNS_SERVER, DNS_PID
tsan_dns() {
	python3 - "$srcdir/tests/integration" "$BL_TMP" >"$BL_TMP/dns.out" 2>&1 <<'PY' &
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from rig_dns import Dns
work = os.path.join(sys.argv[2], "dns")
os.makedirs(work)
d = Dns(work)
d.add_zone("example.com", [("@", "TXT",
    "v=spf1 ip4:192.0.2.0/25 include:_spf.example.org -all")], ttl=2)
d.add_zone("example.org", [("@", "TXT", "v=spf1 ?all"),
    ("_spf", "TXT", "v=spf1 ip4:192.0.2.128/25 -all")], ttl=2)
for n in range(1, 255):
    d.add_host("mail%d.example.com" % n, "192.0.2.%d" % n, ttl=2)
    for net in (3, 4, 5):
        ip = "127.0.%d.%d" % (net, n)
        d.add_host("dyn-%s.pool.example.net" % ip.replace(".", "-"), ip, ttl=2)
d.start()
open(os.path.join(sys.argv[2], "dns.server"), "w").write(d.server + "\n")
signal.signal(signal.SIGTERM, lambda *a: (d.stop(), sys.exit(0)))
while True:
    time.sleep(1)
PY
	DNS_PID=$!
	BL_PIDS="$BL_PIDS $DNS_PID"
	for _i in $(seq 1 200); do
		[ -s "$BL_TMP/dns.server" ] && { DNS_SERVER=$(cat "$BL_TMP/dns.server"); return 0; }
		kill -0 "$DNS_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tsan-load: nsd did not start:"; cat "$BL_TMP/dns.out"
	exit 1
}

# tsan_config GENERATION: the daemon's extra configuration lines
tsan_config() {
	cat <<EOF
dns_servers = $DNS_SERVER
dns_cache_size = 64
dns_cache_max_ttl = 2s
dns_negative_ttl = 1s
s25r_reverse_lookup = yes
tarpit_delay = 2s
tarpit_poll_interval = 100ms
log_level = $((2 + $1 % 2))
tarpit_max_sessions = $((20 + $1 % 2 * 20))
greylist_delay = $((1 + $1 % 3))s
greylist_ipv4_prefix = 32
state_expire_interval = 1s
EOF
}

# tsan_drive: the four client kinds at once; prints sessions driven
tsan_drive() {
	ml=$builddir/tests/bench/milterload
	s=inet:$PORT@127.0.0.1
	q=$((sessions / 6))
	"$ml" -s "$s" -c 8 -n $((q * 2)) -r 20 -a 127.0.2.1-127.0.2.200 \
	    -A 192.0.2.1-192.0.2.200 -N 'mail%n.example.com' \
	    -H 'mail%n.example.com' -f 'a%n@example.com' >"$BL_TMP/clean.out" 2>&1 &
	p1=$!
	"$ml" -s "$s" -c 25 -n "$q" -a 127.0.3.1-127.0.3.200 -N 'dyn-%d.pool.example.net' \
	    -f 'b%n@example.org' -B wait >"$BL_TMP/wait.out" 2>&1 &
	p2=$!
	for round in 1 2; do
		"$ml" -s "$s" -c 25 -n "$q" -a 127.0.4.1-127.0.4.100 -N 'dyn-%d.pool.example.net' \
		    -f 'c@example.org' -t 'u@example.net' -B disconnect:1 \
		    >"$BL_TMP/hangup$round.out" 2>&1
	done &
	p3=$!
	"$ml" -s "$s" -c 10 -n "$q" -a 127.0.5.1-127.0.5.200 -N 'dyn-%d.pool.example.net' \
	    -B pipeline:0.5 >"$BL_TMP/pipeline.out" 2>&1 &
	p4=$!
	n=0
	while [ $n -lt "$reloads" ] && { kill -0 $p1 || kill -0 $p2 || kill -0 $p3 \
	    || kill -0 $p4; } 2>/dev/null; do
		sleep 1.5
		n=$((n + 1))
		{ tsan_config "$n"; } > "$BL_TMP/extra.cf"
		sed -i '/^dns_servers/,$d' "$BD_CONF"
		cat "$BL_TMP/extra.cf" >> "$BD_CONF"
		kill -HUP "$BD_PID"
	done
	wait $p1 $p2 $p3 $p4
	echo "$n" > "$BL_TMP/reloads"
	for f in clean wait hangup1 hangup2 pipeline; do
		printf '  %-9s %s\n' "$f" "$(grep -E '^completed' "$BL_TMP/$f.out" || echo '(no summary)')"
	done
}

# tsan_report: count the TSan reports of the log and print each unique one
# (its kind and first frames); returns 1 when one involves our own code
tsan_report() {
	count=$(grep -c 'WARNING: ThreadSanitizer' "$log")
	echo "tsan-load: $count ThreadSanitizer warning(s) in $log"
	sed -n '/ThreadSanitizer: Matched/,/^$/p' "$log"
	[ "$count" -eq 0 ] && return 0
	awk '
	/WARNING: ThreadSanitizer/ { kind = $0; sub(/^.*ThreadSanitizer: /, "", kind);
		sub(/ \(pid=[0-9]+\)/, "", kind); key = kind; text = ""; own = 0; inrep = 1; show = 1;
		frames = 0; next }
	inrep && /^  [A-Z]/ { frames = 0; show = $0 !~ /^  (Mutex|Thread) /;
		if (show) { l = $0; sub(/ at 0x[0-9a-f]+/, "", l); sub(/ \(pid=.*$/, "", l);
			gsub(/ T[0-9]+/, " T", l); gsub(/ M[0-9]+/, " M", l); text = text "\n  " l } }
	inrep && show && /^    #[0-9]/ && frames < 4 { f = $0; sub(/ \(.*$/, "", f);
		sub(/^ +#[0-9]+ /, "", f); key = key "|" f; text = text "\n      " f; frames++;
		if (f ~ /\/src\/[a-z_0-9]+\.[ch]:[0-9]/) own = 1 }
	inrep && /^SUMMARY: ThreadSanitizer/ { inrep = 0; n[key]++;
		if (!(key in first)) { first[key] = text; kind_of[key] = kind; own_of[key] = own;
			order[++keys] = key } }
	END { for (i = 1; i <= keys; i++) { k = order[i];
		printf "%s report (%d x): %s%s\n", own_of[k] ? "OWN-CODE" : "library-only",
		    n[k], kind_of[k], first[k]; if (own_of[k]) bad = 1 }
		exit bad }' "$log"
}

bl_init
tsan_build
tsan_dns
PORT=$(bl_free_port)
TSAN_OPTIONS="halt_on_error=0 exitcode=0 print_suppressions=1 second_deadlock_stack=1 suppressions=$srcdir/tests/bench/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
TG_BUILDDIR=$tsdir/obj bd_start_daemon "inet:$PORT@127.0.0.1" "$(tsan_config 0)" || exit 1
echo "tsan-load: daemon pid $BD_PID on port $PORT, nsd $DNS_SERVER; $sessions sessions," \
    "$reloads reloads (load $(cut -d' ' -f1-3 /proc/loadavg))"
tsan_drive
# SIGTERM while 20 sessions sit in the tarpit: tarpit_cancel_all and the drain
before=$(grep -c 'tarpit: start' "$BL_TMP/daemon.log")
"$builddir/tests/bench/milterload" -s "inet:$PORT@127.0.0.1" -c 20 -n 20 \
    -a 127.0.3.201-127.0.3.220 -N 'dyn-%d.pool.example.net' -B wait >"$BL_TMP/term.out" 2>&1 &
term_pid=$!
for _i in $(seq 1 100); do
	[ "$(grep -c 'tarpit: start' "$BL_TMP/daemon.log")" -ge $((before + 20)) ] && break
	sleep 0.1
done
kill -TERM "$BD_PID"
wait "$BD_PID"
rc=$?
wait "$term_pid"
printf '  %-9s %s\n' "at-term" "$(grep -E '^completed' "$BL_TMP/term.out" || echo '(no summary)')"
BL_PIDS=$(echo "$BL_PIDS" | tr ' ' '\n' | grep -vx "$BD_PID" | tr '\n' ' ')
cp "$BL_TMP/daemon.log" "$log"
echo "tsan-load: reloads sent $(cat "$BL_TMP/reloads"), logged" \
    "$(grep -c 'reload: configuration .* loaded' "$log"); daemon exit status $rc;" \
    "decisions: $(grep -o 'action=[a-z_]*' "$log" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
status=0
tsan_report || status=1
[ "$rc" -eq 0 ] || { echo "tsan-load: the daemon exited with status $rc"; status=1; }
exit $status

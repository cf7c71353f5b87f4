#!/bin/sh
# bench-scenarios.sh - targrey-milter's decision paths under load (issue 7):
# one row set per scenario, each 20 concurrent milterload sessions for
# BENCH_DURATION (8) seconds against the real daemon, with client addresses
# that are not loopback (milterload -A), so SPF really runs:
#   clean     198.51.100.x "mail0-19.example.com" (per driver thread), SPF
#             pass (include chain), not S25R: accepted at end of message
#   awl       203.0.113.x "p203-0-113-N.example.ne.jp" (S25R rule 1), its
#             /24 seeded as auto-whitelisted: accepted without delay
#   greylist  192.0.2.x, same kind of name, each address seeded as having
#             failed the tarpit, a new triplet every session: 450 4.7.1 at
#             RCPT (the first try)
#   spf-fail  198.51.100.x, sender domain "v=spf1 -all": 550 5.7.23 at MAIL
# nsd (tests/integration/rig_dns.py) serves the SPF records on loopback for
# one warm-up run per scenario and is then stopped: every SPF answer of the
# measured runs comes from the daemon's DNS cache (a miss would be a
# temperror in the log, and the run INVALID). Seeding is done with
# `targreyctl load` before the daemon starts.
# Each run is verified: milterload's -e expectations (exit 3 otherwise), no
# failed session, and one decision line of the expected shape per session
# in the daemon's log and no other; otherwise a line "INVALID: ..." is
# printed and recorded. Figures only: never fails on time.
. "$TG_SRCDIR/tests/bench/bench-lib.sh"
bl_init
. "$TG_SRCDIR/tests/bench/bench-daemon.sh"
ML="$TG_BUILDDIR/tests/bench/milterload"
CTL="$TG_BUILDDIR/src/targreyctl"
DUR=${BENCH_DURATION:-8}
AREA=scenarios
NOW=$(date +%s)

# The zones: the sender domain's record includes another one; HELO names
# have their own records (pypolicyd-spf order: HELO, then MAIL FROM).
bd_start_dns "$BL_TMP/dns" <<EOF || exit 0
example.org TXT v=spf1 include:_spf.example.net -all
fail.example.org TXT v=spf1 -all
_spf.example.net TXT v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 ip4:192.0.2.0/24 -all
*.example.com TXT v=spf1 ip4:198.51.100.0/24 -all
*.example.ne.jp TXT v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.0/24 -all
EOF

port=$(bl_free_port)
SOCK="inet:$port@127.0.0.1"
CONF="dns_servers = $BD_DNS
dns_negative_ttl = 0
spf_lookup_time = 3s"
bd_write_config "$SOCK" "$CONF"

# Seed: 203.0.113.0/24 auto-whitelisted (passes >= auto_whitelist_clients,
# seen a minute ago), 192.0.2.1-200 each failed the tarpit an hour ago.
{
	echo "# targrey-milter dump 1"
	printf 'clients\t203.0.113.0\tfirst=%s\tlast_pass=%s\tlast_seen=%s\tpasses=5\n' \
	    $((NOW - 864000)) $((NOW - 86400)) $((NOW - 60))
	for i in $(seq 1 200); do
		printf 'tarpit\t192.0.2.%s\tfirst=%s\tlast=%s\tcount=1\n' \
		    "$i" $((NOW - 3600)) $((NOW - 3600))
	done
} > "$BL_TMP/seed"
echo "-- seeding the state with targreyctl load"
"$CTL" -c "$BD_CONF" load "$BL_TMP/seed" || { bl_note $AREA "INVALID: seeding failed" - -; exit 0; }
"$CTL" -c "$BD_CONF" explain 203.0.113.7 p203-0-113-7.example.ne.jp \
    sender1@example.org user1@example.net
"$CTL" -c "$BD_CONF" explain 192.0.2.7 p192-0-2-7.example.ne.jp \
    sender1@example.org user1@example.net

bd_start_daemon "$SOCK" "$CONF" || { bl_note $AREA "INVALID: daemon did not start" - -; exit 0; }

# The scenarios: name, milterload arguments, the regular expression every
# decision line of the run must match (one per session).
CLEAN="-A 198.51.100.1-198.51.100.200 -N mail%t.example.com -H mail%t.example.com"
S25R_AWL="-A 203.0.113.1-203.0.113.200 -N p%d.example.ne.jp -H p%d.example.ne.jp"
S25R_GREY="-A 192.0.2.1-192.0.2.200 -N p%d.example.ne.jp -H p%d.example.ne.jp"
ACCEPT='action=accept reason=passed .* stage=eom '
args_clean="$CLEAN -f sender%n@example.org -e helo=c -e mail=c -e rcpt=c -e eom=c"
want_clean="$ACCEPT.*s25r=no_match spf=pass helo_spf=pass\$"
args_awl="$S25R_AWL -f sender%n@example.org -e helo=c -e mail=c -e rcpt=c -e eom=c"
want_awl="$ACCEPT.*s25r=s25r_rule_1 spf=pass helo_spf=pass tg=pass_awl\$"
args_greylist="$S25R_GREY -f sender%n@example.org"
want_greylist='action=greylist reason=new .* stage=rcpt .*s25r=s25r_rule_1 spf=pass helo_spf=pass tg=greylist retry_in='
args_spffail="$CLEAN -f sender%n@fail.example.org -e helo=c"
want_spffail='action=reject reason=[^ ]* .* stage=mail .*s25r=no_match spf=fail helo_spf=pass$'

# run NAME LABEL DURATION-OR-COUNT-OPTION RECIPIENT-TEMPLATE [-e ...]:
# milterload with the scenario's arguments; output in BL_TMP/NAME-LABEL.out
run() {
	_n=$1 _l=$2 _d=$3 _t=$4
	shift 4
	eval "_a=\$args_$_n"
	# shellcheck disable=SC2086
	"$ML" -s "$SOCK" -c 20 $_d -p "$BD_PID" -a 127.0.0.2-127.0.0.200 \
	    -t "$_t" $_a "$@" >"$BL_TMP/$_n-$_l.out" 2>&1
	echo $? >"$BL_TMP/$_n-$_l.rc"
}

# invalid NAME WHY: say it loudly and record it
invalid() {
	echo "INVALID: scenario $1: $2"
	bl_note $AREA "INVALID: $1: $2" - -
}

# verify NAME FROM-LINE: the measured run did what the scenario claims
verify() {
	_out="$BL_TMP/$1-run.out"
	_rc=$(cat "$BL_TMP/$1-run.rc")
	_done=$(awk '$1 == "completed" { print $2 }' "$_out")
	_failed=$(awk '$1 == "completed" { print $4 }' "$_out")
	tail -n "+$2" "$BD_LOG" >"$BL_TMP/$1.log"
	eval "_want=\$want_$1"
	_all=$(grep -c 'action=' "$BL_TMP/$1.log")
	_good=$(grep -c -e "$_want" "$BL_TMP/$1.log")
	_bad=$(grep -c -e 'warning: ' -e 'error: ' "$BL_TMP/$1.log")
	echo "-- $1: milterload exit $_rc, sessions completed ${_done:-?}" \
	    "failed ${_failed:-?}; daemon decision lines $_all, as expected $_good;" \
	    "warnings/errors $_bad"
	grep -v -e "$_want" "$BL_TMP/$1.log" | head -n 3 | sed 's/^/   unexpected: /'
	test "$_rc" = 0 || invalid "$1" "milterload exit $_rc (3: unexpected reply)"
	test "${_failed:-1}" = 0 || invalid "$1" "${_failed:-?} sessions failed"
	test "${_done:-0}" -gt 0 || invalid "$1" "no session completed"
	test "$_good" = "${_done:-x}" && test "$_all" = "$_good" \
	    || invalid "$1" "$_good decision lines as expected, $_all in all, ${_done:-?} sessions"
	test "$_bad" = 0 || invalid "$1" "$_bad warnings/errors in the daemon log"
}

# Warm-up: 200 sessions each, one per client address and HELO name (fills
# the DNS cache; the greylist warm-up uses other recipients so that the
# measured triplets are all new).
# A lookup that timed out (nsd slow on a loaded machine) is not cached
# (dns_negative_ttl = 0) and the warm-up is repeated, three times at most.
for s in clean awl greylist spffail; do
	for try in 1 2 3; do
		mark=$(($(wc -l <"$BD_LOG") + 1))
		run $s warm "-n 200" "warm%n@example.net"
		miss=$(tail -n "+$mark" "$BD_LOG" | grep -c 'spf=temperror')
		echo "-- warm-up $s: $(grep '^completed' "$BL_TMP/$s-warm.out"), SPF temperrors $miss"
		test "$miss" = 0 && break
	done
done
bd_stop_dns || invalid all "nsd did not stop: SPF answers may not come from the cache"
echo "-- nsd stopped: the measured runs get every SPF answer from the daemon's cache"

for s in clean awl greylist spffail; do
	case $s in
	greylist) set -- -e mail=c -e "rcpt=450 4.7.1" ;;
	spffail) set -- -e "mail=550 5.7.23" ;;
	*) set -- ;;
	esac
	mark=$(($(wc -l <"$BD_LOG") + 1))
	echo 5 >"/proc/$BD_PID/clear_refs" 2>/dev/null	# reset VmHWM
	l0=$(bl_load)
	run $s run "-d $DUR" "user%n@example.net" "$@"
	l1=$(bl_load)
	echo "-- $AREA $s: 20 concurrent sessions for $DUR s (load before $l0, after $l1)"
	cat "$BL_TMP/$s-run.out"
	verify $s $mark
	bl_note_run $AREA "$s" "$BL_TMP/$s-run.out"
	bl_note $AREA "$s driver cpu per 1000 sessions" \
	    "$(awk '$1 == "driver" { print $5 }' "$BL_TMP/$s-run.out")" "cpu s"
	bl_note $AREA "$s load average after (1/5/15 min)" "$(echo "$l1" | tr ' ' /)" load
done
exit 0

#!/bin/sh
# NAME
#	t_ctl_store - targreyctl's state commands through the real binary
# DESCRIPTION
#	Runs src/targreyctl against a state directory in /tmp: import of a
#	Postgrey db_dump (times relative to now, taRgrey retry field
#	included), list, show, explain, whitelist, dump | load round trip,
#	expire, stats, and the exit status of bad usage. Prints
#	"got X, want Y" and exits 1 on the first mismatch.
set -u
ctl="${TG_BUILDDIR:-.}/src/targreyctl"
dir=$(mktemp -d /tmp/t_ctl_store.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
: > "$dir/empty.conf"

run() {
	"$ctl" -c "$dir/empty.conf" -o state_directory="$dir/${STATE:-state}" "$@"
}

. "${TG_SRCDIR:-.}/tests/ctl/ctllib.sh"

write_pg_dump "$dir/pg.dump"

out=$(run import-postgrey "$dir/pg.dump"); want_status import $? 0
want_output import "imported 2 triplets (1 passed) and 1 clients" "$out"

out=$(run list greylist); want_status list $? 0
want_output list "192.0.2.0/alice@example.org/bob@example.net	first=" "$out"
want_output list "retries=2 passed=1" "$out"
want_output list "2001:db8:1:2::/carol@example.com/bob@example.net	" "$out"

out=$(run show 192.0.2.10); want_status show $? 0
want_output show "clients (network) 192.0.2.0: " "$out"
want_output show "passes=3" "$out"

out=$(run explain 192.0.2.44 '[192.0.2.44]' Alice+news@example.org bob@example.net)
want_status explain $? 0
want_output explain "verdict: pass_triplet (triplet_passed)" "$out"
want_output "explain facts" "passes=3 (auto-whitelisted at 5)" "$out"
want_output "explain facts" "  tarpit 192.0.2.44: none" "$out"
out=$(run explain 198.51.100.1 '[198.51.100.1]' new@example.org bob@example.net)
want_output explain "verdict: tarpit (new_client)" "$out"

run whitelist add 198.51.100.0/24 > /dev/null; want_status "whitelist add" $? 0
out=$(run explain 198.51.100.1 '[198.51.100.1]' new@example.org bob@example.net)
want_output "explain whitelisted" "verdict: pass_awl (manual_whitelist)" "$out"
out=$(run whitelist list); want_output "whitelist list" "198.51.100.0/24	added=" "$out"

run dump > "$dir/dump1"; want_status dump $? 0
out=$(STATE=state2 run load "$dir/dump1"); want_status load $? 0
want_output load "loaded 4 records, 0 bad lines" "$out"
STATE=state2 run dump > "$dir/dump2"
cmp -s "$dir/dump1" "$dir/dump2" || fail "dump | load | dump: the dumps differ"

out=$(run -o greylist_retry_window=60s expire); want_status expire $? 0
want_output expire "expired 1 of 3 records" "$out"
out=$(run stats); want_status stats $? 0
want_output stats "greylist         1 records" "$out"

run delete 192.0.2.0 > /dev/null; want_status delete $? 0
run delete 192.0.2.0 > /dev/null 2>&1; want_status "delete again" $? 1
run list > /dev/null 2>&1; want_status "list without database" $? 2
run list meta > /dev/null 2>&1; want_status "list meta" $? 2
run explain 192.0.2.1 > /dev/null 2>&1; want_status "explain usage" $? 2
run -o nonsense stats > /dev/null 2>&1; want_status "-o without =" $? 2
run -o tarpit_delay=bad stats > /dev/null 2>&1; want_status "-o bad value" $? 1
echo "t_ctl_store: all checks passed"
exit 0

#!/bin/sh
# t_fuzz_smoke.sh - build the libFuzzer harnesses and run each one briefly.
#
# Usage: t_fuzz_smoke.sh [--run SECONDS]
#	Without arguments (make check, make fuzz-smoke) each harness runs
#	for FUZZ_SMOKE_TIME seconds (default 10) on a scratch copy of its
#	seed corpus under tests/fuzz/corpus/<name>/. With --run, each runs
#	SECONDS on tests/fuzz/run/<name>/ (kept between runs, seeded from
#	the corpus). Any crash, leak, sanitizer report or timeout fails the
#	test; the crashing input is left in the work directory (named in
#	the output). Prints "fuzz_<name>: N execs" for each harness.
# Exit status: 0 all clean, 1 a harness failed, 77 (skip) when clang or
#	libFuzzer (Debian libclang-rt-14-dev) is missing.
builddir=$(cd "${TG_BUILDDIR:-.}" && pwd) || exit 1
srcdir=$(cd "${TG_SRCDIR:-.}" && pwd) || exit 1
env="$builddir/tests/fuzz/fuzz.env"
names="config table spf_record addr record stage store ctl_load"
names="$names dns_wire"	# the DNS answer parser (dns_wire.c)

[ -f "$env" ] || { echo "missing $env (run make check or make fuzz)" >&2; exit 1; }
smoke_time=$FUZZ_SMOKE_TIME
. "$env"
time=${smoke_time:-${FUZZ_SMOKE_TIME:-10}}
keep=
if [ "$1" = "--run" ]; then
	time=$2
	keep=1
fi
sh "$srcdir/tests/fuzz/build.sh" "$env"
rc=$?
[ $rc -eq 0 ] || exit $rc

if [ -n "$keep" ]; then
	work="$builddir/tests/fuzz/run"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/tg-fuzz.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT
fi
status=0
for n in $names; do
	mkdir -p "$work/$n" "$work/artifacts-$n"
	log="$work/$n.log"
	(cd "$work" && TMPDIR="$work" "$builddir/tests/fuzz/fuzz_$n" \
		-max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts-$n/" \
		"$work/$n" "$srcdir/tests/fuzz/corpus/$n") >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "fuzz_$n: ${execs:-?} execs in ${time}s, exit $rc"
	if [ $rc -ne 0 ]; then
		status=1
		tail -n 40 "$log"
		ls "$work/artifacts-$n"
		[ -n "$keep" ] || trap - EXIT
	fi
done
exit $status

#!/bin/sh
# bench-table.sh RESULTS [LOGDIR TARGET...] - print the figures collected by
# `make bench`; for a target that recorded none (see bench-note.sh), print
# the end of its output (LOGDIR/out-TARGET.log) instead.
results=$1
echo
echo "== benchmark figures ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if test -s "$results"; then
	awk -F '\t' '
		{ a[NR] = $1; f[NR] = $2; v[NR] = $3; u[NR] = $4
		  if (length($1) > wa) wa = length($1)
		  if (length($2) > wf) wf = length($2)
		  if (length($3) > wv) wv = length($3) }
		END { printf "%-" wa "s  %-" wf "s  %" wv "s  %s\n", "area", "figure", "value", "unit"
		      for (i = 1; i <= NR; i++)
			printf "%-" wa "s  %-" wf "s  %" wv "s  %s\n", a[i], f[i], v[i], u[i] }' "$results"
else
	echo "(no figures recorded with bench-note.sh)"
fi
test $# -ge 2 || exit 0
logdir=$2
shift 2
for t in "$@"; do
	log="$logdir/out-$t.log"
	test -f "$log" || continue
	grep -q '^figure: ' "$log" && continue	# recorded with bench-note.sh
	echo
	echo "== $t: figures as it printed them (last 25 lines of $log)"
	grep -v '^make\[[0-9]*\]: ' "$log" | tail -n 25
done

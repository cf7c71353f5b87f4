#!/bin/sh
# bench-table.sh RESULTS - print the figures collected by `make bench`
test -s "$1" || { echo "no benchmark figures recorded"; exit 0; }
echo
echo "== benchmark figures ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
awk -F '\t' '
	{ a[NR] = $1; f[NR] = $2; v[NR] = $3; u[NR] = $4
	  if (length($1) > wa) wa = length($1); if (length($2) > wf) wf = length($2)
	  if (length($3) > wv) wv = length($3) }
	END { printf "%-" wa "s  %-" wf "s  %" wv "s  %s\n", "area", "figure", "value", "unit"
	      for (i = 1; i <= NR; i++)
		printf "%-" wa "s  %-" wf "s  %" wv "s  %s\n", a[i], f[i], v[i], u[i] }' "$1"

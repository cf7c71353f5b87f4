#!/bin/sh
# bench-note.sh AREA FIGURE VALUE UNIT - record one benchmark figure for the
# `make bench` table (appends a tab-separated line to $BENCH_RESULTS; without
# BENCH_RESULTS it only prints it).
test $# -eq 4 || { echo "usage: bench-note.sh AREA FIGURE VALUE UNIT" >&2; exit 2; }
line=$(printf '%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4")
test -n "$BENCH_RESULTS" && printf '%s\n' "$line" >> "$BENCH_RESULTS"
printf 'figure: %s\n' "$line"

#!/bin/sh
# NAME
#	t_paramdoc.sh - the generated sample configuration and man page
#	agree with the daemon
# DESCRIPTION
#	Uncomments every "#name = value" line of conf/targrey-milter.conf and
#	checks that targrey-milter accepts the result (-t) and that the
#	parameters it sets (-n) are exactly every parameter with exactly its
#	default (-d): a parameter missing from the sample, or a default that
#	differs, fails. Then checks that targrey-milter.conf(5) has an entry
#	for every parameter, showing its default, and no entry for a
#	parameter the daemon does not know.
# DIAGNOSTICS
#	Exit 0 when all agree, 1 with "got X, want Y" lines otherwise.
set -u

b=${TG_BUILDDIR:-.}
daemon=$b/src/targrey-milter
conf=$b/conf/targrey-milter.conf
man=$b/docs/targrey-milter.conf.5
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-paramdoc.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"

for f in "$daemon" "$conf" "$man"; do
	[ -e "$f" ] || { echo "FAIL: $f is missing (make all first)"; exit 1; }
done

# Every setting line of the sample, uncommented.
sed -n 's/^#\([a-z][a-z0-9_]* =\)/\1/p' "$conf" > "$t/all.conf"
"$daemon" -t -c "$t/all.conf" > "$t/t.out" 2>&1 || fail "targrey-milter -t rejects the uncommented sample: $(cat "$t/t.out")"
"$daemon" -d | sort > "$t/want"
"$daemon" -n -c "$t/all.conf" | sort > "$t/got"
if ! cmp -s "$t/got" "$t/want"; then
	diff "$t/got" "$t/want" | sed -n 's/^< /got:  /p; s/^> /want: /p' | sed 's/^/FAIL: sample: /'
	fail "the sample's settings differ from targrey-milter -d (above: got = sample, want = daemon)"
fi
n=$(wc -l < "$t/want")
[ "$n" -gt 0 ] || fail "targrey-milter -d printed nothing"

# No explanation line of the sample may be wider than 78 columns (setting
# lines hold the defaults as they are, e.g. long installation paths).
awk '!/^#[a-z]/ && length($0) > 78 { printf "FAIL: sample line %d is %d columns wide\n", NR, length($0); bad = 1 }
    END { exit bad }' "$conf" || fails=$((fails + 1))

# The man page: one ".It Cm NAME" per parameter, followed by its default.
sed -n 's/^\.It Cm \([a-z0-9_]*\)$/\1/p' "$man" | sort > "$t/man_names"
sed 's/ = .*//' "$t/want" > "$t/names"
if ! cmp -s "$t/man_names" "$t/names"; then
	diff "$t/man_names" "$t/names" | sed -n 's/^< /FAIL: man page documents unknown parameter /p; s/^> /FAIL: man page lacks parameter /p'
	fails=$((fails + 1))
fi
while IFS= read -r line; do
	name=${line%% = *}
	def=${line#* = }
	[ "$line" = "$name =" ] && def=""
	got=$(awk -v n="$name" '$0 == ".It Cm " n { on = 1; next }
	    on && /^\.It / { exit }
	    on && /^\.Ql "/ { sub(/^\.Ql "/, ""); sub(/" \.$/, ""); print; exit }
	    on && /^Default: empty\.$/ { print "(empty)"; exit }' "$man")
	want=${def:-(empty)}
	[ "$got" = "$want" ] || fail "man page default of $name: got \"$got\", want \"$want\""
done < "$t/want"

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "sample and man page agree with the daemon on $n parameters"

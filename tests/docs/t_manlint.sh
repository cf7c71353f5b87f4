#!/bin/sh
# NAME
#	t_manlint.sh - the man pages render without warnings, and
#	targreyctl(8) documents exactly the commands of "targreyctl help"
# DESCRIPTION
#	Lints every man page with "mandoc -T lint -W warning" (Debian package
#	mandoc), or "groff -mandoc -ww -z" when mandoc is missing. Then
#	compares the command names of "targreyctl help" with the ".It Cm"
#	entries of the Commands list in targreyctl(8).
# DIAGNOSTICS
#	Exit 0 when clean, 1 listing each problem; 77 (skipped) when neither
#	mandoc nor groff is installed.
set -u

# Commands the issues specify and targreyctl(8) already documents, whose
# code is on another branch not yet merged: they may be missing from
# "targreyctl help". Remove each name once its code is on main.
PENDING=""

b=${TG_BUILDDIR:-.}
s=${TG_SRCDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
pages="$s/docs/targrey-milter.8 $s/docs/targreyctl.8 $b/docs/targrey-milter.conf.5 $s/docs/targrey-postmulti.8"

for p in $pages; do
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$p" 2>&1)
	elif command -v groff >/dev/null; then
		out=$(groff -mandoc -ww -z "$p" 2>&1)
	else
		echo "SKIP: neither mandoc nor groff is installed"
		exit 77
	fi
	if [ -n "$out" ]; then
		echo "FAIL: $p:"
		echo "$out"
		fails=$((fails + 1))
	else
		echo "ok: $p lints clean"
	fi
done

# Commands: "  NAME ARGS..." lines after "commands:" in targreyctl help.
"$b/src/targreyctl" help | sed -n '/^commands:/,$ s/^  \([a-z][a-z-]*\).*/\1/p' | sort -u > "${TMPDIR:-/tmp}/tgml.help.$$"
sed -n '/^\.Ss Commands/,/^\.Sh / s/^\.It Cm \([a-z][a-z-]*\).*/\1/p' "$s/docs/targreyctl.8" | sort -u > "${TMPDIR:-/tmp}/tgml.man.$$"
if [ ! -s "${TMPDIR:-/tmp}/tgml.help.$$" ]; then
	echo "FAIL: targreyctl help lists no commands"
	fails=$((fails + 1))
fi
for c in $PENDING; do
	grep -qx "$c" "${TMPDIR:-/tmp}/tgml.help.$$" || echo "$c" >> "${TMPDIR:-/tmp}/tgml.help.$$"
done
sort -u -o "${TMPDIR:-/tmp}/tgml.help.$$" "${TMPDIR:-/tmp}/tgml.help.$$"
diff "${TMPDIR:-/tmp}/tgml.man.$$" "${TMPDIR:-/tmp}/tgml.help.$$" | sed -n \
    -e 's/^< \(.*\)/FAIL: targreyctl(8) documents "\1", which targreyctl help does not list/p' \
    -e 's/^> \(.*\)/FAIL: targreyctl help lists "\1", which targreyctl(8) does not document/p' > "${TMPDIR:-/tmp}/tgml.diff.$$"
if [ -s "${TMPDIR:-/tmp}/tgml.diff.$$" ]; then
	cat "${TMPDIR:-/tmp}/tgml.diff.$$"
	fails=$((fails + 1))
else
	echo "ok: targreyctl(8) documents the commands of targreyctl help (pending: ${PENDING:-none})"
fi
rm -f "${TMPDIR:-/tmp}"/tgml.*.$$

[ "$fails" -eq 0 ] || exit 1

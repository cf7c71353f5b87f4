#!/bin/sh
# build.sh - build the libFuzzer harnesses with clang.
#
# Usage: build.sh ENVFILE
#	ENVFILE (tests/fuzz/fuzz.env, written by make) sets FUZZ_CC,
#	FUZZ_SRCDIR, FUZZ_BUILDDIR, FUZZ_CPPFLAGS and FUZZ_LIBS.
#	Every object of src/libtargrey.a and src/libtargreyctl.a (as built by
#	gcc; sources in the folders under src/, see docs/architecture.md) is
#	compiled again
#	with clang -fsanitize=fuzzer-no-link,address,undefined into
#	tests/fuzz/obj/, then each tests/fuzz/fuzz_<name>.c is linked
#	with -fsanitize=fuzzer into tests/fuzz/fuzz_<name>. Objects are
#	rebuilt only when their source or gcc's object (which make remakes
#	when an included header changes) is newer.
# Exit status: 0 built, 1 build error, 77 no usable clang/libFuzzer.
set -e
. "$1"
FUZZ_NAMES="config table spf_record addr record stage store ctl_load"
FUZZ_NAMES="$FUZZ_NAMES dns_wire"	# the DNS answer parser (dns_wire.c)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -std=gnu11 -pthread $SAN -fno-omit-frame-pointer"
out="$FUZZ_BUILDDIR/tests/fuzz"
obj="$out/obj"

command -v "$FUZZ_CC" >/dev/null 2>&1 || { echo "no $FUZZ_CC" >&2; exit 77; }
mkdir -p "$obj"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
	> "$obj/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined "$obj/probe.c" \
	-o "$obj/probe" 2>/dev/null; then
	echo "$FUZZ_CC cannot link libFuzzer (install libclang-rt-14-dev)" >&2
	exit 77
fi

objs=
for o in $(ar t "$FUZZ_BUILDDIR/src/libtargrey.a") \
    $(ar t "$FUZZ_BUILDDIR/src/libtargreyctl.a"); do
	# base names are unique across the source folders (t_layers.py)
	for c in "$FUZZ_SRCDIR"/src/*/"${o%.o}.c" \
	    "$FUZZ_BUILDDIR"/src/*/"${o%.o}.c"; do
		[ -f "$c" ] && break
	done
	g=$(ls "$FUZZ_BUILDDIR"/src/*/"$o" 2>/dev/null | head -n 1)
	# gcc's object is remade by make when a header it includes changes
	if [ ! -f "$obj/$o" ] || [ "$c" -nt "$obj/$o" ] \
	    || [ "$g" -nt "$obj/$o" ]; then
		"$FUZZ_CC" $CFLAGS -fsanitize=fuzzer-no-link $FUZZ_CPPFLAGS \
			-c "$c" -o "$obj/$o" || exit 1
	fi
	objs="$objs $obj/$o"
done
rm -f "$obj/libfuzztg.a"
ar rcs "$obj/libfuzztg.a" $objs

for n in $FUZZ_NAMES; do
	"$FUZZ_CC" $CFLAGS -fsanitize=fuzzer $FUZZ_CPPFLAGS \
		-I"$FUZZ_SRCDIR/tests/fuzz" "$FUZZ_SRCDIR/tests/fuzz/fuzz_$n.c" \
		"$obj/libfuzztg.a" $FUZZ_LIBS -o "$out/fuzz_$n" || exit 1
done

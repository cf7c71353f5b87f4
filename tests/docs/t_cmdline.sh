#!/bin/sh
# NAME
#	t_cmdline.sh - -n/-d NAME..., -n as written, -t reports every error
# DESCRIPTION
#	As postconf(1) does: "targrey-milter -d NAME..." prints only those
#	defaults, "-n NAME..." only those the file sets, and -n prints the
#	text of the file ($config_directory not expanded); an unknown NAME
#	is an error (exit 1). "-t" on a file with several errors reports
#	each one with FILE:LINE (a syntax error does not hide the bad values
#	after it), and every table file that is missing is reported with the
#	parameter and the line that name it (or "command line" for -o).
#	-t checks metrics_listen: malformed, in use, not local (exit 1,
#	FILE:LINE: parameter metrics_listen: reason); a free one passes.
#	targrey-milter(8) names the -c default of the packages and of a
#	default build, and the one this build prints with -h is one of them.
# DIAGNOSTICS
#	Exit 0 when all holds, 1 with "got X, want Y" lines.
set -u

b=${TG_BUILDDIR:-.}
. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tg-cmdline.XXXXXX") || exit 1
holder=
trap '[ -z "$holder" ] || kill "$holder" 2>/dev/null; rm -rf "$t"' EXIT
m="$b/src/targrey-milter"

cat > "$t/ok.conf" <<CONF
config_directory = $t
state_directory = \$config_directory/state
tarpit_delay = 30s
CONF
check "-d NAME NAME" "$("$m" -c "$t/ok.conf" -d greylist_delay tarpit_delay)" \
    "greylist_delay = 300s
tarpit_delay = 125s"
check "-n NAME (as written, not expanded)" "$("$m" -c "$t/ok.conf" -n state_directory)" \
    "state_directory = \$config_directory/state"
check "-n NAME of a parameter the file does not set" \
    "$("$m" -c "$t/ok.conf" -n greylist_delay)" ""
check "-n (all, as written)" "$("$m" -c "$t/ok.conf" -n | grep -c '\$config_directory/state$')" 1
"$m" -c "$t/ok.conf" -d no_such_parameter >"$t/out" 2>&1
check "-d unknown NAME: exit" "$?" 1
check "-d unknown NAME: message" "$(cat "$t/out")" "targrey-milter: unknown parameter no_such_parameter"
"$m" -c "$t/ok.conf" tarpit_delay >/dev/null 2>&1
check "NAME without -n/-d: usage error" "$?" 1

cat > "$t/bad.conf" <<CONF
config_directory = $t
bogus_param = 1
tarpit_delay = xyz

greylist_delay = 5q
CONF
"$m" -t -c "$t/bad.conf" >"$t/out" 2>&1
check "-t on three errors: exit" "$?" 1
check "-t reports the unknown parameter" "$(grep -c "^$t/bad.conf:2: parameter bogus_param: unknown parameter" "$t/out")" 1
check "-t reports the bad value on line 3" "$(grep -c "^$t/bad.conf:3: parameter tarpit_delay: bad value \"xyz\"" "$t/out")" 1
check "-t reports the bad value on line 5" "$(grep -c "^$t/bad.conf:5: parameter greylist_delay: bad value \"5q\"" "$t/out")" 1

cat > "$t/tables.conf" <<CONF
config_directory = $t
state_directory = $t
s25r_whitelist = cidr:$t/missing_a
# a comment
sender_whitelist = list:\$config_directory/missing_b
CONF
"$m" -t -c "$t/tables.conf" -o "client_whitelist=regexp:$t/missing_c" >"$t/out" 2>&1
check "-t on missing tables: exit" "$?" 1
check "missing table of line 3" "$(grep -c "^$t/tables.conf:3: parameter s25r_whitelist: open $t/missing_a: No such file" "$t/out")" 1
check "missing table of line 5" "$(grep -c "^$t/tables.conf:5: parameter sender_whitelist: open $t/missing_b: No such file" "$t/out")" 1
check "missing table of -o" "$(grep -c "^command line: parameter client_whitelist: open $t/missing_c: No such file" "$t/out")" 1

# metrics_listen under -t: a malformed value names its line; a port some
# other socket holds and an address that is not this host's cannot be
# bound; a free one passes, and -t leaves it free (a second -t passes).
metrics_conf() {
	printf 'config_directory = %s\nstate_directory = %s/state\n# metrics\nmetrics_listen = %s\n' \
	    "$t" "$t" "$1" > "$t/metrics.conf"
}
for bad in "127.0.0.1:99999|the port is not a number from 1 to 65535" \
    "localhost:9100|Name or service not known" "127.0.0.1|no port"; do
	metrics_conf "${bad%%|*}"
	"$m" -t -c "$t/metrics.conf" >"$t/out" 2>&1
	check "-t metrics_listen = ${bad%%|*}: exit" "$?" 1
	check "-t metrics_listen = ${bad%%|*}: message" \
	    "$(grep -c "^$t/metrics.conf:4: parameter metrics_listen: \"${bad%%|*}\": ${bad#*|}" "$t/out")" 1
done
metrics_conf 192.0.2.1:9100
"$m" -t -c "$t/metrics.conf" >"$t/out" 2>&1
check "-t metrics_listen not local: exit" "$?" 1
check "-t metrics_listen not local: message" "$(grep -c "^$t/metrics.conf:4: parameter metrics_listen: cannot bind 192.0.2.1:9100: .*(not an address of this host)" "$t/out")" 1
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
time.sleep(120)' "$t/port.tmp" &
holder=$!
for i in $(seq 100); do [ -s "$t/port.tmp" ] && break; sleep 0.1; done
port=$(cat "$t/port.tmp" 2>/dev/null)
check "a port is held for the test" "$([ -n "$port" ] && echo yes)" yes
metrics_conf "127.0.0.1:$port"
"$m" -t -c "$t/metrics.conf" >"$t/out" 2>&1
check "-t metrics_listen in use: exit" "$?" 1
check "-t metrics_listen in use: message" "$(grep -c "^$t/metrics.conf:4: parameter metrics_listen: cannot bind 127.0.0.1:$port: Address already in use" "$t/out")" 1
kill "$holder"; wait "$holder" 2>/dev/null; holder=
for i in 1 2; do
	"$m" -t -c "$t/metrics.conf" >"$t/out" 2>&1
	check "-t metrics_listen free (run $i): exit" "$?" 0
	check "-t metrics_listen free (run $i): no message" "$(grep -c metrics_listen "$t/out")" 0
done

# The man page's -c default: the packaged path and a default build's, and
# the path this build compiled in (as -h prints it) is one of them.
man="${TG_SRCDIR:-.}/docs/targrey-milter.8"
compiled=$("$m" -h | sed -n 's/.*(default \([^;]*\);.*/\1/p')
for p in /etc/targrey-milter/targrey-milter.conf /usr/local/etc/targrey-milter/targrey-milter.conf; do
	check "targrey-milter(8) names $p" "$(grep -c "^\.Pa $p\$" "$man")" 1
done
check "-h default ($compiled) is one the man page names" \
    "$(grep -c "^\.Pa $compiled\$" "$man")" 1

if [ "$fails" -ne 0 ]; then
	echo "--- last output"; cat "$t/out"
	exit 1
fi
echo "all checks passed"

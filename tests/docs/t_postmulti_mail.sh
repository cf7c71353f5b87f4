#!/bin/sh
# NAME
#	t_postmulti_mail.sh - mail through a postmulti instance is checked by
#	the milter only while targrey-postmulti has it enabled there
# DESCRIPTION
#	In a private mount namespace (as t_postmulti.sh: a copy of
#	/etc/postfix is bind-mounted over /etc/postfix, the real one is never
#	written), creates two real Postfix instances with postmulti, each with
#	an smtpd on a free loopback port and mail discarded, starts them and
#	the built targrey-milter on another free loopback port, then:
#	  1. enable on postfix-a only: a message sent through a has a decision
#	     line in the milter's log (under its queue id), one sent through b
#	     has none;
#	  2. disable on postfix-a (targrey-postmulti reloads the running
#	     instance): a new message through a has no decision line.
#	The milter runs with dry_run = yes and S25R rules off, so loopback
#	test clients are not tarpitted; trusted_networks is empty so that
#	they are not skipped either. Everything started is stopped.
# DIAGNOSTICS
#	Exit 0 when every check passes, 1 with "got X, want Y" lines, 77
#	(skipped) when not root or unshare, postmulti or swaks is missing.
set -u

b=${TG_BUILDDIR:-.}
s=${TG_SRCDIR:-.}

if [ "${1:-}" != inner ]; then
	for p in unshare postmulti swaks python3; do
		command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
	done
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (Postfix instances)"; exit 77; }
	. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
	before=$(etc_postfix_sum)
	unshare -m --propagation private sh "$0" inner
	rc=$?
	[ "$before" = "$(etc_postfix_sum)" ] || { echo "FAIL: the real /etc/postfix changed"; exit 1; }
	exit $rc
fi

. "${TG_SRCDIR:-.}/tests/docs/testlib.sh"
t=$(mktemp -d /tmp/tg-pmmail.XXXXXX) || exit 1
chmod 755 "$t"
milter_pid=

cleanup() {
	for i in a b; do postmulti -i "postfix-$i" -p stop >/dev/null 2>&1; done
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && sleep 1
	umount /etc/postfix 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# send PORT: send one message to smtpd at PORT, print its queue id.
send() {
	swaks --server "127.0.0.1:$1" --from sender@example.org --to rcpt@example.test \
	    --helo client.example.org --timeout 30 > "$t/swaks.out" 2>&1
	sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$t/swaks.out"
}

# checked QUEUEID: "yes" when the milter logged a decision for QUEUEID.
checked() {
	i=0
	while [ $i -lt 20 ]; do
		grep -q "$1: action=" "$t/milter.log" && { echo yes; return; }
		sleep 0.25
		i=$((i + 1))
	done
	echo no
}

mport=$(free_port)
cat > "$t/milter.conf" <<CONF
milter_socket = inet:$mport@127.0.0.1
pid_file = $t/milter.pid
state_directory = $t/state
user = nobody
group = $(id -gn nobody)
trusted_networks =
dry_run = yes
s25r_builtin_rules = no
s25r_reverse_lookup = no
CONF
mkdir "$t/state" && chown nobody "$t/state"
"$b/src/targrey-milter" -f -c "$t/milter.conf" > "$t/milter.log" 2>&1 &
milter_pid=$!

private_etc_postfix "$t/etc" || exit 1
postmulti -e init || exit 1
for i in a b; do
	port=$(free_port)
	eval "port_$i=$port"
	postmulti -I "postfix-$i" -e create config_directory="$t/$i" \
	    queue_directory="$t/q$i" data_directory="$t/d$i" || exit 1
	pc="postmulti -i postfix-$i -x postconf"
	$pc -X master_service_disable
	$pc -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
	    "maillog_file_prefixes = $t" "maillog_file = $t/$i.log" \
	    "myhostname = $i.example.test" "mydestination = example.test" \
	    "mynetworks = 127.0.0.1/32" "alias_maps =" "alias_database =" "local_recipient_maps =" \
	    "local_transport = discard:" "default_transport = discard:" \
	    "smtpd_peername_lookup = no" "milter_command_timeout = 30s"
	$pc -F '*/*/chroot = n'
	$pc -M# smtp/inet
	$pc -M "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd"
	postmulti -e enable -i "postfix-$i" || exit 1
	postmulti -i "postfix-$i" -p start || exit 1
done
sleep 1
kill -0 "$milter_pid" 2>/dev/null || { echo "FAIL: the milter did not start:"; cat "$t/milter.log"; exit 1; }

sh "$s/contrib/targrey-postmulti" enable postfix-a "inet:127.0.0.1:$mport" > "$t/pm.out" 2>&1
check "enable on postfix-a: exit" "$?" 0
sleep 1
qa=$(send "$port_a")
qb=$(send "$port_b")
check "mail through a: queued" "$([ -n "$qa" ] && echo yes)" yes
check "mail through b: queued" "$([ -n "$qb" ] && echo yes)" yes
check "mail through a ($qa): milter decision logged" "$(checked "$qa")" yes
check "mail through b ($qb): milter decision logged" "$(checked "$qb")" no

sh "$s/contrib/targrey-postmulti" disable postfix-a "inet:127.0.0.1:$mport" > "$t/pm.out" 2>&1
check "disable on postfix-a: exit" "$?" 0
sleep 1
qa2=$(send "$port_a")
check "mail through a after disable: queued" "$([ -n "$qa2" ] && echo yes)" yes
check "mail through a after disable ($qa2): milter decision logged" "$(checked "$qa2")" no

if [ "$fails" -ne 0 ]; then
	echo "--- milter log"; tail -20 "$t/milter.log"
	echo "--- postfix-a log"; tail -20 "$t/a.log"
	echo "--- last swaks"; tail -20 "$t/swaks.out"
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"

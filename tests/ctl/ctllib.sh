# ctllib.sh - the shared helpers of the targreyctl shell tests
#
# Source it: . "${TG_SRCDIR:-.}/tests/ctl/ctllib.sh"
#   fail MESSAGE                      print "FAIL: MESSAGE", exit 1
#   want_output WHAT PATTERN OUTPUT   OUTPUT must contain the fixed string PATTERN
#   want_status WHAT GOT WANT         exit statuses must be equal
#   write_pg_dump FILE                a Postgrey 1.37 db_dump (two triplets,
#                                     one with taRgrey's retry field, one
#                                     client) with times relative to $now;
#                                     sets now and first

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

want_output() {
	case "$3" in
	*"$2"*) ;;
	*) fail "$1: got \"$3\", want it to contain \"$2\"" ;;
	esac
}

want_status() {
	[ "$2" = "$3" ] || fail "$1: got exit status $2, want $3"
}

write_pg_dump() {
	now=$(date +%s)
	first=$((now - 1000))
	cat > "$1" <<DUMP
VERSION=3
format=print
type=btree
db_pagesize=4096
HEADER=END
 192.0.2.0/alice@example.org/bob@example.net
 $first,$((now - 600)),2
 2001:db8:1:2:0:0:0:0/carol@example.com/bob@example.net
 $first,$first
DATA=END
VERSION=3
format=print
type=btree
HEADER=END
 192.0.2.10
 3,$((now - 600))
DATA=END
DUMP
}

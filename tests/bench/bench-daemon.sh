# bench-daemon.sh - start src/targrey-milter for benchmarks (source it after
# bench-lib.sh and bl_init).
# bd_write_config SOCKET [EXTRA-CONFIG-LINES]: write BD_CONF, a configuration
# (the defaults, with milter_socket = SOCKET, state and pid under BL_TMP,
# trusted_networks empty so every check runs) that targreyctl -c can read too.
# bd_start_daemon SOCKET [EXTRA-CONFIG-LINES]: bd_write_config, start the
# daemon in the foreground as the current user (output in BD_LOG) and wait
# until SOCKET accepts; sets BD_PID. Returns 1 (after printing the daemon's
# output) when it does not come up within 5 s.

bd_wait_socket() {
	case "$1" in
	unix:*) test -S "${1#unix:}" ;;
	inet:*) python3 - "$1" <<'PY'
import socket, sys
port, host = sys.argv[1][5:].split("@")
s = socket.socket()
s.settimeout(0.2)
sys.exit(0 if s.connect_ex((host, int(port))) == 0 else 1)
PY
	;;
	esac
}

bd_write_config() {
	BD_CONF="$BL_TMP/targrey-milter.cf"
	mkdir -p "$BL_TMP/state"
	{
		echo "milter_socket = $1"
		echo "state_directory = $BL_TMP/state"
		echo "pid_file = $BL_TMP/targrey-milter.pid"
		echo "trusted_networks ="
		echo "user = $(id -un)"
		echo "group = $(id -gn)"
		if test -n "$2"; then printf '%s\n' "$2"; fi
	} > "$BD_CONF"
}

bd_start_daemon() {
	bd_write_config "$1" "$2"
	BD_LOG="$BL_TMP/daemon.log"
	rm -f "${1#unix:}" 2>/dev/null
	"$TG_BUILDDIR/src/targrey-milter" ${TG_DAEMON_ARGS:--f -c} "$BD_CONF" \
	    >"$BD_LOG" 2>&1 &
	BD_PID=$!
	BL_PIDS="$BL_PIDS $BD_PID"
	for _i in $(seq 1 50); do
		bd_wait_socket "$1" && return 0
		kill -0 "$BD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "targrey-milter did not come up on $1; its output:"
	sed 's/^/    /' "$BD_LOG"
	bl_stop "$BD_PID"
	return 1
}

# bd_start_dns DIR: start nsd (through the integration rig's rig_dns.py) on
# a free loopback port, serving the records read from standard input, one
# "NAME TYPE RDATA" a line (absolute names, "*" wildcards allowed, TXT rdata
# unquoted); files under DIR. Sets BD_DNS ("127.0.0.1:PORT", the form of
# dns_servers) and BD_DNS_PID. Returns 1 (after printing why) if it fails.
bd_start_dns() {
	mkdir -p "$1" && cat > "$1/records" || return 1
	_out=$(python3 - "$1" "$TG_SRCDIR/tests/integration" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from rig_dns import Dns
dns = Dns(sys.argv[1])
for line in open(sys.argv[1] + "/records"):
    if line.strip():
        name, rtype, rdata = line.split(None, 2)
        dns.add_record(name, rtype, rdata.strip())
dns.start(new_port=True)
print(dns.port, dns.proc.pid)
PY
	) || { echo "bd_start_dns: nsd did not start: $_out"; return 1; }
	BD_DNS="127.0.0.1:${_out% *}"
	BD_DNS_PID=${_out#* }
	BL_PIDS="$BL_PIDS $BD_DNS_PID"
}

# bd_stop_dns: stop the nsd of bd_start_dns and wait (5 s at most) until its
# UDP port is free, i.e. nothing answers there any more; 1 if it stays busy.
bd_stop_dns() {
	bl_stop "$BD_DNS_PID"
	for _i in $(seq 1 50); do
		python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", int(sys.argv[1])))' \
		    "${BD_DNS#*:}" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bd_stop_dns: $BD_DNS still bound"
	return 1
}

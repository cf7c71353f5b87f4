# bench-daemon.sh - start src/targrey-milter for benchmarks (source it after
# bench-lib.sh and bl_init).
# bd_start_daemon SOCKET [EXTRA-CONFIG-LINES]: write a configuration (the
# defaults, with milter_socket = SOCKET, state and pid under BL_TMP,
# trusted_networks empty so every check runs), start the daemon in the
# foreground as the current user and wait until SOCKET accepts; sets BD_PID. Returns 1 (after
# printing the daemon's output) when it does not come up within 5 s.

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

bd_start_daemon() {
	BD_CONF="$BL_TMP/targrey-milter.cf"
	mkdir -p "$BL_TMP/state"
	{
		echo "milter_socket = $1"
		echo "state_directory = $BL_TMP/state"
		echo "pid_file = $BL_TMP/targrey-milter.pid"
		echo "trusted_networks ="
		echo "user = $(id -un)"
		echo "group = $(id -gn)"
		test -n "$2" && printf '%s\n' "$2"
	} > "$BD_CONF"
	rm -f "${1#unix:}" 2>/dev/null
	"$TG_BUILDDIR/src/targrey-milter" ${TG_DAEMON_ARGS:--f -c} "$BD_CONF" \
	    >"$BL_TMP/daemon.log" 2>&1 &
	BD_PID=$!
	BL_PIDS="$BL_PIDS $BD_PID"
	for _i in $(seq 1 50); do
		bd_wait_socket "$1" && return 0
		kill -0 "$BD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "targrey-milter did not come up on $1; its output:"
	sed 's/^/    /' "$BL_TMP/daemon.log"
	bl_stop "$BD_PID"
	return 1
}

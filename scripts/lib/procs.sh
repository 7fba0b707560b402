# Sourced by the benchmark scripts: starts service processes on loopback
# and always stops them, whatever way the script ends.
#
#   start NAME CMD...   runs CMD in the background, logging to $logs/NAME.log;
#                       sets $started_pid
#   show_logs           prints the tail of every log (on failure)
#
# KEEP_LOGS=1 keeps the logs directory.

# The command lines are the services' whole configuration: an ASTRAGUARD_*
# variable in the caller's environment (an admin token, TLS) would change
# what is measured or lock the load client out of BreakerAdmin.
for v in $(compgen -e | grep '^ASTRAGUARD_' || true); do unset "$v"; done

logs=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "server logs in $logs" >&2; else rm -rf "$logs"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
	local name=$1
	shift
	"$@" >"$logs/$name.log" 2>&1 &
	started_pid=$!
	pids+=("$started_pid")
}

show_logs() {
	local f
	for f in "$logs"/*.log; do echo "--- tail $f" >&2; tail -n 20 "$f" >&2; done
}

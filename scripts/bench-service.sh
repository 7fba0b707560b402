#!/usr/bin/env bash
# bench-service: measures what a sample costs in astraguard against a bare
# gRPC echo of the same API (loadtest.Echo), on loopback, with one load
# client (agload) for all three targets:
#   echo                the floor: gRPC itself
#   echo(shaped)        the same, answering verdicts of the service's shape
#                       (score, mechanism, band): what the response costs
#   service(model)      bin/astraguard, embedded model (the default path)
#   service(heuristic)  bin/astraguard with the model breaker forced open
# Every server runs as its own fresh process, so per-series state and CPU
# counters are its own. agload interleaves the targets in every repetition
# and prints medians of COUNT repetitions (default 3) and ratios to echo.
#
# Env: COUNT (3), DURATION per throughput phase (2s), LOCKSTEP round trips
# (20000), AGLOAD_FLAGS (extra agload flags), KEEP_LOGS=1 keeps server logs,
# PROFILE=FILE writes a CPU profile of one service over the first
# PROFILE_SECONDS (30) of the run and prints its top functions: the
# model-path service, or with PROFILE_TARGET=heuristic the breaker-open one.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-3}
DURATION=${DURATION:-2s}
LOCKSTEP=${LOCKSTEP:-20000}
GO=${GO:-go}

mkdir -p bin
"$GO" build -o bin/ ./cmd/astraguard ./cmd/agload ./cmd/agecho

# shellcheck source=scripts/lib/procs.sh
source scripts/lib/procs.sh

read -r p_echo p_shaped p_model p_heur p_http <<<"$(bin/agload -free-ports 5)"

start echo bin/agecho --grpc-addr="127.0.0.1:$p_echo"
pid_echo=$started_pid
start shaped bin/agecho --grpc-addr="127.0.0.1:$p_shaped" --shaped
pid_shaped=$started_pid
# Only the profiled service serves HTTP (its /debug/pprof).
model_http= heur_http= prof_http=
PROFILE_TARGET=${PROFILE_TARGET:-model}
if [ -n "${PROFILE:-}" ]; then
	prof_http=127.0.0.1:$p_http
	case $PROFILE_TARGET in
	model) model_http=$prof_http ;;
	heuristic) heur_http=$prof_http ;;
	*) echo "bench-service: PROFILE_TARGET=$PROFILE_TARGET: want model or heuristic" >&2; exit 2 ;;
	esac
fi
start model bin/astraguard --grpc-addr="127.0.0.1:$p_model" --http-addr="$model_http"
pid_model=$started_pid
start heuristic bin/astraguard --grpc-addr="127.0.0.1:$p_heur" --http-addr="$heur_http"
pid_heur=$started_pid

echo "bench-service: echo pid $pid_echo :$p_echo, shaped echo pid $pid_shaped :$p_shaped, model pid $pid_model :$p_model, heuristic pid $pid_heur :$p_heur; count $COUNT" >&2
if [ -n "${PROFILE:-}" ]; then
	# Once the HTTP port is up; the profile covers warm-up and the first
	# repetitions.
	(
		for _ in $(seq 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$p_http") 2>/dev/null && break
			sleep 0.1
		done
		"$GO" tool pprof -proto -seconds "${PROFILE_SECONDS:-30}" "http://$prof_http/debug/pprof/profile" >"$PROFILE" 2>"$logs/pprof.log"
	) &
	pid_pprof=$!
fi
# agload waits for each target's health to report SERVING before warming up.
# shellcheck disable=SC2086 # AGLOAD_FLAGS is a list of flags
if ! bin/agload -count "$COUNT" -duration "$DURATION" -lockstep "$LOCKSTEP" -clk-tck "$(getconf CLK_TCK)" \
	-target "echo,127.0.0.1:$p_echo,$pid_echo" \
	-target "echo(shaped),127.0.0.1:$p_shaped,$pid_shaped,floor" \
	-target "service(model),127.0.0.1:$p_model,$pid_model" \
	-target "service(heuristic),127.0.0.1:$p_heur,$pid_heur,breaker-open" \
	${AGLOAD_FLAGS:-}; then
	show_logs
	exit 1
fi
if [ -n "${PROFILE:-}" ]; then
	wait "$pid_pprof" || { cat "$logs/pprof.log" >&2; exit 1; }
	echo "CPU profile of service($PROFILE_TARGET) in $PROFILE; top functions by cumulative time:"
	"$GO" tool pprof -top -cum -nodecount=40 bin/astraguard "$PROFILE" 2>/dev/null | sed -n '4,50p' | cut -c1-160
fi

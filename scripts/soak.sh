#!/usr/bin/env bash
# soak: holds astraguard under load for minutes and checks that it keeps up
# without losing a verdict, leaking goroutines or growing without bound.
# Two fresh service processes on loopback, one load client (agload -soak):
#   model         bin/astraguard, embedded model (the default path)
#   breaker open  bin/astraguard with the model breaker forced open
# For each, agload runs two phases of DURATION:
#   saturated   16 pipelined streams, 8 requests in flight each, unpaced: the
#               highest rate this machine sustains (client and server share
#               its cores); the latency includes the queue the window builds
#   paced NN%   the same streams paced at RATE_FRACTION of that rate: the
#               latency of a service that is busy but not overrun
# and prints one row per phase: samples/s, per-request latency p50/p99/p99.9,
# server CPU, the server's peak RSS (VmHWM), go_goroutines before, at most
# during and after the phase, and lost verdicts, which must be 0: agload
# exits non-zero otherwise, and so does this script.
#
# Env: DURATION per phase (2m), RATE_FRACTION (0.5), AGLOAD_FLAGS (extra
# agload flags, e.g. -streams 8), KEEP_LOGS=1 keeps the server logs.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-2m}
RATE_FRACTION=${RATE_FRACTION:-0.5}
GO=${GO:-go}

mkdir -p bin
"$GO" build -o bin/ ./cmd/astraguard ./cmd/agload

# shellcheck source=scripts/lib/procs.sh
source scripts/lib/procs.sh

read -r g_model h_model g_open h_open <<<"$(bin/agload -free-ports 4)"

start model bin/astraguard --grpc-addr="127.0.0.1:$g_model" --http-addr="127.0.0.1:$h_model"
pid_model=$started_pid
start breaker-open bin/astraguard --grpc-addr="127.0.0.1:$g_open" --http-addr="127.0.0.1:$h_open"
pid_open=$started_pid

echo "soak: model pid $pid_model :$g_model, breaker-open pid $pid_open :$g_open; $DURATION per phase" >&2
# agload waits for each target's health to report SERVING and warms every
# series up before measuring; each phase ends by itself after DURATION and
# at most 30s more for the last answers.
# shellcheck disable=SC2086 # AGLOAD_FLAGS is a list of flags
if ! bin/agload -soak -duration "$DURATION" -rate-fraction "$RATE_FRACTION" -clk-tck "$(getconf CLK_TCK)" \
	-target "model,127.0.0.1:$g_model,$pid_model,metrics=127.0.0.1:$h_model" \
	-target "breaker open,127.0.0.1:$g_open,$pid_open,breaker-open,metrics=127.0.0.1:$h_open" \
	${AGLOAD_FLAGS:-}; then
	show_logs
	exit 1
fi

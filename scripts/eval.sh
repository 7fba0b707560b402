#!/usr/bin/env bash
# Scores AstraGuard on the NAB development subset and the spacecraft
# development channels (make eval).
#
# Builds bin/astraguard, bin/agctl and bin/nabscore, then replays
# ../shared/nab/data through a fresh service process twice:
#   model      - as configured (embedded model, heuristic fallback)
#   heuristic  - after "agctl breakers force model open", so every verdict
#                comes from the heuristic
# and scores each with nabscore: the anomaly_score column with NAB's
# threshold sweep, and the service's own anomaly flags (anomaly_score :=
# anomaly) at a fixed threshold of 0.5. It replays ../shared/spacecraft
# (SMAP/MSL channels, train split then test split) through a fresh service
# per path and cadence, the rows restamped 60 s and 300 s apart (agctl
# replay --cadence), and scores the service's own flags with telemanom's
# protocol (internal/spaceeval, the numbers of ../shared/spacecraft/score.py).
# Beside it, it scores both paths in-process on a generated, labelled corpus
# (internal/synth, internal/synthbench: every anomaly type on every signal
# family it applies to, at three sizes) with the same protocol: recall per
# anomaly type and false positives per series-day, reported without a floor.
# Then it cross-validates both paths offline over the candidates in
# internal/nabeval/cv.json (the swept NAB score: leave one file out; the
# detectors' own flags: NAB files and spacecraft channels together, one fold
# per file or channel) and exits non-zero when a cross-validated score falls
# below its floor there. Between the two it prints the model's
# detection delay and false-positive rate on generated series at four
# sampling cadences (internal/synth).
#
# Env: SHARED (default ../shared), EVAL_DIR (default out/eval, wiped first),
# AGCTL_FLAGS (extra replay flags, e.g. "--parallel 2").
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
NAB=$SHARED/nab
SPACE=$SHARED/spacecraft
CADENCES=(60s 300s)
EVAL_DIR=${EVAL_DIR:-$ROOT/out/eval}
BIN=$ROOT/bin
STARTUP_TRIES=300 # x 0.1 s
STOP_TRIES=150    # x 0.1 s, then SIGKILL

log() { printf '%s eval: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'log "failed: line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

log "building"
go build -o "$BIN/astraguard" ./cmd/astraguard
go build -o "$BIN/agctl" ./cmd/agctl
go build -o "$BIN/nabeval" ./cmd/nabeval
go build -C "$NAB/nabscore" -o "$BIN/nabscore" .

rm -rf "$EVAL_DIR"
mkdir -p "$EVAL_DIR/results"

# start_service NAME: starts astraguard on a free loopback port (the kernel
# picks it; the "serving" log line tells us which), waits until BreakerAdmin
# answers, and sets SVC_PID and SVC_ADDR.
start_service() {
	local name=$1 logf=$EVAL_DIR/$1.service.log i
	: >"$logf"
	"$BIN/astraguard" --grpc-addr 127.0.0.1:0 --http-addr "" --log-format json >"$logf" 2>&1 &
	SVC_PID=$!
	PIDS+=("$SVC_PID")
	SVC_ADDR=
	for ((i = 0; i < STARTUP_TRIES; i++)); do
		kill -0 "$SVC_PID" 2>/dev/null || die "$name: astraguard exited during startup; see $logf"
		if [ -z "$SVC_ADDR" ]; then
			SVC_ADDR=$(sed -n 's/.*"grpc_addr":"\([^"]*\)".*/\1/p' "$logf" | head -n 1) || true
		fi
		if [ -n "$SVC_ADDR" ] && "$BIN/agctl" breakers list --addr "$SVC_ADDR" --timeout 1s >/dev/null 2>&1; then
			log "$name: astraguard pid $SVC_PID serving on $SVC_ADDR"
			return 0
		fi
		sleep 0.1
	done
	die "$name: astraguard not healthy after $((STARTUP_TRIES / 10))s; see $logf"
}

# stop_service: SIGTERM, bounded wait for the graceful stop, then SIGKILL.
stop_service() {
	local i
	kill -TERM "$SVC_PID" 2>/dev/null || true
	for ((i = 0; i < STOP_TRIES; i++)); do
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SVC_PID" 2>/dev/null || true
	wait "$SVC_PID" 2>/dev/null || true
}

# replay_run NAME DATA REPLAY_FLAGS [agctl breakers args...]: fresh service,
# optional breaker command, replay DATA into results/NAME.
replay_run() {
	local name=$1 data=$2 flags=$3
	shift 3
	start_service "$name"
	if [ $# -gt 0 ]; then
		"$BIN/agctl" breakers --addr "$SVC_ADDR" "$@" >"$EVAL_DIR/$name.breaker.txt"
		log "$name: breakers $*: $(grep -E '^(state|override):' "$EVAL_DIR/$name.breaker.txt" | tr -s ' \t' ' ' | paste -sd ';' -)"
	fi
	log "$name: replaying $data $flags"
	# shellcheck disable=SC2086 # AGCTL_FLAGS and flags are split on purpose
	if ! "$BIN/agctl" replay --addr "$SVC_ADDR" --data "$data" --out "$EVAL_DIR/results/$name" $flags ${AGCTL_FLAGS:-} 2>&1 |
		sed "s/^/  $name: /" >&2; then
		die "$name: replay failed"
	fi
	# Which detector answered, from the source column (before the only free-text column).
	log "$name: verdict sources: $(cat "$EVAL_DIR/results/$name"/*/*.csv | awk -F, '$1 != "timestamp" { n[$5]++ } END { for (s in n) printf "%s=%d ", s, n[s] }')"
	stop_service
}

# flags_results NAME: copies results/NAME to results/NAME_flags with
# anomaly_score := anomaly. Only the reason column (the sixth) can hold
# quoted commas, so splitting on commas and rejoining is lossless for
# columns 3-4.
flags_results() {
	local src=$EVAL_DIR/results/$1 dst=$EVAL_DIR/results/$1_flags f rel
	while IFS= read -r f; do
		rel=${f#"$src"/}
		mkdir -p "$(dirname "$dst/$rel")"
		awk 'BEGIN { FS = OFS = "," } NR > 1 { $3 = $4 } { print }' "$f" >"$dst/$rel"
	done < <(find "$src" -name '*.csv')
}

# score NAME [nabscore args...]: runs nabscore, keeps its output, and fails
# unless it printed a standard-profile score.
score() {
	local name=$1 outf=$EVAL_DIR/$1.score.txt
	shift
	"$BIN/nabscore" -data "$NAB/data" -labels "$NAB/dev_windows.json" -profiles "$NAB/profiles.json" \
		-results "$EVAL_DIR/results/$name" -name "$name" "$@" >"$outf" 2>"$EVAL_DIR/$name.score.err" ||
		die "$name: nabscore failed: $(cat "$EVAL_DIR/$name.score.err")"
	awk -v n="$name" '$1 == n && $2 == "standard" { found = 1 } END { exit !found }' "$outf" ||
		die "$name: nabscore printed no score: $(cat "$EVAL_DIR/$name.score.err")"
	cat "$outf"
	echo
}

EVAL_START=$SECONDS
replay_run model "$NAB/data" ""
replay_run heuristic "$NAB/data" "" force model open --ttl 24h --reason eval
SPACE_RUNS=()
for cad in "${CADENCES[@]}"; do
	replay_run "space_model_$cad" "$SPACE" "--cadence $cad"
	replay_run "space_heuristic_$cad" "$SPACE" "--cadence $cad" force model open --ttl 24h --reason eval
	SPACE_RUNS+=("model@$cad=$EVAL_DIR/results/space_model_$cad" "heuristic@$cad=$EVAL_DIR/results/space_heuristic_$cad")
done

for run in model heuristic; do
	flags_results "$run"
	printf '{"%s": {"standard": {"threshold": 0.5}, "reward_low_FP_rate": {"threshold": 0.5}, "reward_low_FN_rate": {"threshold": 0.5}}}\n' \
		"${run}_flags" >"$EVAL_DIR/${run}_flags.thresholds.json"
done

echo "== NAB scores (development subset; results in $EVAL_DIR/results) =="
score model
score heuristic
score model_flags -thresholds-in "$EVAL_DIR/model_flags.thresholds.json"
score heuristic_flags -thresholds-in "$EVAL_DIR/heuristic_flags.thresholds.json"

echo "== standard profile =="
for name in model heuristic model_flags heuristic_flags; do
	awk -v n="$name" '$1 == n && $2 == "standard" { printf "  %-16s %8s  (threshold %s, TP %s, FP %s)\n", n, $7, $3, $5, $6 }' \
		"$EVAL_DIR/$name.score.txt"
done

echo
echo "== spacecraft development channels through the service (telemanom's protocol, own flags, no buffer; results in $EVAL_DIR/results/space_*) =="
"$BIN/nabeval" -space "$SPACE" -space-score "$(IFS=,; echo "${SPACE_RUNS[*]}")" ||
	die "spacecraft scoring failed"

echo
echo "== generated labelled corpus (internal/synth: 13 signal families, 10 anomaly types x 3 sizes, anomaly-free series), both paths in-process at 60 s and 300 s, telemanom's protocol (reporting only, no floor) =="
"$BIN/nabeval" -synth -space-cadence "$(IFS=,; echo "${CADENCES[*]}")" || die "generated corpus scoring failed"

echo
echo "== the model per sampling cadence: detection delay per injected anomaly, false positives per day (internal/synth) =="
"$BIN/nabeval" -cadence
echo
echo "== the heuristic per sampling cadence (what answers during a model outage) =="
"$BIN/nabeval" -cadence -detector heuristic

echo
echo "== cross-validation over NAB files and spacecraft channels (offline; candidates and floors: internal/nabeval/cv.json) =="
"$BIN/nabeval" -cv "$ROOT/internal/nabeval/cv.json" -nab "$NAB" -space "$SPACE" -nabscore "$BIN/nabscore" -results "$EVAL_DIR/cv" ||
	die "cross-validation failed or fell below a floor"
log "done in $((SECONDS - EVAL_START)) s after the build"

#!/usr/bin/env bash
# bench-detector: the detector's cost per sample (remote model stub and
# embedded model) and the live heap per series after GC at 100,000 series,
# for this tree and for BASE (default main) in the same run, compared with
# benchstat; then the heuristic's and the model's own benchmarks.
# Runs of the two trees alternate so both see the same machine load.
#
# Env: COUNT (5), BASE (main), GO (go).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-5}
BASE=${BASE:-main}
GO=${GO:-go}
BENCH='^Benchmark(ScoreBatch100|ScoreEmbedded|ServiceMemory)$'

tmp=$(mktemp -d)
cleanup() {
	git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
git worktree add --quiet --detach "$tmp/base" "$BASE"
if [ -d "$tmp/base/detector/embedded" ]; then
	# The base keeps the model's state in model.Engine: give it the twin
	# benchmarks written against that layout.
	cp scripts/lib/state_base_bench_test.go.txt "$tmp/base/detector/zz_state_base_bench_test.go"
fi

run() { (cd "$1" && "$GO" test -run='^$' -bench="$BENCH" -benchmem -count=1 ./detector/); }
for i in $(seq "$COUNT"); do
	echo "bench-detector: round $i of $COUNT" >&2
	run "$tmp/base" >>"$tmp/base.txt"
	run . >>"$tmp/head.txt"
done
[ -x bin/benchstat ] || make --no-print-directory "$PWD/bin/benchstat" >/dev/null
bin/benchstat "$BASE=$tmp/base.txt" "HEAD=$tmp/head.txt"

"$GO" test -run='^$' -bench=. -benchmem -count="$COUNT" ./detector/heuristic/ ./internal/model/

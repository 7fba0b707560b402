#!/usr/bin/env bash
# Runs the breaker benchmarks and prints benchstat tables.
# Usage: bash test/bench/run.sh   (COUNT=5 to trade precision for time)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
count="${COUNT:-10}"
benchstat="$root/bin/benchstat"

if [[ ! -x "$benchstat" ]]; then
	GOBIN="$root/bin" go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
fi

mkdir -p "$here/results"
out="$here/results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
cd "$here"
go test -run='^$' -bench=. -benchmem -count="$count" -cpu=1,2 ./... | tee "$out"
ln -sf "$(basename "$out")" "$here/results/latest.txt"

echo
echo "== results in $out; columns are -cpu=1 and -cpu=2 (GOMAXPROCS)"
"$benchstat" -col /gomaxprocs "$out"

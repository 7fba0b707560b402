#!/usr/bin/env bash
# Enforces the dependency rules of docs/architecture.md: arrows point down only.
set -euo pipefail
mod=$(go list -m)
fail=0
forbid() { # forbid PKG REGEX WHY [ALLOWED-PKG-REGEX]
	local bad
	bad=$(go list -deps "$1" | grep -vxF "$(go list "$1")" | grep -E "$2" | grep -vxE "${4:-}" || true)
	if [ -n "$bad" ]; then
		echo "depcheck: $1 must not import ($3):"; echo "$bad" | sed 's/^/  /'; fail=1
	fi
}
forbid ./breaker "grpc|prometheus|^$mod/(gen|detector|server|cmd)|log/slog" "breaker is stdlib only"
forbid ./breaker/breakerprom "grpc|^$mod/(gen|detector|server|cmd)" "metrics adapter only"
forbid ./breaker/breakergrpc "prometheus|^$mod/(gen|detector|server|cmd)" "gRPC classifier only"
forbid ./detector "grpc|^$mod/(gen|server|cmd|breaker)" "detector knows no transport and no breaker"
forbid ./internal/config "grpc|^$mod/(gen|server|cmd|test|client|breaker/|detector/oip)" "config knows YAML, fsnotify, the bounded file reader and the component types it decodes the file into (breaker.Settings, detector.Policy), no transport"
forbid ./internal/smallfile "^$mod/|grpc|prometheus" "the bounded file reader is stdlib only"
forbid ./internal/zerofield "^$mod/|grpc|prometheus" "the explicit-zero check is stdlib only"
forbid ./detector/heuristic "grpc|prometheus|^$mod/" "heuristic is stdlib plus the shared statistics" "$mod/internal/stats"
forbid ./internal/store "grpc|prometheus|^$mod/" "the per-series store is stdlib only"
forbid ./internal/store/storeprom "grpc|^$mod/(gen|detector|server|cmd|breaker|internal/model)" "metrics adapter only"
forbid ./internal/model "grpc|prometheus|^$mod/" "the reference model is stdlib plus the shared statistics" "$mod/internal/stats"
forbid ./detector/oip "^$mod/(server|cmd|breaker)" "model client adapter"
forbid ./internal/oipwire "grpc|prometheus|^$mod/" "the wire names are constants only"
forbid ./internal/checkpoint "grpc|prometheus|^$mod/" "the snapshot format is stdlib only"
forbid ./internal/checkpoint/checkpointprom "grpc|^$mod/(gen|detector|server|cmd|breaker|internal/model)" "metrics adapter only"
forbid ./internal/httpui "grpc|prometheus|^$mod/(gen|detector|server|cmd)" "the page knows breakers only; the anomaly view renders its own JSON"
forbid ./internal/anomalyview "grpc|^$mod/(gen|server|cmd|breaker|httpui)" "the anomaly view knows only the detector's verdicts"
forbid ./internal/report "grpc|prometheus|^$mod/" "the replay report is stdlib plus the bounded file reader" "$mod/internal/smallfile"
forbid ./internal/modelserver "^$mod/(server|cmd|breaker|detector)" "the model server knows only the model"
forbid ./internal/protolimit "prometheus|^$mod/" "the decode bound knows only gRPC's codec and protobuf"
forbid ./client "^$mod/(server|cmd|breaker|detector|internal)" "the client imports only gen, grpc, client_golang and the decode bound" "$mod/internal/protolimit"
# The evaluation tools read ../shared: development only, never in a binary.
for p in $(go list ./cmd/... | grep -v -E "^$mod/cmd/(nabeval|spacereplay)$"); do
	forbid "$p" "^$mod/internal/(ceiling|nabeval|spaceeval|synth|synthbench)$" "the eval tools stay out of the binaries"
done
for p in $(go list ./... | grep -v -E "^$mod/cmd/"); do
	forbid "$p" "^$mod/cmd/" "nothing imports cmd"
done
for p in $(go list ./... | grep -v -E "^$mod/(server|cmd)"); do
	forbid "$p" "^$mod/server$" "only cmd imports server"
done
# test/ holds the process-level suites and their harness: nothing of the
# product imports test/, and only cmd/ and test/ use the load tools' library.
for p in $(go list ./... | grep -v -E "^$mod/test/"); do
	forbid "$p" "^$mod/test/" "nothing of the product imports test/"
done
for p in $(go list ./... | grep -v -E "^$mod/(cmd|test|internal/loadtest)(/|$)"); do
	forbid "$p" "^$mod/internal/loadtest" "only cmd/ and test/ use the load tools' library"
done
# Heavy test-only dependencies live in their own modules (test/bench/, test/chaos/),
# never in the service's module graph.
heavy=$(go list -m all | grep -E '^(github.com/Shopify/toxiproxy|github.com/rs/zerolog|github.com/sony/gobreaker|github.com/failsafe-go/failsafe-go)' || true)
if [ -n "$heavy" ]; then
	echo "depcheck: the service's go.mod must not require test-only modules (move them to test/bench/ or test/chaos/):"; echo "$heavy" | sed 's/^/  /'; fail=1
fi
exit $fail

// Package nabeval is an offline harness that replays the Numenta Anomaly
// Benchmark (NAB) data files through a streaming detector and writes result
// files in the layout the nabscore scorer reads
// (RESULTS/<category>/<file>.csv with timestamp,value,anomaly_score,label).
//
// It exists to tune the model and the heuristic fallback; it is not part of
// the service and has no API stability promise. It deliberately does not
// score: scoring is nabscore's job (see RunScorer), so the numbers reported
// here are the same ones anybody can reproduce with the shared scorer.
//
// Usage, from the repository root:
//
//	go build -C ../shared/nab/nabscore -o "$PWD/bin/nabscore" .
//	go run ./cmd/nabeval -detector model
//	go run ./cmd/nabeval -detector flags-heuristic -config '{"Quiet":40}'
//
// Concurrency: Run replays files in parallel, one fresh Stream per file, so a
// Stream need not be safe for concurrent use; the NewStream factory must be.
package nabeval

// Package ceiling is an offline study of how far telemanom's thresholding
// gets on the spacecraft development channels (../shared/spacecraft) with
// simple per-channel predictors and no command inputs: it separates what
// the threshold contributes from what the predictor and its inputs do.
//
// Method. Each channel's predictor (persistence, a ridge AR(p), or k
// nearest neighbours on lag windows; predict.go) is fitted on the train
// split and predicts every test row one step ahead from the test rows
// before it. The absolute errors are smoothed and thresholded with
// telemanom's nonparametric dynamic thresholding (Hundman et al., KDD
// 2018; the khundman/telemanom repository's errors.py as of 2018; ndt.go),
// and the flagged test rows are scored with the project's telemanom
// protocol (internal/spaceeval).
//
// OnlineKNN (online.go, memory.go) is the kNN as the product could keep
// it: a memory of at most M windows, within the per-series state budget,
// learned from the stream (the train rows, then each test row once it is
// in the past) and chosen by a replacement policy (a reservoir sample,
// the latest windows, or the most novel ones), the values stored as
// 8- or 16-bit codes against the range seen so far or as float32. It
// answers whether the kNN's gain survives the budget and online learning;
// its forecasts are still thresholded by telemanom's batch method.
//
// What it is not: an online detector. telemanom judges errors in batches
// of 70 rows against windows of 2100, so a verdict on a row can use up to
// 69 rows after it (the first window's verdicts up to 2099), and the
// predictors are fitted on a whole train split before any test row. The
// numbers are a ceiling for thresholding a predictor's errors, not what a
// per-sample verdict can reach. Params.Causal judges each batch in the
// window that ends with it, to measure what the look-ahead is worth.
//
// It is a development tool: it reads ../shared through its callers
// (cmd/spacereplay -ceiling), nothing the service or its binaries import
// may import it, and it has no API stability promise. Functions are safe
// for concurrent use; values returned are owned by the caller.
package ceiling

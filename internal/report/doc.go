// Package report writes a replay's verdicts as one self-contained HTML
// file (agctl replay --report): a chart per series, drawn as inline SVG,
// of the value, the expected band and the flags, with labelled anomaly
// windows shaded, and a summary table (flags, flags inside labels, flags
// per mechanism). The file loads nothing and runs no script; its own
// Content-Security-Policy says so.
//
// Big inputs are downsampled for drawing, never for counting: each
// horizontal pixel of a chart draws its samples' minimum and maximum (so
// a spike stays visible) and the widest band among them, and every
// flagged sample gets its own mark (marks that would land on the same
// pixel are drawn once). The summary counts every sample.
//
// Labels (LoadLabels) come in two formats: NAB's windows JSON (file name
// -> [[start, end], ...] in "2006-01-02 15:04:05.000000" UTC) and the
// spacecraft meta.json list ({series, n_train, anomaly_sequences: [[first,
// last], ...]} with row indices within the test split, inclusive).
//
// No API stability promise.
package report

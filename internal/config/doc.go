// Package config loads AstraGuard's configuration file: YAML, decoded
// strictly (an unknown key, a wrong type or an invalid value is an error
// naming the key and its line), validated whole before anything uses it,
// and watched for changes.
//
// The file has four kinds of keys. Every command-line flag --foo-bar is
// the top-level key foo_bar (the caller passes the set of flag keys in
// Schema, so adding a flag adds its key); their values are kept as text
// with their line, for the caller to set through the flag itself. The
// breakers section holds each breaker's full settings by name, and the
// policies list the per-series policies in match order. An empty
// file is a valid configuration: every setting keeps its default. A
// breaker's section decodes straight into breaker.Settings and a policy
// into detector.Policy, by their yaml tags: there is no second struct. The
// components own the defaults, rules and bounds (Settings.Validate,
// Policy.Validate, detector.NewPolicies for overlaps); this package names
// each problem's key and line, and reports all of a file's problems at
// once, in line order.
//
// What it does not do: it knows nothing of flags, the environment or
// precedence (cmd/astraguard merges flag, environment, file and default, in
// that order), it never reads secrets (a key names a file holding one), and
// it never logs.
//
// Concurrency: a *Config is immutable once Parse returns, so it may be
// shared freely. Watch runs on its caller's goroutine until its context is
// done. No API stability promise.
package config

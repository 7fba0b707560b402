// Package version reports what a binary was built from, read from the
// module build information the Go toolchain embeds (runtime/debug): the
// main module's version, the VCS revision and commit time, whether the
// work tree was modified, and the Go version.
//
// It deliberately uses no -ldflags -X stamping: `go build` and
// `go install module@version` both record this information, so a binary
// needs no build script to know its own version. A binary built with
// -buildvcs=false (or outside a checkout, or in a git worktree, or by go
// run) has no revision; the fields say "unknown" rather than lie, and
// --version says how to build one that knows (make build).
//
// Every function is safe for concurrent use. No API stability promise.
package version

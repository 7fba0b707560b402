package tlsconf

// ServerAt is Server with the clock that times its reload checks.
var ServerAt = server

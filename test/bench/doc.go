// Package bench compares the closed-state overhead, the cost of a rejected
// call while OPEN and the memory per breaker of package breaker against
// sony/gobreaker and failsafe-go, all guarding the same function, with a
// direct call as the baseline. It is a separate module so that the service
// never depends on the breakers it is measured against; run it with
// test/bench/run.sh. It has no API.
package bench

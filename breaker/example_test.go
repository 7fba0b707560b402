package breaker_test

import (
	"errors"
	"fmt"

	"github.com/astraguard/astraguard/breaker"
)

// The seed's usage: the balanced preset guarding a model call with Execute.
func Example() {
	s, err := breaker.Preset(breaker.PresetBalanced)
	if err != nil {
		panic(err)
	}
	b, err := breaker.New("model", s)
	if err != nil {
		panic(err)
	}
	modelDown := errors.New("model unavailable")
	for range 5 {
		_ = b.Execute(func() error { return modelDown })
	}
	err = b.Execute(func() error { return nil })
	fmt.Println(b.State(), errors.Is(err, breaker.ErrOpen))
	// Output: OPEN true
}

// The two-step form, as detector.Gate uses it: no closure, no allocation.
func ExampleBreaker_Allow() {
	b, err := breaker.New("model", breaker.Settings{})
	if err != nil {
		panic(err)
	}
	ticket, err := b.Allow()
	if err != nil {
		fmt.Println("fallback to heuristics:", err)
		return
	}
	callErr := error(nil) // err from the model call
	b.Done(ticket, callErr)
	fmt.Println(b.Snapshot().Totals.Successes)
	// Output: 1
}

// A registry whose observer sees every breaker, including later ones.
func ExampleNewRegistry() {
	log := func(t breaker.Transition) { fmt.Printf("%s: %v -> %v (%s)\n", t.Name, t.From, t.To, t.Reason) }
	strict, _ := breaker.Preset(breaker.PresetStrict)
	reg, err := breaker.NewRegistry(strict, breaker.WithObserver(log))
	if err != nil {
		panic(err)
	}
	b := reg.Breaker("model")
	b.ForceOpen("maintenance window", 0)
	b.Reset()
	// Output:
	// model: CLOSED -> OPEN (maintenance window)
	// model: OPEN -> CLOSED (reset)
}

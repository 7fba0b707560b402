package model_test

import (
	"fmt"

	"github.com/astraguard/astraguard/model"
)

func ExampleEngine() {
	e, err := model.NewEngine(model.Config{WarmUp: 2}, 1000)
	if err != nil {
		panic(err)
	}
	ts := []int64{0, 300e9, 600e9}
	vs := []float64{7.9, 8.0, 8.1}
	out := make([]model.Result, len(vs))
	if err := e.Score("sat1/voltage", ts, vs, out); err != nil {
		panic(err)
	}
	for _, r := range out {
		fmt.Println(r.Warm)
	}
	// Output:
	// false
	// false
	// true
}

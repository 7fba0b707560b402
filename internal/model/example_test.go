package model_test

import (
	"fmt"

	"github.com/astraguard/astraguard/internal/model"
)

func ExampleTemplate() {
	tmpl, err := model.NewTemplate(model.Config{WarmUp: 2})
	if err != nil {
		panic(err)
	}
	d := tmpl.NewDetector() // one per series, kept by value in its entry
	for i, v := range []float64{7.9, 8.0, 8.1} {
		fmt.Println(d.Update(int64(i)*300e9, v).Warm)
	}
	// Output:
	// false
	// false
	// true
}

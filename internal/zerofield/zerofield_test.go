package zerofield

import (
	"reflect"
	"testing"
	"time"
)

type settings struct {
	Timeout time.Duration
	Size    int
	Off     time.Duration // default 0: its 0 is meant
	Ratio   float64
	hidden  int
}

// TestCheck: a field written 0 is reported only where its default is not
// 0, with that default and its hint, in declaration order; unexported
// fields are ignored.
func TestCheck(t *testing.T) {
	def := settings{Timeout: time.Second, Size: 8, Ratio: 0.5, hidden: 1}
	for _, tc := range []struct {
		name string
		c    settings
		want []*Error
	}{
		{"defaults", def, nil},
		{"zero value", settings{}, []*Error{
			{Field: "Timeout", Default: time.Second, Hint: "no off; "},
			{Field: "Size", Default: 8},
			{Field: "Ratio", Default: 0.5},
		}},
		{"meant zero", settings{Timeout: time.Second, Size: 8, Ratio: 0.5}, nil},
		{"one", settings{Timeout: time.Second, Ratio: 1}, []*Error{{Field: "Size", Default: 8}}},
		{"negative is not 0", settings{Timeout: -1, Size: -1, Ratio: -1}, nil},
	} {
		got := Check(tc.c, def, map[string]string{"Timeout": "no off; "})
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Check(%+v) = %v, want %v", tc.name, tc.c, got, tc.want)
		}
	}
	e := &Error{Field: "Timeout", Default: time.Second, Hint: "no off; "}
	if got, want := e.Error(), "must not be 0: no off; leave it unset for the default 1s"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestCheckPanicsOnNonStruct: Check of a non-struct is a programmer error.
func TestCheckPanicsOnNonStruct(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Check(1, 2) did not panic")
		}
	}()
	Check(1, 2, nil)
}

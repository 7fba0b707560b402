// Package zerofield finds the fields of a component's settings struct that
// were written 0 where 0 only stands for the default. A command starts
// every flag and file key from the component's default value, so a 0 that
// reaches the component was written by someone, who meant "off" or made a
// mistake; neither should silently become the default. A field whose
// default is itself 0 gives 0 a meaning of its own (off, derived) and is
// never refused.
//
// Method: one reflective walk over the exported fields of the struct,
// compared with the component's default value. The component keeps its
// own error type (and its field names); Check only says which fields and
// why. It holds no state and is safe for concurrent use.
//
// This package has no API stability promise.
package zerofield

import (
	"fmt"
	"reflect"
)

// Error is the cause reported for a field written 0 whose default is not
// 0. Field is the Go name of the field (the component wraps the error in
// its own field error, which prints the name).
type Error struct {
	Field   string
	Default any    // the field's default, printed in the message
	Hint    string // a sentence ending in "; " that precedes the advice, or ""
}

func (e *Error) Error() string {
	return fmt.Sprintf("must not be 0: %sleave it unset for the default %v", e.Hint, e.Default)
}

// Check returns an *Error for each exported field of c that is 0 while the
// same field of def is not, in declaration order; none when c has no such
// field. hints, by field name, adds a sentence to a field's message (nil
// for none). T must be a struct type; Check panics otherwise (a programmer
// error).
func Check[T any](c, def T, hints map[string]string) []*Error {
	v, d := reflect.ValueOf(c), reflect.ValueOf(def)
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("zerofield.Check of %v, want a struct", v.Type()))
	}
	var errs []*Error
	for _, f := range reflect.VisibleFields(v.Type()) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		if x, dx := v.FieldByIndex(f.Index), d.FieldByIndex(f.Index); x.IsZero() && !dx.IsZero() {
			errs = append(errs, &Error{Field: f.Name, Default: dx.Interface(), Hint: hints[f.Name]})
		}
	}
	return errs
}

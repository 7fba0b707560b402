// Package envflag binds every flag of a flag.FlagSet to an environment
// variable whose name is derived from the flag's: a prefix, then the flag
// name in upper case with dashes as underscores (--grpc-addr under
// "ASTRAGUARD_" is ASTRAGUARD_GRPC_ADDR). Both binaries bind their flags
// with it, so a new flag has its variable without anyone writing it down.
//
// Contract: a variable that is set, even to the empty string, sets its
// flag through flag.Value.Set before the command line is parsed, so the
// command line wins; a repeatable flag's command-line values add to the
// variable's. Nothing here reads the process environment itself: callers
// pass a lookup (os.LookupEnv in production). A Binding is a plain value,
// safe to share.
package envflag

import (
	"flag"
	"fmt"
	"strings"
)

// Binding names the variables of a FlagSet's flags.
type Binding struct {
	// Prefix starts every variable name, e.g. "ASTRAGUARD_".
	Prefix string
	// Skip lists flags that take no variable: actions such as --version,
	// whose variable would be set by unrelated software.
	Skip []string
	// Aliases maps a flag name to an older variable read as well, for
	// names shipped before the derivation (the derived name wins).
	Aliases map[string]string
}

// Name returns the variable of the flag named flagName.
func (b Binding) Name(flagName string) string {
	return b.Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Variables returns, for every flag of fs that has one, its variable.
func (b Binding) Variables(fs *flag.FlagSet) map[string]string {
	vars := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if !b.skipped(f.Name) {
			vars[f.Name] = b.Name(f.Name)
		}
	})
	return vars
}

// Apply sets every flag of fs whose variable (or alias) lookup finds, and
// returns the names of the flags it set. A value the flag rejects is an
// error naming the variable.
func (b Binding) Apply(fs *flag.FlagSet, lookup func(string) (string, bool)) (map[string]bool, error) {
	set := map[string]bool{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || b.skipped(f.Name) {
			return
		}
		name := b.Name(f.Name)
		v, ok := lookup(name)
		if alias, has := b.Aliases[f.Name]; !ok && has {
			name = alias
			v, ok = lookup(alias)
		}
		if !ok {
			return
		}
		set[f.Name] = true
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, e)
		}
	})
	return set, err
}

func (b Binding) skipped(name string) bool {
	for _, s := range b.Skip {
		if s == name {
			return true
		}
	}
	return false
}

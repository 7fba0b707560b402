package main

import "github.com/astraguard/astraguard/detector"

// policies returns the per-series policies: the file's list if it has a
// policies key (the config package decoded them into detector.Policy and
// had the detector check them), else detector.DefaultPolicies (the seed's
// limits).
func policies(cfg config) ([]detector.Policy, *detector.Policies, error) {
	list := detector.DefaultPolicies()
	if cfg.file != nil {
		if fp, ok := cfg.file.Policies(); ok {
			list = fp
		}
	}
	ps, err := detector.NewPolicies(list)
	return list, ps, err
}

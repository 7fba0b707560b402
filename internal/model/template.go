package model

// Template is a validated Config from which per-series Detectors are made
// without allocating: every Detector made from one Template shares its
// resolved parameters. The service keeps each series' Detector by value
// inside its own per-series entry (package store), so the model holds no
// table of its own and a series' model state lives and dies with the rest
// of that series' state. A Template is immutable and safe for concurrent
// use.
type Template struct{ p *params }

// NewTemplate validates cfg.
func NewTemplate(cfg Config) (*Template, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	return &Template{p: p}, nil
}

// NewDetector returns a fresh Detector, by value, for one series.
func (t *Template) NewDetector() Detector { return Detector{p: t.p} }

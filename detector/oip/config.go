package oip

import "github.com/astraguard/astraguard/internal/oipwire"

// DefaultModelName is the model name used when Config.ModelName is empty.
const DefaultModelName = oipwire.DefaultModelName

// Config tunes a Client. The zero value works. Retries are the
// connection's business (ServiceConfig), not the Client's.
type Config struct {
	// ModelName is the model asked for. Default DefaultModelName.
	ModelName string

	// ModelVersion is the model version asked for. Default "" (the
	// server's choice).
	ModelVersion string
}

func (c Config) withDefaults() (Config, error) {
	if c.ModelName == "" {
		c.ModelName = DefaultModelName
	}
	return c, nil
}

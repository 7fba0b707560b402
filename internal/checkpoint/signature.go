package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Signature combines the signatures of everything that gives a snapshot's
// records their meaning (each component's codec version and settings) into
// one short string. Order matters.
func Signature(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:12])
}

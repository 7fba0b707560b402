package spaceeval

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// Classes of labelled anomaly sequences.
const (
	Point      = "point"
	Contextual = "contextual"
)

// Entry is one label row of meta.json (telemanom's labeled_anomalies.csv):
// one channel's split and its labelled anomaly sequences, as inclusive
// [start, end] row indices within the test split. A channel may have
// several rows; each is scored on its own against the same flags.
type Entry struct {
	Series     string   `json:"series"` // the CSV's path below the data dir without .csv, e.g. "SMAP/A-3"
	Spacecraft string   `json:"spacecraft"`
	Chan       string   `json:"chan"`
	NTrain     int      `json:"n_train"`
	NTest      int      `json:"n_test"`
	Sequences  [][2]int `json:"anomaly_sequences"`
	// ClassText is the class list as the labels spell it, e.g.
	// "[point, contextual]"; Classes is it parsed, one per sequence.
	ClassText string   `json:"class"`
	Classes   []string `json:"-"`
}

// MaxMetaBytes bounds a meta.json (the spacecraft folder's is some
// kilobytes).
const MaxMetaBytes = 16 << 20

// LoadMeta reads and validates a meta.json: a regular file of at most
// MaxMetaBytes (package smallfile; a FIFO or device is refused unread).
func LoadMeta(path string) ([]Entry, error) {
	b, err := smallfile.Read(path, MaxMetaBytes)
	if err != nil {
		return nil, err
	}
	var es []Entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("%s: no entries", path)
	}
	for i := range es {
		if err := es[i].validate(); err != nil {
			return nil, fmt.Errorf("%s: entry %d (%s): %w", path, i, es[i].Series, err)
		}
	}
	return es, nil
}

func (e *Entry) validate() error {
	if e.Series == "" || e.Spacecraft == "" {
		return fmt.Errorf("series and spacecraft are required")
	}
	if e.NTrain < 0 || e.NTest <= 0 {
		return fmt.Errorf("n_train %d, n_test %d: want n_train >= 0 and n_test > 0", e.NTrain, e.NTest)
	}
	cls, err := parseClasses(e.ClassText)
	if err != nil {
		return err
	}
	if len(cls) != len(e.Sequences) {
		return fmt.Errorf("%d classes for %d sequences", len(cls), len(e.Sequences))
	}
	for _, s := range e.Sequences {
		if s[0] < 0 || s[1] < s[0] || s[1] >= e.NTest {
			return fmt.Errorf("sequence %v outside the test split [0, %d)", s, e.NTest)
		}
	}
	e.Classes = cls
	return nil
}

// parseClasses reads "[point, contextual]".
func parseClasses(s string) ([]string, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return nil, fmt.Errorf("class %q: want [point, contextual, ...]", s)
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	if t == "" {
		return nil, nil
	}
	var out []string
	for _, c := range strings.Split(t, ",") {
		c = strings.Trim(strings.TrimSpace(c), `'"`)
		if c != Point && c != Contextual {
			return nil, fmt.Errorf("class %q: unknown class %q", s, c)
		}
		out = append(out, c)
	}
	return out, nil
}

// SeriesOf returns the distinct series of es in first-seen order.
func SeriesOf(es []Entry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		if !seen[e.Series] {
			seen[e.Series] = true
			out = append(out, e.Series)
		}
	}
	return out
}

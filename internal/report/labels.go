package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// Labels are labelled anomaly windows by series. Build them with
// LoadLabels or ParseLabels and resolve one series' with For.
type Labels struct {
	times map[string][][2]int64 // NAB: windows as unix nanos
	rows  map[string][][2]int   // spacecraft: windows as row indices of the file
}

// nabLayout is NAB's window time format (UTC).
const nabLayout = "2006-01-02 15:04:05.999999"

// MaxLabelsBytes bounds a labels file: NAB's windows and the spacecraft
// meta.json are some kilobytes.
const MaxLabelsBytes = 16 << 20

// LoadLabels reads a labels file in either format. Only a regular file
// of at most MaxLabelsBytes is read (package smallfile): a FIFO, device or
// directory is refused without blocking.
func LoadLabels(path string) (*Labels, error) {
	b, err := smallfile.Read(path, MaxLabelsBytes)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	l, err := ParseLabels(b)
	if err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	return l, nil
}

// ParseLabels parses NAB's windows JSON (an object) or the spacecraft
// meta.json (an array).
func ParseLabels(b []byte) (*Labels, error) {
	l := &Labels{times: map[string][][2]int64{}, rows: map[string][][2]int{}}
	switch t := bytes.TrimSpace(b); {
	case len(t) > 0 && t[0] == '{':
		var nab map[string][][2]string
		if err := json.Unmarshal(t, &nab); err != nil {
			return nil, fmt.Errorf("NAB windows: %w", err)
		}
		for file, ws := range nab {
			id := strings.TrimSuffix(file, ".csv")
			l.times[id] = [][2]int64{}
			for _, w := range ws {
				a, err1 := time.Parse(nabLayout, w[0])
				z, err2 := time.Parse(nabLayout, w[1])
				if err := errors.Join(err1, err2); err != nil {
					return nil, fmt.Errorf("NAB windows %s: %w", file, err)
				}
				if z.Before(a) {
					return nil, fmt.Errorf("NAB windows %s: window %v ends before it starts", file, w)
				}
				l.times[id] = append(l.times[id], [2]int64{a.UnixNano(), z.UnixNano()})
			}
		}
	case len(t) > 0 && t[0] == '[':
		var meta []struct {
			Series    *string  `json:"series"`
			NTrain    int      `json:"n_train"`
			Sequences [][2]int `json:"anomaly_sequences"`
		}
		if err := json.Unmarshal(t, &meta); err != nil {
			return nil, fmt.Errorf("spacecraft meta: %w", err)
		}
		for i, m := range meta {
			if m.Series == nil || m.NTrain < 0 {
				return nil, fmt.Errorf("spacecraft meta: entry %d lacks series or has a negative n_train", i)
			}
			for _, s := range m.Sequences {
				if s[0] < 0 || s[1] < s[0] {
					return nil, fmt.Errorf("spacecraft meta %s: sequence %v is not [first, last]", *m.Series, s)
				}
				l.rows[*m.Series] = append(l.rows[*m.Series], [2]int{m.NTrain + s[0], m.NTrain + s[1]})
			}
			if l.rows[*m.Series] == nil {
				l.rows[*m.Series] = [][2]int{}
			}
		}
	default:
		return nil, errors.New("want NAB's windows JSON (an object) or a spacecraft meta.json (an array)")
	}
	return l, nil
}

// sameSeries matches a label key and a series id that name the same file
// from different roots ("MSL/P-14" and "P-14").
func sameSeries(key, id string) bool {
	return key == id || strings.HasSuffix(key, "/"+id) || strings.HasSuffix(id, "/"+key)
}

// For returns series id's labelled windows as inclusive [first, last]
// unix nanos, given its samples' timestamps, and whether the labels name
// the series at all. Row windows beyond the series are clipped.
func (l *Labels) For(id string, nanos []int64) (windows [][2]int64, labelled bool) {
	if l == nil {
		return nil, false
	}
	if key, ok := match(l.times, id); ok {
		return l.times[key], true
	}
	if key, ok := match(l.rows, id); ok {
		ws := l.rows[key]
		out := [][2]int64{}
		for _, w := range ws {
			if w[0] < len(nanos) {
				out = append(out, [2]int64{nanos[w[0]], nanos[min(w[1], len(nanos)-1)]})
			}
		}
		return out, true
	}
	return nil, false
}

// match finds id's key in m: the same name, else the first (in sorted
// order) that names the same file from another root.
func match[W any](m map[string]W, id string) (string, bool) {
	if _, ok := m[id]; ok {
		return id, true
	}
	var found []string
	for key := range m {
		if sameSeries(key, id) {
			found = append(found, key)
		}
	}
	if len(found) == 0 {
		return "", false
	}
	slices.Sort(found)
	return found[0], true
}

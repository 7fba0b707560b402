package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/astraguard/astraguard/test/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// pending are contract names (docs/metrics.md) whose producers are being
// built on other branches: a reference to one may find no series yet, but
// any other name must exist, so a typo still fails.
var pending = map[string]bool{
	"astraguard_config_last_reload_successful": true,
}

// query is one PromQL expression found in a deploy file.
type query struct {
	where, expr string
	nonEmpty    bool // must select data from the service's exposition
}

// Grafana's variables, replaced as the dashboard would with "All" selected.
var grafanaVars = strings.NewReplacer(`$__rate_interval`, `2m`, `$__interval`, `1m`, `$job`, `.*`, `$instance`, `.*`)

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_]+\)$`)

func dashboardQueries(t *testing.T) []query {
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ RefID, Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query json.RawMessage
			}
		}
	}
	readJSON(t, "grafana/astraguard.json", &d)
	var qs []query
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			qs = append(qs, query{where: "panel " + p.Title + " " + tg.RefID, expr: grafanaVars.Replace(tg.Expr), nonEmpty: true})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(SELECTOR, LABEL)", v.Name, q.Query)
			continue
		}
		qs = append(qs, query{where: "variable " + v.Name, expr: grafanaVars.Replace(m[1]), nonEmpty: true})
	}
	return qs
}

// ruleQueries returns every rule expression and the names recorded.
func ruleQueries(t *testing.T) ([]query, map[string]bool) {
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Record, Alert, Expr, For string
				Labels, Annotations      map[string]string
			}
		}
	}
	b, err := os.ReadFile("prometheus/astraguard-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("astraguard-rules.yml: %v", err)
	}
	var qs []query
	recorded := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
				qs = append(qs, query{where: "record " + r.Record, expr: r.Expr, nonEmpty: true})
			} else {
				// An alert's condition is rightly empty on a healthy service.
				qs = append(qs, query{where: "alert " + r.Alert, expr: r.Expr})
			}
		}
	}
	return qs, recorded
}

// TestQueriesAgainstExposition runs the real service, scrapes it twice
// around some traffic, loads both scrapes into a Prometheus TSDB 30s apart
// and evaluates every dashboard and rule expression: each must parse,
// name only metrics the service exports (or rules record), and, for
// dashboard panels and recording rules, return data.
func TestQueriesAgainstExposition(t *testing.T) {
	// --state-dir turns on checkpoints and their metrics.
	svc := harness.Start(t, "--breaker-preset=strict", "--state-dir="+t.TempDir())
	exercise(t, svc, 0)
	first := svc.Scrape(t)
	exercise(t, svc, 1)
	second := svc.Scrape(t)

	exported := exportedNames(t, second)
	st := loadScrapes(t, first, second)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	evalAt := time.UnixMilli(scrapeStart).Add(time.Minute)
	p := parser.NewParser(parser.Options{})

	rules, recorded := ruleQueries(t)
	for _, q := range append(dashboardQueries(t), rules...) {
		t.Run(q.where, func(t *testing.T) {
			expr, err := p.ParseExpr(q.expr)
			if err != nil {
				t.Fatalf("parse %q: %v", q.expr, err)
			}
			waiting := false
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				switch {
				case exported[vs.Name] || recorded[vs.Name]:
				case pending[vs.Name]:
					waiting = true
				default:
					t.Errorf("%s: metric %q is not exported by the service (typo?)", q.expr, vs.Name)
				}
				return nil
			})
			qry, err := engine.NewInstantQuery(t.Context(), st, nil, q.expr, evalAt)
			if err != nil {
				t.Fatalf("query %q: %v", q.expr, err)
			}
			defer qry.Close()
			res := qry.Exec(t.Context())
			if res.Err != nil {
				t.Fatalf("evaluate %q: %v", q.expr, res.Err)
			}
			if q.nonEmpty && !waiting && isEmpty(res) {
				t.Errorf("%s: no data from the service's metrics", q.expr)
			}
		})
	}
}

func isEmpty(r *promql.Result) bool {
	switch v := r.Value.(type) {
	case promql.Vector:
		return len(v) == 0
	case promql.Matrix:
		return len(v) == 0
	}
	return false
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

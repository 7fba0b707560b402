package report

// pageHTML is the report's template: inline style, inline SVG, no script.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}}</title>
<style>
:root { color-scheme: light; --fg: #1f2328; --dim: #656d76; --line: #d0d7de; --red: #cf222e; --orange: #d4620a; --blue: #0969da; }
body { font-family: system-ui, sans-serif; color: var(--fg); margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.05rem; margin: 0 0 .3rem; overflow-wrap: anywhere; }
.meta, .stats, .note { color: var(--dim); font-size: .85rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 12rem; max-width: 28rem; }
thead th { background: #f6f8fa; } tfoot td { font-weight: 600; }
figure { margin: 1.4rem 0; padding: .8rem 1rem; border: 1px solid var(--line); border-radius: 6px; }
svg.chart { width: 100%; height: auto; display: block; background: #fff; }
svg .grid { stroke: #eaeef2; } svg text { fill: var(--dim); font-size: 11px; }
svg .label { fill: rgba(207, 34, 46, .12); }
svg .band { fill: rgba(9, 105, 218, .18); }
svg .value { fill: none; stroke: var(--fg); stroke-width: 1; }
svg .flag { fill: var(--red); stroke: #fff; stroke-width: 1; } svg .flag.heuristic { fill: var(--orange); }
svg .heur { fill: var(--orange); }
.legend span { display: inline-block; margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; border-radius: 2px; }
.k-value { background: var(--fg); height: 2px !important; vertical-align: 3px !important; } .k-band { background: rgba(9, 105, 218, .35); }
.k-label { background: rgba(207, 34, 46, .2); } .k-flag { background: var(--red); border-radius: 50% !important; }
.k-hflag { background: var(--orange); border-radius: 50% !important; } .k-heur { background: var(--orange); height: .3rem !important; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">{{if .Source}}Replayed: {{.Source}}. {{end}}{{if .Labels}}Labels: {{.Labels}}. {{end}}{{if not .Created.IsZero}}Written {{.Created.UTC.Format "2006-01-02 15:04:05"}} UTC.{{end}}</p>
<p class="legend meta"><span><i class="k-value"></i>value</span><span><i class="k-band"></i>expected band</span><span><i class="k-label"></i>labelled window</span><span><i class="k-flag"></i>flag (model)</span><span><i class="k-hflag"></i>flag (heuristic)</span><span><i class="k-heur"></i>heuristic verdicts</span></p>
<div class="table-wrap"><table class="summary">
<thead><tr><th>series</th><th>samples</th><th>flags</th><th>inside labels</th><th>windows hit</th><th>heuristic flags</th><th>errors</th>{{range .Mechanisms}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr data-series="{{.ID}}"><td><a href="#{{.Anchor}}">{{.ID}}</a></td><td>{{.Samples}}</td><td class="flags">{{.Flags}}</td><td class="inside">{{if .Labelled}}{{.InLabels}} ({{pct .InLabels .Flags}}){{else}}–{{end}}</td><td class="hit">{{if .Labelled}}{{.WindowsHit}} of {{.Windows}}{{else}}–{{end}}</td><td>{{.Heuristic}}</td><td>{{.Errors}}</td>{{range .ByMechanism}}<td class="mech">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
<tfoot>{{with .Total}}<tr><td>{{.ID}}</td><td>{{.Samples}}</td><td class="flags">{{.Flags}}</td><td class="inside">{{if .Labelled}}{{.InLabels}} ({{pct .InLabels .Flags}}){{else}}–{{end}}</td><td class="hit">{{if .Labelled}}{{.WindowsHit}} of {{.Windows}}{{else}}–{{end}}</td><td>{{.Heuristic}}</td><td>{{.Errors}}</td>{{range .ByMechanism}}<td class="mech">{{.}}</td>{{end}}</tr>{{end}}</tfoot>
</table></div>
<p class="note">Charts are downsampled to one column per pixel for big inputs (each column draws its samples' range and widest band); every flag keeps its mark, and the table counts every sample.</p>
{{range .Charts}}<figure id="{{.Anchor}}" data-series="{{.ID}}">
<h2>{{.ID}}</h2>
<p class="stats">{{.Samples}} samples · {{.Flags}} flags{{if .Labelled}} · {{.InLabels}} inside labels · {{.WindowsHit}} of {{.Windows}} labelled windows hit{{end}}</p>
{{.SVG}}
</figure>
{{end}}</body>
</html>
`

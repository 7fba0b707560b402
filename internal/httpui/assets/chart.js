// Charts drawn as SVG by the page itself (no library, nothing loaded from
// elsewhere): a series' recent context (value, expected band, flags,
// heuristic verdicts), the stacked verdict traffic and the sparklines.
"use strict";
window.AGChart = (function () {
  const NS = document.querySelector("svg").namespaceURI; // SVG's, from the page's own markup

  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(x) { return Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : +x.toPrecision(4) + ""; }
  function pts(list) { return list.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "); }

  // span is the steps a chart's axis spans: the history there is, at least
  // five minutes' worth, at most maxSteps (an hour).
  function span(len, maxSteps) { return Math.min(maxSteps, Math.max(300, len)); }

  // slots averages the last steps steps of per-step counts (oldest first)
  // into n equal time slots ending now; slots before the history began
  // are null.
  function slots(arr, n, steps) {
    const per = steps / n, out = [];
    for (let j = 0; j < n; j++) {
      const from = arr.length - (n - j) * per;
      let s = 0, c = 0;
      for (let i = Math.max(0, Math.ceil(from)); i < from + per; i++) { s += arr[i]; c++; }
      out.push(c ? s / c : null);
    }
    return out;
  }

  // spark draws the last hour (at most) of per-step counts into a 120x30
  // sparkline.
  function spark(polyline, counts, stepSeconds, maxSteps) {
    const rs = slots(counts, 120, span(counts.length, maxSteps)).map((r) => (r === null ? 0 : r / stepSeconds));
    const max = Math.max(1, ...rs);
    polyline.setAttribute("points", pts(rs.map((r, i) => [(120 * i) / 119, 29 - (28 * r) / max])));
  }

  // context draws a series' recent points into svg.
  function context(svg, points) {
    svg.replaceChildren();
    // Drawn at the size it is shown, so its text stays legible when narrow.
    const W = Math.max(300, Math.round(svg.getBoundingClientRect().width) || 600), H = W < 500 ? 200 : 240;
    const L = 54, R = 8, T = 10, B = 30;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    if (!points.length) return;
    let t0 = points[0].t, t1 = points[points.length - 1].t;
    if (t1 === t0) { t0 -= 1; t1 += 1; }
    let lo = Infinity, hi = -Infinity;
    for (const p of points) {
      lo = Math.min(lo, p.v); hi = Math.max(hi, p.v);
      if (p.b) { lo = Math.min(lo, p.b[1]); hi = Math.max(hi, p.b[2]); }
    }
    if (hi === lo) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.06; lo -= pad; hi += pad;
    const x = (t) => L + ((W - L - R) * (t - t0)) / (t1 - t0);
    const y = (v) => T + ((H - T - B) * (hi - v)) / (hi - lo);
    for (const v of [hi - pad, (hi + lo) / 2, lo + pad]) {
      el("line", {class: "grid-line", x1: L, x2: W - R, y1: y(v).toFixed(1), y2: y(v).toFixed(1)}, svg);
      el("text", {x: L - 4, y: (y(v) + 4).toFixed(1), "text-anchor": "end"}, svg).textContent = fmt(v);
    }
    // The band and expected line, one piece per run of points with a band.
    let run = [];
    const flush = () => {
      if (run.length) {
        const up = run.map((p) => [x(p.t), y(p.b[2])]), down = run.map((p) => [x(p.t), y(p.b[1])]).reverse();
        if (run.length === 1) { up.push([up[0][0] + 1, up[0][1]]); down.unshift([down[0][0] + 1, down[0][1]]); }
        el("polygon", {class: "band", points: pts(up.concat(down))}, svg);
        el("polyline", {class: "expected", points: pts(run.map((p) => [x(p.t), y(p.b[0])]))}, svg);
      }
      run = [];
    };
    for (const p of points) { if (p.b) run.push(p); else flush(); }
    flush();
    el("polyline", {class: "value", points: pts(points.map((p) => [x(p.t), y(p.v)]))}, svg);
    for (const p of points) {
      if (p.h) el("rect", {class: "heur", x: (x(p.t) - 1).toFixed(1), y: H - B + 3, width: 2, height: 5}, svg);
    }
    for (const p of points) {
      if (p.a) el("circle", {class: "flag", cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 4}, svg);
    }
    const when = (t) => new Date(t).toISOString().slice(11, 19);
    el("text", {x: L, y: H - 6}, svg).textContent = when(points[0].t);
    el("text", {x: W - R, y: H - 6, "text-anchor": "end"}, svg).textContent = when(points[points.length - 1].t) + " UTC";
  }

  // stacked draws the last hour (at most) of series (name -> per-step counts, oldest
  // first, equally long) stacked in the given order into svg (viewBox
  // 360x100), one step-shaped area per name.
  function stacked(svg, names, series, colors, stepSeconds, maxSteps) {
    svg.replaceChildren();
    if (!names.length) return;
    const n = 360, steps = span(series[names[0]].length, maxSteps), per = names.map((nm) => slots(series[nm], n, steps));
    const base = new Array(n).fill(0);
    let max = 1;
    for (let j = 0; j < n; j++) max = Math.max(max, per.reduce((s, a) => s + (a[j] || 0), 0) / stepSeconds);
    const y = (v) => 100 - (98 * v) / max;
    per.forEach((a, k) => {
      const up = [], down = [];
      for (let j = 0; j < n; j++) {
        if (a[j] === null) continue;
        const top = base[j] + a[j] / stepSeconds;
        up.push([j, y(top)], [j + 1, y(top)]);
        down.push([j, y(base[j])], [j + 1, y(base[j])]);
        base[j] = top;
      }
      if (up.length) el("polygon", {points: pts(up.concat(down.reverse())), fill: colors[k]}, svg);
    });
  }

  return {el, fmt, span, slots, spark, context, stacked};
})();

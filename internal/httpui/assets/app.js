// The page: renders "state" events (breakers) and "anomalies" events (the
// feed) from /events; the charts' history comes from /api/history and is
// extended by each state event's "recent" steps, so a reload keeps the
// last hour. Uses textContent only, so breaker names, series ids and
// operator reasons can never inject markup.
"use strict";
(function () {
  const C = window.AGChart;
  const maxSteps = 3600, feedMax = 100;
  const breakers = document.getElementById("breakers");
  const conn = document.getElementById("conn");
  const tmpl = document.getElementById("card");
  const traffic = document.getElementById("traffic");
  const anomalies = document.getElementById("anomalies");
  const feed = document.getElementById("feed");
  const feedTmpl = document.getElementById("feed-item");
  const ctx = document.getElementById("context");
  let hist = null, fetching = false; // {fallbacks, traffic}: {at, step_seconds, series: {name: counts}}
  let selected = "", lastFetch = 0, seen = 0, lastPoints = null;
  let fresh = true; // the next "anomalies" event starts a stream: the whole feed, perhaps of a restarted server

  function fmtTime(s) { return s ? new Date(s).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : ""; }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function card(name) {
    let el = breakers.querySelector('section[data-name="' + CSS.escape(name) + '"]');
    if (!el) {
      el = tmpl.content.firstElementChild.cloneNode(true);
      el.dataset.name = name;
      el.querySelector(".name").textContent = name;
      breakers.appendChild(el);
    }
    return el;
  }

  // History: fetched whole on (re)connect, then extended step by step.
  function loadHistory() {
    if (fetching) return;
    fetching = true;
    fetch("api/history", {cache: "no-store"}).then((r) => r.ok ? r.json() : null).then((h) => {
      hist = h; fetching = false; drawHistory();
    }).catch(() => { fetching = false; });
  }

  function extend(h, recent) {
    const step = (h.step_seconds || 1) * 1000;
    if (!recent.at || Date.parse(recent.at) <= 0) return true;
    const k = h.at && Date.parse(h.at) > 0 ? Math.round((Date.parse(recent.at) - Date.parse(h.at)) / step) : 1;
    if (k <= 0) return true;
    if (k > 5) return false; // missed steps: fetch the history again
    const len = Object.values(h.series)[0]?.length || 0;
    for (const name of new Set(Object.keys(h.series).concat(Object.keys(recent.series)))) {
      const arr = h.series[name] || new Array(len).fill(0);
      const r = recent.series[name] || [];
      for (let i = k; i > 0; i--) arr.push(r.length >= i ? r[r.length - i] : 0);
      if (arr.length > maxSteps) arr.splice(0, arr.length - maxSteps);
      h.series[name] = arr;
    }
    h.at = recent.at;
    return true;
  }

  const palette = {"model": "#2ea043", "heuristic": "#1f6feb", "error": "#da3633"};
  const others = ["#d29922", "#f0883e", "#8957e5", "#db61a2", "#39c5cf", "#a371f7", "#e3b341", "#bc4c00", "#6e7681"];
  function color(name, i) { return palette[name] || others[i % others.length]; }

  function drawHistory() {
    if (!hist) return;
    for (const el of breakers.querySelectorAll("section.breaker")) {
      const rs = hist.fallbacks.series[el.dataset.name] || [];
      C.spark(el.querySelector(".spark polyline"), rs, hist.fallbacks.step_seconds || 1, maxSteps);
      el.querySelector(".rate").textContent = (rs.length ? rs[rs.length - 1] / hist.fallbacks.step_seconds : 0).toFixed(1) + " fallbacks/s";
    }
    const t = hist.traffic, steps = C.span(Object.values(t.series)[0]?.length || 0, maxSteps);
    const mins = Math.round((steps * (t.step_seconds || 1)) / 60);
    traffic.querySelector(".from").textContent = mins >= 60 ? "–1 h" : "–" + mins + " min";
    const names = Object.keys(t.series).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const colors = names.map((n, i) => color(n, i));
    C.stacked(traffic.querySelector(".area"), names, t.series, colors, t.step_seconds || 1, maxSteps);
    let total = 0;
    traffic.querySelector(".legend").replaceChildren(...names.map((n, i) => {
      const arr = t.series[n], last = arr.slice(-10), rate = last.reduce((s, x) => s + x, 0) / Math.max(1, last.length) / (t.step_seconds || 1);
      total += rate;
      const li = document.createElement("li"), key = document.createElement("i");
      key.style.background = colors[i]; // CSSOM, which the CSP allows
      li.append(key, n + " " + C.fmt(rate));
      return li;
    }));
    traffic.querySelector(".total").textContent = names.length ? C.fmt(total) + "/s now" : "no verdicts yet";
  }
  function rank(name) { return name === "model" ? 0 : name === "error" ? 2 : 1; }

  function render(ev) {
    for (const b of ev.breakers) {
      const el = card(b.name);
      el.dataset.state = b.state;
      el.dataset.override = b.override;
      const forced = b.override !== "NONE";
      el.querySelector(".state").textContent = forced ? b.override.replace("_", " ") : b.state;
      el.querySelector(".override").textContent = forced
        ? b.override + ": " + b.override_reason + (b.override_expiry ? " (until " + fmtTime(b.override_expiry) + ")" : "")
        : "none";
      el.querySelector(".ratio").textContent = pct(b.failure_ratio) + " of " + plural(b.window_calls, "recent call");
      el.querySelector(".probe").textContent = b.next_probe ? fmtTime(b.next_probe) : "–";
      el.querySelector(".totals").textContent =
        b.successes + " ok, " + b.failures + " failed, " + b.rejected + " refused, " + plural(b.trips, "trip");
      const ol = el.querySelector(".transitions");
      ol.replaceChildren(...b.transitions.map((t) => {
        const li = document.createElement("li");
        const ov = t.override !== "NONE" ? " [" + t.override + "]" : "";
        li.textContent = fmtTime(t.at) + "  " + t.from + " → " + t.to + ov + "  " + t.reason;
        return li;
      }));
    }
    if (hist) {
      if (!extend(hist.fallbacks, ev.recent.fallbacks) || !extend(hist.traffic, ev.recent.traffic)) loadHistory();
    }
    drawHistory();
    if (selected && Date.now() - lastFetch > 2000) loadContext();
  }

  // The feed: newest first, at most feedMax items.
  function addAnomalies(ev) {
    anomalies.dataset.off = ev.denied ? "denied" : ev.off ? "true" : "false";
    if (fresh) { fresh = false; seen = 0; feed.replaceChildren(); }
    const added = ev.entries.filter((a) => a.seq > seen);
    if (!added.length) return;
    seen = added[0].seq;
    feed.prepend(...added.map(item));
    while (feed.children.length > feedMax) feed.lastElementChild.remove();
    anomalies.querySelector(".count").textContent = "latest " + feed.children.length + " · newest first";
    if (!selected) select(added[0].series);
    else if (added.some((a) => a.series === selected)) loadContext();
    mark();
  }

  function item(a) {
    const li = feedTmpl.content.firstElementChild.cloneNode(true);
    li.dataset.series = a.series;
    li.dataset.source = a.source;
    li.querySelector(".series").textContent = a.series;
    li.querySelector(".score").textContent = "score " + a.score.toFixed(3);
    li.querySelector(".value").textContent = "value " + C.fmt(a.value);
    li.querySelector(".expected").textContent = a.band
      ? "expected " + C.fmt(a.band.expected) + " [" + C.fmt(a.band.lower) + ", " + C.fmt(a.band.upper) + "]" : "no band";
    li.querySelector(".time").textContent = fmtTime(a.at);
    li.querySelector(".mech").textContent = "· " + a.mechanism;
    li.querySelector(".src").textContent = "· " + a.source + (a.reason ? " (" + a.reason + ")" : "");
    li.querySelector(".policy").textContent = a.policy ? "· policy " + a.policy : "";
    li.querySelector("button").addEventListener("click", () => select(a.series));
    return li;
  }

  function mark() {
    for (const li of feed.children) li.dataset.selected = li.dataset.series === selected ? "true" : "false";
  }

  function select(series) {
    selected = series;
    ctx.dataset.series = series;
    ctx.querySelector(".series").textContent = series;
    mark();
    loadContext();
  }

  function loadContext() {
    lastFetch = Date.now();
    const want = selected;
    fetch("api/anomalies/context?series=" + encodeURIComponent(want), {cache: "no-store"}).then((r) => r.ok ? r.json() : null).then((c) => {
      if (want !== selected) return;
      const svg = ctx.querySelector("svg.ctx"), info = ctx.querySelector(".info");
      if (!c) { lastPoints = null; svg.replaceChildren(); info.textContent = "no longer kept (evicted by more recently flagged series)"; return; }
      lastPoints = c.points;
      C.context(svg, c.points);
      const flags = c.points.filter((p) => p.a).length, heur = c.points.filter((p) => p.h).length;
      info.textContent = "last " + plural(c.points.length, "sample") + " · " + plural(flags, "flag") + " · " + heur + " heuristic";
      ctx.dataset.points = c.points.length;
    }).catch(() => {});
  }

  // The chart is drawn at its shown size (legible text when narrow).
  window.addEventListener("resize", () => { if (lastPoints) C.context(ctx.querySelector("svg.ctx"), lastPoints); });

  const es = new EventSource("events");
  es.addEventListener("open", () => { conn.dataset.state = "live"; conn.textContent = "live"; fresh = true; loadHistory(); });
  es.addEventListener("error", () => { conn.dataset.state = "lost"; conn.textContent = "reconnecting…"; });
  es.addEventListener("state", (m) => render(JSON.parse(m.data)));
  es.addEventListener("anomalies", (m) => addAnomalies(JSON.parse(m.data)));
})();

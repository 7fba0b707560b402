// The breaker page: renders "state" events from /events; keeps a minute of
// per-breaker fallback rates for the sparkline. Uses textContent only, so
// breaker names and operator reasons can never inject markup.
"use strict";
(function () {
  const points = 60;
  const history = new Map(); // name -> {last: {at, n}, rates: []}
  const main = document.getElementById("breakers");
  const conn = document.getElementById("conn");
  const tmpl = document.getElementById("card");

  function fmtTime(s) { return s ? new Date(s).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : ""; }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }

  function card(name) {
    let el = main.querySelector('section[data-name="' + CSS.escape(name) + '"]');
    if (!el) {
      el = tmpl.content.firstElementChild.cloneNode(true);
      el.dataset.name = name;
      el.querySelector(".name").textContent = name;
      main.appendChild(el);
    }
    return el;
  }

  function rates(b, at) {
    let h = history.get(b.name);
    const n = b.rejected + b.failures, t = Date.parse(at);
    if (!h) { h = {last: {t, n}, rates: []}; history.set(b.name, h); return h.rates; }
    const dt = (t - h.last.t) / 1000;
    if (dt >= 0.5) {
      h.rates.push(Math.max(0, (n - h.last.n) / dt));
      if (h.rates.length > points) h.rates.shift();
      h.last = {t, n};
    }
    return h.rates;
  }

  function spark(el, rs) {
    const max = Math.max(1, ...rs);
    const pts = rs.map((r, i) => ((120 * i) / (points - 1)).toFixed(1) + "," + (29 - (28 * r) / max).toFixed(1));
    el.querySelector(".spark polyline").setAttribute("points", pts.join(" "));
    const last = rs.length ? rs[rs.length - 1] : 0;
    el.querySelector(".rate").textContent = last.toFixed(1) + " fallbacks/s";
  }

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
      el.querySelector(".ratio").textContent = pct(b.failure_ratio) + " of " + b.window_calls + " recent calls";
      el.querySelector(".probe").textContent = b.next_probe ? fmtTime(b.next_probe) : "–";
      el.querySelector(".totals").textContent =
        b.successes + " ok, " + b.failures + " failed, " + b.rejected + " refused, " + b.trips + " trips";
      const ol = el.querySelector(".transitions");
      ol.replaceChildren(...b.transitions.map((t) => {
        const li = document.createElement("li");
        const ov = t.override !== "NONE" ? " [" + t.override + "]" : "";
        li.textContent = fmtTime(t.at) + "  " + t.from + " → " + t.to + ov + "  " + t.reason;
        return li;
      }));
      spark(el, rates(b, ev.at));
    }
  }

  const es = new EventSource("events");
  es.addEventListener("open", () => { conn.dataset.state = "live"; conn.textContent = "live"; });
  es.addEventListener("error", () => { conn.dataset.state = "lost"; conn.textContent = "reconnecting…"; });
  es.addEventListener("state", (m) => render(JSON.parse(m.data)));
})();

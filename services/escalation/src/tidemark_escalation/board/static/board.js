// The board's only script: countdowns that tick from the service's deadlines and clock,
// and live refreshes of the page's live part when the change stream says something moved.
"use strict";
(function () {
  const body = document.body;
  // The service's clock minus the browser's: the countdowns follow the service (its test
  // clock's jumps included), never the browser's own idea of the time.
  let offset = Date.parse(body.dataset.now) - Date.now();
  const serviceNow = () => Date.now() + offset;
  const setServiceNow = (iso) => { const t = Date.parse(iso); if (!isNaN(t)) offset = t - Date.now(); };

  function span(ms) {
    let s = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const two = (n) => String(n).padStart(2, "0");
    // The two leading units: enough to act on, short enough for a narrow column.
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + two(m) + "m";
    return two(m) + "m " + two(s) + "s";
  }

  function tick() {
    const now = serviceNow();
    for (const cell of document.querySelectorAll("td.countdown")) {
      const deadline = Date.parse(cell.dataset.deadline);
      const warningAt = Date.parse(cell.dataset.warningAt);
      let state, text;
      if (cell.dataset.paused) { state = "paused"; text = "paused"; }
      else if (isNaN(deadline)) { state = "none"; text = "–"; }
      else if (now >= deadline) { state = "breached"; text = "breached " + span(now - deadline) + " ago"; }
      // The sla-timer said so before this service's clock got there (clocks jump one by one).
      else if (cell.dataset.breached) { state = "breached"; text = "breached"; }
      else {
        state = cell.dataset.warned || (!isNaN(warningAt) && now >= warningAt) ? "warning" : "running";
        text = span(deadline - now) + " left";
      }
      cell.className = "countdown state-" + state;
      cell.textContent = text;
    }
    for (const t of document.querySelectorAll("time.local-time")) {
      t.title = new Date(Date.parse(t.getAttribute("datetime"))).toLocaleString();
    }
  }

  let refreshing = null, again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = (async () => {
      try {
        const answer = await fetch(location.pathname + location.search,
          { headers: { "X-Board-Fragment": "1" }, credentials: "same-origin" });
        if (answer.redirected || answer.status === 401 || answer.status === 403) { location.reload(); return; }
        if (!answer.ok) return;
        setServiceNow(answer.headers.get("X-Server-Now"));
        const live = document.getElementById("live");
        // Keep the keyboard focus on the same ticket across the refresh.
        const focused = document.activeElement && document.activeElement.closest("[data-tid]");
        live.innerHTML = await answer.text();
        if (focused) { const same = live.querySelector('[data-tid="' + focused.dataset.tid + '"]'); if (same) same.focus(); }
        tick();
        body.dataset.refreshed = String(Date.now());
      } finally {
        refreshing = null;
        if (again) { again = false; refresh(); }
      }
    })();
  }

  function listen() {
    const after = body.dataset.lastChange || "0";
    // EventSource reconnects by itself and sends Last-Event-ID (the last change number).
    const stream = new EventSource("/board/events?after=" + encodeURIComponent(after));
    stream.addEventListener("change", (e) => { body.dataset.lastChange = e.lastEventId; refresh(); });
    stream.addEventListener("clock", (e) => { setServiceNow(e.data); tick(); });
    stream.addEventListener("open", () => { body.dataset.live = "on"; });
    stream.addEventListener("error", () => { body.dataset.live = "reconnecting"; });
  }

  tick();
  setInterval(tick, 1000);
  listen();
})();

// The /stat page: loads /api/stats every REFRESH_MS, renders it, keeps countdowns
// ticking in between, and remembers what the user opened across refreshes.

import { renderChart } from "./chart.client.js";
import { createFormat } from "./format.client.js";
import { renderKeys } from "./keys.client.js";
import { renderSummary } from "./summary.client.js";

const REFRESH_MS = 15_000;

const strings = JSON.parse(document.body.dataset.strings ?? "{}");
const fmt = createFormat(strings);
const view = {
  summary: document.getElementById("summary"),
  chart: document.getElementById("chart"),
  legend: document.getElementById("legend"),
  keys: document.getElementById("keys"),
  updated: document.getElementById("updated"),
  reset: document.getElementById("reset"),
  ranges: [...document.querySelectorAll("[data-range]")],
};

const state = {
  data: null,
  /** Server clock minus this clock, so countdowns agree with the proxy's marks. */
  skew: 0,
  range: "hourly",
  open: new Set(),
  timer: 0,
  loading: null,
  loadedAt: 0,
};

const now = () => Date.now() + state.skew;

function setStatus(text, failed) {
  view.updated.textContent = text;
  view.updated.classList.toggle("failed", failed);
}

function renderChartNow() {
  if (state.data === null) return;
  renderChart(view.chart, view.legend, state.data.history[state.range], state.range, fmt);
}

function renderKeysNow() {
  // Rebuilding the cards drops focus; put it back on the control with the same toggle id.
  const focused = document.activeElement?.closest?.("[data-toggle]")?.getAttribute("data-toggle");
  renderKeys(view.keys, state.data, state.open, fmt, now);
  if (focused) {
    for (const control of view.keys.querySelectorAll("[data-toggle]")) {
      if (control.getAttribute("data-toggle") === focused) control.focus({ preventScroll: true });
    }
  }
}

function render() {
  renderSummary(view.summary, state.data, fmt, now);
  renderChartNow();
  renderKeysNow();
}

async function load() {
  const response = await fetch("/api/stats", { headers: { accept: "application/json" }, cache: "no-store" });
  // The session ended (logout elsewhere, token rotated): reloading shows the login form.
  if (response.status === 401) return location.reload();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const data = await response.json();
  state.skew = Date.parse(data.generatedAt) - Date.now();
  state.data = data;
  state.loadedAt = Date.now();
  render();
  setStatus(fmt.t("updatedAt", { time: fmt.clock(new Date()) }), false);
}

function refresh() {
  clearTimeout(state.timer);
  state.loading ??= load()
    .catch((error) => setStatus(fmt.t("refreshFailed", { error: error.message }), true))
    .finally(() => {
      state.loading = null;
      state.timer = setTimeout(refresh, REFRESH_MS);
    });
  return state.loading;
}

/** Once a second: countdowns move, and a mark that just ran out triggers a refresh. */
function tick() {
  if (state.data === null) return;
  let ended = false;
  for (const element of document.querySelectorAll("[data-until]")) {
    const left = Date.parse(element.getAttribute("data-until")) - now();
    element.textContent = fmt.left(left);
    if (left <= 0) ended = true;
  }
  for (const element of document.querySelectorAll("[data-countdown]")) {
    const left = Date.parse(element.getAttribute("data-countdown")) - now();
    element.textContent = fmt.countdown(left);
    if (left <= 0) ended = true;
  }
  // At most every few seconds, in case this clock and the proxy's disagree.
  if (ended && state.loading === null && Date.now() - state.loadedAt > 3000) void refresh();
}

view.keys.addEventListener("click", (event) => {
  const control = event.target.closest("[data-toggle]");
  if (control === null) return;
  const id = control.getAttribute("data-toggle");
  if (!state.open.delete(id)) state.open.add(id);
  renderKeysNow();
});

for (const button of view.ranges) {
  button.addEventListener("click", () => {
    state.range = button.getAttribute("data-range");
    for (const other of view.ranges) other.setAttribute("aria-pressed", String(other === button));
    renderChartNow();
  });
}

view.reset.addEventListener("click", async () => {
  if (!confirm(fmt.t("resetConfirm"))) return;
  view.reset.disabled = true;
  try {
    const response = await fetch("/api/reset", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    if (response.status === 401) return location.reload();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await refresh();
  } catch (error) {
    setStatus(fmt.t("resetFailed", { error: error.message }), true);
  } finally {
    view.reset.disabled = false;
  }
});

let resizeFrame = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(renderChartNow);
});

// A tab in the background skips nothing important; catch up as soon as it is seen again.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") void refresh();
});

setInterval(tick, 1000);
void refresh();

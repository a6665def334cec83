// The /stat page: loads /api/stats (and the key table's page) every REFRESH_MS, renders
// them, keeps countdowns ticking in between, and remembers what the user opened,
// filtered and paged across refreshes.

import { createAdmin } from "./admin.client.js";
import { getJson, reloadIfSignedOut } from "./api.client.js";
import { renderChart } from "./chart.client.js";
import { createEvents } from "./events.client.js";
import { h } from "./dom.client.js";
import { createFormat } from "./format.client.js";
import { healthRows, renderHealth } from "./health.client.js";
import { allKeys, keyPage, PAGE_SIZE } from "./key-list.client.js";
import { createOpenSession } from "./open-session.client.js";
import { renderKeyTable } from "./key-table.client.js";
import { renderCapacity } from "./quota.client.js";
import { renderSummary } from "./summary.client.js";

const REFRESH_MS = 15_000;

const strings = JSON.parse(document.body.dataset.strings ?? "{}");
const fmt = createFormat(strings);
const byId = (id) => document.getElementById(id);
const view = {
  summary: byId("summary"),
  health: byId("health"),
  capacity: byId("capacity"),
  chart: byId("chart"),
  legend: byId("legend"),
  keyTable: byId("key-table"),
  keyPager: byId("key-pager"),
  keySearch: byId("key-search"),
  keyGroup: byId("key-group"),
  filters: [...document.querySelectorAll("[data-filter]")],
  updated: byId("updated"),
  role: byId("role"),
  mode: byId("mode"),
  adminTools: byId("admin-tools"),
  headerAdmin: byId("header-admin"),
  bulk: byId("bulk"),
  actionStatus: byId("action-status"),
  events: byId("events"),
  eventsPanel: byId("events").closest("section"),
  eventsStatus: byId("events-status"),
  eventPager: byId("event-pager"),
  eventFilters: byId("event-filters"),
  ranges: [...document.querySelectorAll("[data-range]")],
};
view.openSession = createOpenSession(byId("open-session"), fmt);

const state = {
  data: null,
  /** The key table's page, as GET /api/keys answers. */
  page: null,
  query: { status: "", group: "", q: "", sort: "position", order: "asc", offset: 0 },
  /** Server clock minus this clock, so countdowns agree with the proxy's marks. */
  skew: 0,
  range: "hourly",
  open: new Set(),
  timer: 0,
  loading: null,
  loadedAt: 0,
  /** Answers to older key queries that arrive late are dropped. */
  keyRequest: 0,
};

const now = () => Date.now() + state.skew;
const isAdmin = () => state.data?.access.role === "admin";

function setStatus(text, failed) {
  view.updated.textContent = text;
  view.updated.classList.toggle("failed", failed);
}

function report(text, failed) {
  view.actionStatus.textContent = text;
  view.actionStatus.classList.toggle("failed", failed);
}

/** The page of keys for a query. */
async function pageFor(query) {
  const page = await keyPage(query);
  // Past the end (keys were deleted or the filter shrank): the last page that has keys.
  if (page.keys.length > 0 || query.offset === 0 || page.total === 0) return page;
  query.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
  return pageFor(query);
}

/** The one key a search names: the key at that position for `#12`, else the only match. */
async function findKey(text) {
  const { keys } = await keyPage({ status: "", group: "", q: text, sort: "position", order: "asc", offset: 0 }, 10);
  const position = /^#?(\d+)$/.exec(text.trim());
  const exact = position === null ? undefined : keys.find((key) => key.position === Number(position[1]));
  return exact ?? (keys.length === 1 ? keys[0] : null);
}

const admin = createAdmin({
  fmt,
  view,
  refresh: () => refresh(),
  report,
  shownKeys: () => allKeys(state.query),
});
const events = createEvents({ fmt, view, findKey });

function renderAccess() {
  const access = state.data.access;
  view.role.hidden = false;
  view.mode.hidden = false;
  view.role.textContent = fmt.t(`role_${access.role}`);
  view.role.setAttribute("data-role", access.role);
  const mode = fmt.t(access.adminTokenSet ? "modeSeparate" : "modeShared");
  const note = state.data.proxyAuthEnabled ? "viewerNote" : "viewerOpenNote";
  view.mode.textContent = access.role === "admin" ? mode : `${mode} ${fmt.t(note)}`;
  // An open proxy (no PROXY_API_KEY) shows no login form, yet with ADMIN_API_KEY set only a
  // sign-in makes an admin: offer one to viewers, and the way out to whoever signed in.
  if (!state.data.proxyAuthEnabled && access.adminTokenSet) view.openSession.update(access.role);
}

function renderChartNow() {
  if (state.data === null) return;
  renderChart(view.chart, view.legend, state.data.history[state.range], state.range, fmt);
}

/** The group filter's options: the pool's groups as the last page named them (the fixed two first). */
function renderGroupOptions() {
  const select = view.keyGroup;
  const groups = state.page?.groups ?? [];
  const wanted = groups.map((group) => `${group.name}\n${group.keys}`).join("\n");
  if (select.dataset.groups === wanted) return;
  select.dataset.groups = wanted;
  const fixed = [...select.options].slice(0, 2);
  const options = groups.map((group) => h("option", { value: group.name }, fmt.t("groupOption", { group: group.name, n: fmt.int(group.keys) })));
  // A group that just emptied stays selectable while it is the filter.
  if (state.query.group !== "" && state.query.group !== fixed[1]?.value && !groups.some((group) => group.name === state.query.group)) {
    options.push(h("option", { value: state.query.group }, state.query.group));
  }
  select.replaceChildren(...fixed, ...options);
  select.value = state.query.group;
}

function renderKeysNow() {
  if (state.page === null) return;
  renderGroupOptions();
  // Rebuilding the table drops focus; put it back on the control with the same toggle id.
  const focused = document.activeElement?.closest?.("[data-toggle]")?.getAttribute("data-toggle");
  renderKeyTable(view.keyTable, view.keyPager, state.page, state.query, { fmt, now, open: state.open, admin: isAdmin() });
  admin.update(isAdmin(), state.page.total);
  if (focused) {
    for (const control of view.keyTable.querySelectorAll("[data-toggle]")) {
      if (control.getAttribute("data-toggle") === focused) control.focus({ preventScroll: true });
    }
  }
}

function renderFilterCounts() {
  const counts = state.data.totals.keys;
  for (const button of view.filters) {
    const status = button.getAttribute("data-filter");
    button.querySelector(".filter-count").textContent = fmt.int(status === "" ? counts.total : counts[status]);
  }
}

function render() {
  renderAccess();
  renderSummary(view.summary, state.data, fmt, now);
  renderHealth(view.health, state.data, fmt, now);
  renderFilterCounts();
  renderCapacity(view.capacity, state.data, fmt, now);
  renderChartNow();
  renderKeysNow();
  events.knownModels(healthRows(state.data).map((row) => row.model));
}

async function load() {
  // The summary without keys[]: the table's page comes on its own, however big the pool.
  const [data, page] = await Promise.all([getJson("/api/stats?keys=none"), pageFor(state.query)]);
  state.skew = Date.parse(data.generatedAt) - Date.now();
  state.data = data;
  state.page = page;
  state.loadedAt = Date.now();
  render();
  setStatus(fmt.t("updatedAt", { time: fmt.clock(new Date()) }), false);
  await events.refresh();
}

function refresh() {
  clearTimeout(state.timer);
  state.loading ??= load()
    .catch((error) => reloadIfSignedOut(error) || setStatus(fmt.t("refreshFailed", { error: error.message }), true))
    .finally(() => {
      state.loading = null;
      state.timer = setTimeout(refresh, REFRESH_MS);
    });
  return state.loading;
}

/** A new filter, search, sort or page: only the key table reloads. */
async function reloadKeys() {
  const request = ++state.keyRequest;
  try {
    const page = await pageFor(state.query);
    if (request !== state.keyRequest) return;
    state.page = page;
    renderKeysNow();
  } catch (error) {
    if (!reloadIfSignedOut(error)) setStatus(fmt.t("refreshFailed", { error: error.message }), true);
  }
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

view.keyTable.addEventListener("click", (event) => {
  const action = event.target.closest("[data-action]");
  if (action !== null) return void admin.keyAction(action);
  const eventsOfKey = event.target.closest("[data-events-key]");
  if (eventsOfKey !== null) return void events.showKey(eventsOfKey.getAttribute("data-events-key"), eventsOfKey.getAttribute("data-events-label"));
  const sort = event.target.closest("[data-sort]");
  if (sort !== null) {
    const column = sort.getAttribute("data-sort");
    state.query.order = state.query.sort === column && state.query.order === "asc" ? "desc" : "asc";
    state.query.sort = column;
    state.query.offset = 0;
    return void reloadKeys();
  }
  // A toggle, or anywhere on a row that opens something (a key's detail, a model's reason);
  // not the end of selecting text in it, which is how a reason gets copied.
  const control = event.target.closest("[data-toggle]") ?? event.target.closest("[data-row-toggle]");
  if (control === null || (control.tagName !== "BUTTON" && String(window.getSelection?.() ?? "") !== "")) return;
  const id = control.getAttribute("data-toggle") ?? control.getAttribute("data-row-toggle");
  if (!state.open.delete(id)) state.open.add(id);
  renderKeysNow();
});

view.keyPager.addEventListener("click", (event) => {
  const button = event.target.closest("[data-page]");
  if (button === null || state.page === null) return;
  const step = button.getAttribute("data-page") === "next" ? PAGE_SIZE : -PAGE_SIZE;
  state.query.offset = Math.max(0, state.query.offset + step);
  void reloadKeys();
});

for (const button of view.filters) {
  button.addEventListener("click", () => {
    state.query.status = button.getAttribute("data-filter");
    state.query.offset = 0;
    for (const other of view.filters) other.setAttribute("aria-pressed", String(other === button));
    void reloadKeys();
  });
}

view.keyGroup.addEventListener("change", () => {
  state.query.group = view.keyGroup.value;
  state.query.offset = 0;
  void reloadKeys();
});

let searchTimer = 0;
view.keySearch.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.query.q = view.keySearch.value;
    state.query.offset = 0;
    void reloadKeys();
  }, 250);
});

for (const button of view.ranges) {
  button.addEventListener("click", () => {
    state.range = button.getAttribute("data-range");
    for (const other of view.ranges) other.setAttribute("aria-pressed", String(other === button));
    renderChartNow();
  });
}

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

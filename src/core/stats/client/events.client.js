// The event log (GET /api/events): what happened to which key, newest first, filtered by
// key, model and kind, one page at a time (the proxy's `next` cursor goes further back).

import { getJson, reloadIfSignedOut, withQuery } from "./api.client.js";
import { h } from "./dom.client.js";

const PAGE_SIZE = 25;

/**
 * @param ctx `{ fmt, view, findKey }`: `findKey(text)` resolves to the one key a
 *   search matches, or null.
 */
export function createEvents(ctx) {
  const { fmt, view } = ctx;
  const form = view.eventFilters;
  const filter = { key: "", model: "", kind: "" };
  /** Cursors of the pages before this one, to step back to the newest. */
  let before = null;
  let next = null;
  let loading = null;
  let changedWhileLoading = false;
  let keyTimer = 0;
  /** Events whose whole message the user opened (long ones show two lines until clicked). */
  const open = new Set();

  function status(text, failed) {
    view.eventsStatus.textContent = text;
    view.eventsStatus.classList.toggle("failed", failed);
  }

  function row(event) {
    const key = event.position === undefined ? "—" : [`#${event.position} `, event.masked ? h("code", { class: "masked" }, event.masked) : null];
    const message = [event.message, event.role ? fmt.t("eventsBy", { role: fmt.t(`role_${event.role}`) }) : null].filter(Boolean).join(" · ");
    return h(
      "tr",
      { "data-kind": event.kind, "data-event-id": event.id, class: open.has(event.id) ? "open" : null },
      h("td", { class: "time-col", title: event.at }, fmt.dateTime(Date.parse(event.at))),
      h("td", { class: "key-col", "data-label": fmt.t("eventsKey") }, key),
      h("td", { class: "model-col", "data-label": fmt.t("eventsModel") }, event.model ?? "—"),
      h("td", { class: "kind-col" }, h("span", { class: `kind kind-${event.kind}` }, fmt.t(`kind_${event.kind}`))),
      h("td", { class: "num http-col", "data-label": fmt.t("colHttp") }, event.status ?? ""),
      h("td", { class: "message-col" }, h("div", { class: "message" }, message)),
    );
  }

  function render(events) {
    if (events.length === 0) {
      view.events.replaceChildren(h("p", { class: "empty" }, fmt.t("eventsEmpty")));
    } else {
      view.events.replaceChildren(
        h(
          "table",
          { class: "grid events-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["colTime", "eventsKey", "eventsModel", "eventsKind", "colHttp", "colMessage"].map((label) => h("th", { scope: "col" }, fmt.t(label))),
            ),
          ),
          h("tbody", {}, events.map(row)),
        ),
      );
    }
    view.eventPager.replaceChildren(
      h("button", { type: "button", class: "button small", "data-events-page": "newest", disabled: before === null }, fmt.t("eventsNewest")),
      h("button", { type: "button", class: "button small", "data-events-page": "older", disabled: next === null }, fmt.t("eventsOlder")),
    );
  }

  async function load() {
    const path = withQuery("/api/events", { limit: PAGE_SIZE, before, ...filter });
    try {
      const body = await getJson(path);
      next = body.next ?? null;
      render(body.events ?? []);
    } catch (error) {
      if (reloadIfSignedOut(error)) return;
      status(fmt.t("refreshFailed", { error: error.message }), true);
    }
  }

  /**
   * One load at a time. A filter changed while one runs (an auto-refresh, say) loads again
   * once it ends: that load asked with the old filters, and its answer must not be the last word.
   */
  function reload() {
    if (loading !== null) {
      changedWhileLoading = true;
      return loading;
    }
    loading = load().finally(() => {
      loading = null;
      if (changedWhileLoading) {
        changedWhileLoading = false;
        void reload();
      }
    });
    return loading;
  }

  function restart() {
    before = null;
    status("", false);
    return reload();
  }

  async function keyFilterChanged() {
    const text = form.elements.key.value.trim();
    if (text === "") {
      filter.key = "";
      return restart();
    }
    let key;
    try {
      key = await ctx.findKey(text);
    } catch (error) {
      status(fmt.t("refreshFailed", { error: error.message }), true);
      return;
    }
    if (key === null) {
      status(fmt.t("eventsKeyNotFound", { q: text }), true);
      return;
    }
    filter.key = key.id;
    return restart();
  }

  form.addEventListener("submit", (event) => event.preventDefault());
  form.elements.key.addEventListener("input", () => {
    clearTimeout(keyTimer);
    keyTimer = setTimeout(() => void keyFilterChanged(), 300);
  });
  for (const name of ["model", "kind"]) {
    form.elements[name].addEventListener("change", () => {
      filter[name] = form.elements[name].value;
      void restart();
    });
  }
  view.events.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-event-id]");
    if (row === null || String(window.getSelection?.() ?? "") !== "") return;
    const id = row.getAttribute("data-event-id");
    if (!open.delete(id)) open.add(id);
    row.classList.toggle("open", open.has(id));
  });
  view.eventPager.addEventListener("click", (event) => {
    const button = event.target.closest("[data-events-page]");
    if (button === null) return;
    before = button.getAttribute("data-events-page") === "older" ? next : null;
    void reload();
  });

  return {
    /** The newest page follows the proxy; an older page the user is reading stays put. */
    refresh() {
      return before === null ? reload() : Promise.resolve();
    },
    /** Offers every model the page knows of in the model filter, keeping the choice. */
    knownModels(models) {
      const select = form.elements.model;
      const have = new Set([...select.options].map((option) => option.value));
      for (const model of [...models].sort()) {
        if (!have.has(model)) select.append(h("option", { value: model }, model));
      }
    },
    /** "This key's events" in a key's detail. */
    showKey(id, label) {
      form.elements.key.value = label;
      filter.key = id;
      view.eventsPanel.scrollIntoView({ block: "start" });
      return restart();
    },
  };
}

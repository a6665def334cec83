// One card per pool key: its masked form and position, its status, today's models.
// Marked models (exhausted, cooling) sort first and open to show the upstream's reason.

import { h } from "./dom.client.js";
import { statusLabel } from "./summary.client.js";

/** Models shown per key before "Show n more": a key can have served dozens. */
const VISIBLE_MODELS = 6;
const STATE_ORDER = { exhausted: 0, cooling: 1, ok: 2 };

/** The ids of what the user opened, so a refresh re-renders it open. */
export const toggleId = {
  reason: (keyId, model) => `reason:${keyId}:${model}`,
  disabled: (keyId) => `disabled:${keyId}`,
  more: (keyId) => `more:${keyId}`,
};

function sortedModels(models) {
  return Object.entries(models).sort(
    ([nameA, a], [nameB, b]) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.requests - a.requests || nameA.localeCompare(nameB),
  );
}

function keyTotals(models) {
  const totals = { requests: 0, promptTokens: 0, outputTokens: 0 };
  for (const [, stats] of models) {
    totals.requests += stats.requests;
    totals.promptTokens += stats.promptTokens;
    totals.outputTokens += stats.outputTokens;
  }
  return totals;
}

/** A ticking "time left"; app.client.js refreshes every [data-until] once a second. */
function timeLeft(until, fmt, now) {
  return h("span", { class: "left", "data-until": until }, fmt.left(Date.parse(until) - now()));
}

function reasonPanel(id, reason, until, fmt) {
  return h(
    "div",
    { class: "reason", id },
    h("p", { class: "reason-label" }, fmt.t("reasonHeading")),
    h("p", { class: "reason-text" }, reason || fmt.t("noReason")),
    until ? h("p", { class: "reason-until" }, fmt.t("reasonUntil", { time: fmt.dateTime(Date.parse(until)) })) : null,
  );
}

function stateCell(key, model, stats, panelId, open, fmt, now) {
  // A disabled key serves no model: "OK" next to its models would mislead.
  if (stats.state === "ok") {
    return h("td", { class: "state" }, key.status === "disabled" ? null : statusLabel("available", fmt.t("state_ok")));
  }
  const status = stats.state === "exhausted" ? "exhausted" : "cooling";
  const label = fmt.parts(`state_${stats.state}`, { left: stats.until ? timeLeft(stats.until, fmt, now) : "" });
  return h(
    "td",
    { class: "state" },
    h(
      "button",
      {
        type: "button",
        class: "mark",
        "data-toggle": toggleId.reason(key.id, model),
        "aria-expanded": String(open),
        "aria-controls": panelId,
      },
      statusLabel(status, label),
      h("span", { class: "chevron", "aria-hidden": "true" }),
    ),
  );
}

function modelRows(key, name, stats, index, open, fmt, now) {
  const panelId = `reason-${key.id}-${index}`;
  const expanded = stats.state !== "ok" && open.has(toggleId.reason(key.id, name));
  const row = h(
    "tr",
    { class: `model state-${stats.state}`, "data-model": name },
    h("th", { scope: "row", class: "model-name" }, name),
    h("td", { class: "num", "data-label": fmt.t("colRequests") }, fmt.int(stats.requests)),
    h("td", { class: "num", "data-label": fmt.t("colIn"), title: fmt.int(stats.promptTokens) }, fmt.compact(stats.promptTokens)),
    h("td", { class: "num", "data-label": fmt.t("colOut"), title: fmt.int(stats.outputTokens) }, fmt.compact(stats.outputTokens)),
    stateCell(key, name, stats, panelId, expanded, fmt, now),
  );
  if (!expanded) return [row];
  return [row, h("tr", { class: "reason-row" }, h("td", { colspan: "5" }, reasonPanel(panelId, stats.reason, stats.until, fmt)))];
}

function modelTable(key, models, open, fmt, now) {
  return h(
    "table",
    { class: "models" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, fmt.t("colModel")),
        h("th", { scope: "col", class: "num" }, fmt.t("colRequests")),
        h("th", { scope: "col", class: "num" }, fmt.t("colIn")),
        h("th", { scope: "col", class: "num" }, fmt.t("colOut")),
        h("th", { scope: "col", class: "state" }, fmt.t("colState")),
      ),
    ),
    h(
      "tbody",
      {},
      models.map(([name, stats], index) => modelRows(key, name, stats, index, open, fmt, now)),
    ),
  );
}

function keyStatus(key, open, fmt) {
  const label = statusLabel(key.status, fmt.t(`status_${key.status}`));
  if (key.status !== "disabled") return h("span", { class: "key-status" }, label);
  return h(
    "button",
    {
      type: "button",
      class: "mark key-status",
      "data-toggle": toggleId.disabled(key.id),
      "aria-expanded": String(open),
      "aria-controls": `disabled-${key.id}`,
      title: fmt.t("disabledReasonToggle"),
    },
    label,
    h("span", { class: "chevron", "aria-hidden": "true" }),
  );
}

function keyCard(key, open, fmt, now) {
  const models = sortedModels(key.models);
  const totals = keyTotals(models);
  const showAll = open.has(toggleId.more(key.id));
  const visible = showAll ? models : models.slice(0, VISIBLE_MODELS);
  const disabledOpen = key.status === "disabled" && open.has(toggleId.disabled(key.id));
  return h(
    "article",
    { class: `key key-${key.status}`, "data-position": key.position, "aria-label": fmt.t("keyPosition", { n: key.position }) },
    h(
      "header",
      { class: "key-head" },
      h("span", { class: "position" }, `#${key.position}`),
      h("code", { class: "masked" }, key.masked),
      keyStatus(key, disabledOpen, fmt),
      h(
        "span",
        { class: "key-totals" },
        fmt.t("keyTotals", {
          requests: fmt.int(totals.requests),
          in: fmt.compact(totals.promptTokens),
          out: fmt.compact(totals.outputTokens),
        }),
      ),
    ),
    disabledOpen ? reasonPanel(`disabled-${key.id}`, key.disabledReason, null, fmt) : null,
    models.length === 0 ? h("p", { class: "empty" }, fmt.t("noRequestsToday")) : modelTable(key, visible, open, fmt, now),
    models.length > VISIBLE_MODELS
      ? h(
          "button",
          { type: "button", class: "more", "data-toggle": toggleId.more(key.id), "aria-expanded": String(showAll) },
          showAll ? fmt.t("showLess") : fmt.t("showMore", { n: models.length - VISIBLE_MODELS }),
        )
      : null,
  );
}

/** @param {Set<string>} open toggle ids the user opened */
export function renderKeys(container, data, open, fmt, now) {
  container.replaceChildren(...data.keys.map((key) => keyCard(key, open, fmt, now)));
}

// One key's models today, as its detail in the key table shows them. Marked models
// (exhausted, cooling) sort first; clicking anywhere on such a row, not only its mark,
// opens the upstream's reason.

import { h } from "./dom.client.js";
import { statusLabel } from "./summary.client.js";

const STATE_ORDER = { exhausted: 0, cooling: 1, ok: 2 };

/** The ids of what the user opened, so a refresh re-renders it open. */
export const toggleId = {
  reason: (keyId, model) => `reason:${keyId}:${model}`,
  detail: (keyId) => `detail:${keyId}`,
};

export function sortedModels(models) {
  return Object.entries(models).sort(
    ([nameA, a], [nameB, b]) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.requests - a.requests || nameA.localeCompare(nameB),
  );
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
    // The whole row opens the reason; the mark inside stays the keyboard's way to it.
    { class: `model state-${stats.state}`, "data-model": name, "data-row-toggle": stats.state === "ok" ? null : toggleId.reason(key.id, name) },
    h("th", { scope: "row", class: "model-name" }, name),
    h("td", { class: "num", "data-label": fmt.t("colRequests") }, fmt.int(stats.requests)),
    h("td", { class: "num", "data-label": fmt.t("colIn"), title: fmt.int(stats.promptTokens) }, fmt.compact(stats.promptTokens)),
    h("td", { class: "num", "data-label": fmt.t("colOut"), title: fmt.int(stats.outputTokens) }, fmt.compact(stats.outputTokens)),
    stateCell(key, name, stats, panelId, expanded, fmt, now),
  );
  if (!expanded) return [row];
  return [row, h("tr", { class: "reason-row" }, h("td", { colspan: "5" }, reasonPanel(panelId, stats.reason, stats.until, fmt)))];
}

/** @param {Set<string>} open toggle ids the user opened */
export function modelTable(key, models, open, fmt, now) {
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

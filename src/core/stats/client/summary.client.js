// The cards at the top: today's totals, the keys by status, the countdown to the reset.

import { h } from "./dom.client.js";

export const KEY_STATUSES = ["available", "cooling", "exhausted", "disabled"];

function card(name, title, ...body) {
  return h("article", { class: `card card-${name}` }, h("h2", { class: "card-title" }, title), ...body);
}

/** A status word with its marker shape: the colour is never the only cue. */
export function statusLabel(status, text) {
  return h("span", { class: `status status-${status}` }, h("span", { class: "marker", "aria-hidden": "true" }), text);
}

export function renderSummary(container, data, fmt, now) {
  const { totals } = data;
  const reset = Date.parse(data.nextResetAt);
  container.replaceChildren(
    card(
      "requests",
      fmt.t("requestsToday"),
      h("p", { class: "big", "data-testid": "total-requests" }, fmt.int(totals.requests)),
      h("p", { class: "sub" }, fmt.t("quotaDay", { day: data.quotaDay })),
    ),
    card(
      "tokens",
      fmt.t("tokensToday"),
      h("p", { class: "big", title: fmt.int(totals.promptTokens + totals.outputTokens) }, fmt.compact(totals.promptTokens + totals.outputTokens)),
      h("p", { class: "sub" }, fmt.t("tokensInOut", { in: fmt.compact(totals.promptTokens), out: fmt.compact(totals.outputTokens) })),
    ),
    card(
      "keys",
      fmt.t("keysHeading"),
      h("p", { class: "big" }, fmt.t("keysTotal", { n: fmt.int(totals.keys.total) })),
      h(
        "ul",
        { class: "status-counts", title: fmt.t("keysNote") },
        KEY_STATUSES.map((status) =>
          h(
            "li",
            { "data-status": status },
            statusLabel(status, [h("span", { class: "count" }, fmt.int(totals.keys[status])), " ", fmt.t(`status_${status}`)]),
          ),
        ),
      ),
    ),
    card(
      "reset",
      fmt.t("nextReset"),
      h("p", { class: "big", "data-countdown": data.nextResetAt }, fmt.countdown(reset - now())),
      h("p", { class: "sub" }, fmt.t("nextResetAt", { time: fmt.shortClock(reset) })),
    ),
  );
}

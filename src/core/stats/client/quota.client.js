// What the pool can still do today, per model (from /api/stats `capacity`).

import { h } from "./dom.client.js";

function dailyLine(capacity, fmt) {
  if (capacity.dailyLimit === null) return fmt.t("quotaUnknown", { used: fmt.int(capacity.requestsToday) });
  const line = fmt.t("quotaLeft", { left: fmt.int(capacity.remainingToday), limit: fmt.int(capacity.dailyLimit) });
  // Groups not taught yet add quota nobody can count: say the figure is a lower bound.
  return capacity.groupsWithDailyLimit < capacity.groups
    ? `${line} ${fmt.t("quotaPartial", { known: fmt.int(capacity.groupsWithDailyLimit), groups: fmt.int(capacity.groups) })}`
    : line;
}

function minuteLine(capacity, fmt, now) {
  if (capacity.keysUsableNow === 0 && capacity.nextFreeAt) {
    return fmt.t("quotaNextFree", { time: fmt.left(Date.parse(capacity.nextFreeAt) - now()) });
  }
  return capacity.minuteRemaining === null ? "" : fmt.t("quotaMinute", { n: fmt.int(capacity.minuteRemaining) });
}

/** One line per model: "N of M requests left today" (or "limit not yet known"), and the headroom now. */
export function renderCapacity(container, data, fmt, now) {
  const models = Object.entries(data.capacity ?? {}).sort(([a], [b]) => a.localeCompare(b));
  container.hidden = models.length === 0;
  container.replaceChildren(
    h("h2", { class: "card-title" }, fmt.t("quotaHeading")),
    h(
      "ul",
      { class: "capacity-list" },
      models.map(([model, capacity]) =>
        h(
          "li",
          { "data-model": model },
          h("code", { class: "capacity-model" }, model),
          h("span", { class: "capacity-day" }, dailyLine(capacity, fmt)),
          h("span", { class: "capacity-minute" }, minuteLine(capacity, fmt, now)),
        ),
      ),
    ),
  );
}

// The first thing the page answers: is the pool healthy? One row per model used today
// (or marked), from /api/stats `models`: how many keys can serve it now, how many wait,
// what it served, and when the next waiting key frees up.

import { h, svg } from "./dom.client.js";

const SEGMENTS = ["available", "cooling", "exhausted", "disabled"];

export function healthRows(data) {
  return Object.entries(data.models)
    .map(([model, row]) => ({ model, ...row }))
    .sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
}

function bar(row, fmt) {
  const total = SEGMENTS.reduce((sum, name) => sum + row[name], 0) || 1;
  let x = 0;
  return svg(
    "svg",
    { class: "health-bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", role: "img", "aria-label": fmt.t("healthBar", row) },
    SEGMENTS.map((name) => {
      const width = (row[name] / total) * 100;
      const rect = width > 0 ? svg("rect", { class: `seg-${name}`, x, y: 0, width, height: 10 }) : null;
      x += width;
      return rect;
    }),
  );
}

function count(row, name, fmt) {
  return h("td", { class: `num count-${name}`, "data-label": fmt.t(`status_${name}`), "data-zero": row[name] === 0 ? "" : null }, fmt.int(row[name]));
}

function nextFree(row, fmt, now) {
  if (row.nextFreeAt === undefined || row.cooling + row.exhausted === 0) return "—";
  return h("span", { class: "left", "data-until": row.nextFreeAt }, fmt.left(Date.parse(row.nextFreeAt) - now()));
}

export function renderHealth(container, data, fmt, now) {
  const rows = healthRows(data);
  if (rows.length === 0) {
    container.replaceChildren(h("p", { class: "empty" }, fmt.t("healthEmpty")));
    return;
  }
  const head = [
    h("th", { scope: "col" }, fmt.t("colModel")),
    h("th", { scope: "col", class: "bar-col" }, h("span", { class: "visually-hidden" }, fmt.t("keysHeading"))),
    SEGMENTS.map((name) => h("th", { scope: "col", class: "num" }, fmt.t(`status_${name}`))),
    h("th", { scope: "col", class: "num" }, fmt.t("colRequests")),
    h("th", { scope: "col", class: "num" }, fmt.t("colTokens")),
    h("th", { scope: "col", class: "num" }, fmt.t("colNextFree")),
  ];
  container.replaceChildren(
    h(
      "table",
      { class: "grid health" },
      h("thead", {}, h("tr", {}, head)),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            { "data-model": row.model, class: row.available === 0 ? "short" : null },
            h("th", { scope: "row", class: "model-name" }, row.model),
            h("td", { class: "bar-col" }, bar(row, fmt)),
            SEGMENTS.map((name) => count(row, name, fmt)),
            h("td", { class: "num", "data-label": fmt.t("colRequests") }, fmt.int(row.requests)),
            h(
              "td",
              { class: "num", "data-label": fmt.t("colTokens"), title: fmt.int(row.promptTokens + row.outputTokens) },
              fmt.compact(row.promptTokens + row.outputTokens),
            ),
            h("td", { class: "num next-free", "data-label": fmt.t("colNextFree") }, nextFree(row, fmt, now)),
          ),
        ),
      ),
    ),
  );
}

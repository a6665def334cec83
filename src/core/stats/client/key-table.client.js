// The pool as a compact table: one row per key (position, masked key, status, source,
// project group, requests today, last use, last event), sortable by its headers, one page at a time.
// A row opens the key's detail underneath: why it is disabled, its last check, its
// models today with Google's reasons, and (for admins) what can be done to it.

import { h } from "./dom.client.js";
import { modelTable, sortedModels, toggleId } from "./keys.client.js";
import { statusLabel } from "./summary.client.js";

const COLUMNS = [
  { label: "colPosition", sort: "position", class: "num pos" },
  { label: "colKey", sort: "masked", class: "key-col" },
  { label: "colStatus", sort: "status", class: "status-col" },
  { label: "colSource", class: "source-col" },
  { label: "colGroup", sort: "group", class: "group-col" },
  { label: "colRequestsToday", sort: "requests", class: "num requests-col" },
  { label: "colLastUsed", sort: "lastUsed", class: "used-col" },
  { label: "colLastEvent", class: "event-col" },
];

function headerCell(column, query, fmt) {
  const label = fmt.t(column.label);
  if (column.sort === undefined) return h("th", { scope: "col", class: column.class }, label);
  const active = query.sort === column.sort;
  return h(
    "th",
    { scope: "col", class: column.class, "aria-sort": active ? (query.order === "desc" ? "descending" : "ascending") : null },
    h("button", { type: "button", class: "sort", "data-sort": column.sort, title: fmt.t("sortBy", { column: label }) }, label),
  );
}

function sourceText(key, fmt) {
  if (key.source === "runtime") return fmt.t("source_runtime", { date: key.addedAt ? fmt.date(Date.parse(key.addedAt)) : "" });
  return fmt.t("source_env");
}

function groupCell(key, fmt) {
  if (key.group === undefined) return h("td", { class: "group-col", "data-label": fmt.t("colGroup"), title: fmt.t("groupNoneTitle") }, fmt.t("groupNone"));
  return h("td", { class: "group-col", "data-label": fmt.t("colGroup"), title: key.group }, key.group);
}

function lastEventText(event, fmt, now) {
  return [fmt.t(`kind_${event.kind}`), event.model, fmt.ago(Date.parse(event.at), now())].filter(Boolean).join(" · ");
}

function keyRow(key, expanded, ctx) {
  const { fmt, now } = ctx;
  const detailId = `detail-${key.id}`;
  const disabledReason = key.disabled?.reason ?? key.disabledReason;
  return h(
    "tr",
    { class: `key-row key-${key.status}`, "data-key-id": key.id, "data-position": key.position, "data-row-toggle": toggleId.detail(key.id) },
    h(
      "td",
      { class: "num pos" },
      h(
        "button",
        {
          type: "button",
          class: "row-toggle",
          "data-toggle": toggleId.detail(key.id),
          "aria-expanded": String(expanded),
          "aria-controls": detailId,
          "aria-label": fmt.t("keyDetails", { n: key.position }),
        },
        h("span", { class: "chevron", "aria-hidden": "true" }),
        `#${key.position}`,
      ),
    ),
    h("td", { class: "key-col" }, h("code", { class: "masked" }, key.masked)),
    h("td", { class: "status-col", title: disabledReason ?? null }, statusLabel(key.status, fmt.t(`status_${key.status}`))),
    h("td", { class: "source-col" }, sourceText(key, fmt)),
    groupCell(key, fmt),
    h("td", { class: "num requests-col", "data-label": fmt.t("colRequestsToday") }, fmt.int(key.requestsToday)),
    h(
      "td",
      { class: "used-col", "data-label": fmt.t("colLastUsed"), title: key.lastUsedAt ? fmt.dateTime(Date.parse(key.lastUsedAt)) : null },
      key.lastUsedAt ? fmt.ago(Date.parse(key.lastUsedAt), now()) : fmt.t("never"),
    ),
    h(
      "td",
      { class: "event-col", "data-label": fmt.t("colLastEvent"), title: key.lastEvent?.message ?? null },
      key.lastEvent ? lastEventText(key.lastEvent, fmt, now) : "—",
    ),
  );
}

function disabledPanel(key, fmt) {
  const reason = key.disabled?.reason ?? key.disabledReason;
  if (key.status !== "disabled" && key.disabled === undefined) return null;
  const by = key.disabled?.by;
  return h(
    "div",
    { class: "reason disabled-reason" },
    h("p", { class: "reason-label" }, by ? fmt.t(`disabledBy_${by}`) : fmt.t("disabledReasonToggle")),
    h("p", { class: "reason-text" }, reason || fmt.t("noReason")),
    key.disabled?.at ? h("p", { class: "reason-until" }, fmt.dateTime(Date.parse(key.disabled.at))) : null,
  );
}

function actionButton(action, key, fmt, danger = false) {
  const label = fmt.t(`action${action[0].toUpperCase()}${action.slice(1)}`);
  return h(
    "button",
    {
      type: "button",
      class: `button small${danger ? " danger" : ""}`,
      "data-action": action,
      "data-key-id": key.id,
      "data-masked": key.masked,
      "data-group": key.group ?? "",
      "data-admin": "",
    },
    label,
  );
}

function adminActions(key, fmt) {
  // An API_KEYS key's group is the secret's: the page offers no change it would undo.
  const runtime = key.source === "runtime";
  return [
    key.status === "disabled" ? actionButton("enable", key, fmt) : actionButton("disable", key, fmt),
    actionButton("verify", key, fmt),
    runtime ? actionButton("group", key, fmt) : null,
    runtime ? actionButton("delete", key, fmt, true) : h("span", { class: "hint" }, `${fmt.t("envKeyHint")} ${fmt.t("envGroupHint")}`),
  ];
}

function keyDetail(key, ctx) {
  const { fmt, now, open, admin } = ctx;
  const models = sortedModels(key.models);
  const verification = key.verification;
  return h(
    "tr",
    { class: "detail-row" },
    h(
      "td",
      { colspan: String(COLUMNS.length) },
      h(
        "div",
        { class: "detail", id: `detail-${key.id}` },
        h(
          "div",
          { class: "detail-head" },
          h("span", {}, fmt.t("detailSource", { source: sourceText(key, fmt) })),
          key.group === undefined ? null : h("span", { class: "detail-group" }, fmt.t("detailGroup", { group: key.group })),
          verification
            ? h(
                "span",
                { class: `verification outcome-${verification.outcome}`, title: verification.message ?? null },
                fmt.t("verifiedLine", { time: fmt.dateTime(Date.parse(verification.at)), outcome: fmt.t(`outcome_${verification.outcome}`) }),
              )
            : null,
          h("button", { type: "button", class: "button small quiet", "data-events-key": key.id, "data-events-label": `#${key.position}` }, fmt.t("keyEvents")),
        ),
        disabledPanel(key, fmt),
        admin ? h("div", { class: "detail-actions" }, adminActions(key, fmt)) : null,
        models.length === 0 ? h("p", { class: "empty" }, fmt.t("noRequestsToday")) : modelTable(key, models, open, fmt, now),
      ),
    ),
  );
}

/**
 * @param page `{ total, offset, limit, keys }` as GET /api/keys answers
 * @param ctx `{ fmt, now, open, admin }`
 */
export function renderKeyTable(container, pager, page, query, ctx) {
  const { fmt, open } = ctx;
  if (page.keys.length === 0) {
    container.replaceChildren(h("p", { class: "empty" }, fmt.t("noKeysMatch")));
  } else {
    container.replaceChildren(
      h(
        "table",
        { class: "grid key-table" },
        h("thead", {}, h("tr", {}, COLUMNS.map((column) => headerCell(column, query, fmt)))),
        h(
          "tbody",
          {},
          page.keys.map((key) => {
            const expanded = open.has(toggleId.detail(key.id));
            return expanded ? [keyRow(key, true, ctx), keyDetail(key, ctx)] : keyRow(key, false, ctx);
          }),
        ),
      ),
    );
  }
  const from = page.total === 0 ? 0 : page.offset + 1;
  const to = page.offset + page.keys.length;
  pager.replaceChildren(
    h("span", { class: "page-range", "data-total": page.total }, fmt.t("pageRange", { from: fmt.int(from), to: fmt.int(to), total: fmt.int(page.total) })),
    h("button", { type: "button", class: "button small", "data-page": "prev", disabled: page.offset === 0 }, fmt.t("pagePrev")),
    h("button", { type: "button", class: "button small", "data-page": "next", disabled: to >= page.total }, fmt.t("pageNext")),
  );
}

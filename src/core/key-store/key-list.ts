import { NO_GROUP, type KeyListQuery } from "../admin-model";
import type { KeyListPage, KeyStats, KeyStatus } from "../stats-model";

// GET /api/keys: the key table one page at a time, filtered and sorted where the keys
// are, so a pool of thousands never crosses the wire whole.

// Worst first: what needs attention sorts to the top in ascending order.
const STATUS_ORDER: Record<KeyStatus, number> = { disabled: 0, exhausted: 1, cooling: 2, available: 3 };

/**
 * A search matches the masked suffix (`x7Q2`, `…x7Q2`, `AIza…x7Q2`), a position (`12`, `#12`),
 * an id prefix, or a part of the key's group name in any case (`acme` finds the keys of
 * `Acme-Prod`): an operator with many projects types the project's name. Plain substring
 * tests over the keys already in memory, so `%`, `_` or `.` in a search mean themselves.
 */
function matches(key: KeyStats, q: string): boolean {
  const text = q.trim();
  if (text === "") return true;
  const position = /^#?(\d+)$/.exec(text)?.[1];
  if (position !== undefined && key.position === Number(position)) return true;
  const lower = text.toLowerCase();
  if (key.id.startsWith(lower)) return true;
  if (key.group?.toLowerCase().includes(lower) === true) return true;
  const masked = key.masked.toLowerCase();
  return masked.endsWith(lower.replace(/^\.\.\./, "…")) || masked.includes(lower);
}

function compare(sort: KeyListQuery["sort"]): (a: KeyStats, b: KeyStats) => number {
  switch (sort) {
    case "position":
      return (a, b) => a.position - b.position;
    case "status":
      return (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status];
    case "requests":
      return (a, b) => a.requestsToday - b.requestsToday;
    case "lastUsed":
      return (a, b) => (a.lastUsedAt ?? "").localeCompare(b.lastUsedAt ?? "");
    case "masked":
      return (a, b) => a.masked.localeCompare(b.masked);
    case "group":
      // Keys in no group sort after every group (before them in descending order).
      return (a, b) => (a.group ?? "\uffff").localeCompare(b.group ?? "\uffff");
  }
}

function inGroup(key: KeyStats, group: string | undefined): boolean {
  return group === undefined || (group === NO_GROUP ? key.group === undefined : key.group === group);
}

function groupsOf(keys: readonly KeyStats[]): KeyListPage["groups"] {
  const counts = new Map<string, number>();
  for (const key of keys) if (key.group !== undefined) counts.set(key.group, (counts.get(key.group) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([name, count]) => ({ name, keys: count }));
}

export function pageOfKeys(keys: readonly KeyStats[], query: KeyListQuery): KeyListPage {
  const filtered = keys.filter(
    (key) => (query.status === undefined || key.status === query.status) && inGroup(key, query.group) && matches(key, query.q ?? ""),
  );
  const order = compare(query.sort);
  const direction = query.order === "desc" ? -1 : 1;
  // Ties keep pool order, whichever direction, so paging is stable.
  filtered.sort((a, b) => order(a, b) * direction || a.position - b.position);
  return {
    total: filtered.length,
    offset: query.offset,
    limit: query.limit,
    keys: filtered.slice(query.offset, query.offset + query.limit),
    groups: groupsOf(keys),
  };
}

// Which keys the table shows: a status filter, a search, a sort and a page. The proxy's
// GET /api/keys does this server-side (a pool of 2,000 keys never travels whole); an
// older proxy without it gets the same query answered here from /api/stats `keys[]`.

import { ApiError, getJson, withQuery } from "./api.client.js";

export const PAGE_SIZE = 50;
/** The largest page GET /api/keys gives; bulk actions walk the filter's pages in these. */
const MAX_PAGE = 500;
const STATUS_ORDER = { available: 0, cooling: 1, exhausted: 2, disabled: 3 };

export function requestsToday(key) {
  if (typeof key.requestsToday === "number") return key.requestsToday;
  return Object.values(key.models).reduce((sum, stats) => sum + stats.requests, 0);
}

/** What the search box matches: a position (`12`, `#12`), a masked key's ending, an id's start. */
function matchesSearch(key, q) {
  const wanted = q.trim().toLowerCase();
  if (wanted === "") return true;
  const position = /^#?(\d+)$/.exec(wanted);
  if (position !== null && key.position === Number(position[1])) return true;
  const tail = key.masked.toLowerCase().split("…").pop() ?? "";
  return tail.endsWith(wanted) || key.masked.toLowerCase().endsWith(wanted) || key.id.startsWith(wanted);
}

const COMPARE = {
  position: (a, b) => a.position - b.position,
  status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status],
  requests: (a, b) => requestsToday(a) - requestsToday(b),
  lastUsed: (a, b) => (Date.parse(a.lastUsedAt ?? "") || 0) - (Date.parse(b.lastUsedAt ?? "") || 0),
  masked: (a, b) => a.masked.localeCompare(b.masked),
};

/** The query answered from a full key list, as GET /api/keys answers it. */
export function localPage(keys, query, limit = PAGE_SIZE) {
  const compare = COMPARE[query.sort] ?? COMPARE.position;
  const direction = query.order === "desc" ? -1 : 1;
  const matching = keys
    .filter((key) => (query.status === "" || key.status === query.status) && matchesSearch(key, query.q))
    .sort((a, b) => direction * compare(a, b) || a.position - b.position);
  return { total: matching.length, offset: query.offset, limit, keys: matching.slice(query.offset, query.offset + limit) };
}

function apiQuery(query, offset, limit) {
  return withQuery("/api/keys", { status: query.status, q: query.q.trim(), sort: query.sort, order: query.order, offset, limit });
}

/**
 * Pages of keys from GET /api/keys. `serverSide` is null until the first answer, then
 * false for a proxy without that endpoint (whose pages the page cuts from keys[] itself).
 */
export function createKeySource() {
  const source = {
    serverSide: null,
    /** The page, or null when the proxy has no /api/keys. */
    async page(query, limit = PAGE_SIZE) {
      if (source.serverSide === false) return null;
      try {
        const page = await getJson(apiQuery(query, query.offset, limit));
        source.serverSide = true;
        return page;
      } catch (error) {
        // An older proxy has no such route: its catch-all wants a proxy token (401) or knows no route (404).
        if (!(error instanceof ApiError) || ![401, 404, 405].includes(error.status)) throw error;
        source.serverSide = false;
        return null;
      }
    },
    /** Every key the filter and search match, all pages: what a bulk action applies to. */
    async all(query) {
      const keys = [];
      for (let offset = 0; ; offset += MAX_PAGE) {
        const page = await getJson(apiQuery(query, offset, MAX_PAGE));
        keys.push(...page.keys);
        if (page.keys.length === 0 || keys.length >= page.total) return keys;
      }
    },
  };
  return source;
}

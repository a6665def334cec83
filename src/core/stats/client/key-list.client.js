// Which keys the table shows: a status filter, a search, a sort and a page, answered by
// the proxy (GET /api/keys), so a pool of 2,000 keys never travels whole to draw 50.

import { getJson, withQuery } from "./api.client.js";

export const PAGE_SIZE = 50;
/** The largest page GET /api/keys gives; bulk actions walk the filter's pages in these. */
const MAX_PAGE = 500;

function apiQuery(query, offset, limit) {
  return withQuery("/api/keys", { status: query.status, group: query.group, q: query.q.trim(), sort: query.sort, order: query.order, offset, limit });
}

/** One page of the table: `{ total, offset, limit, keys }`. */
export function keyPage(query, limit = PAGE_SIZE) {
  return getJson(apiQuery(query, query.offset, limit));
}

/** Every key the filter and search match, all pages: what a bulk action applies to. */
export async function allKeys(query) {
  const keys = [];
  for (let offset = 0; ; offset += MAX_PAGE) {
    const page = await getJson(apiQuery(query, offset, MAX_PAGE));
    keys.push(...page.keys);
    if (page.keys.length === 0 || keys.length >= page.total) return keys;
  }
}

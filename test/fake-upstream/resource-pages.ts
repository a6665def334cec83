// Page-token paging for resource lists. The token is an opaque offset, like Google's
// tokens are opaque; a token the fake did not issue is a 400, as on Google.

const MAX_PAGE_SIZE = 100;

export type Page<T> = { ok: true; items: T[]; nextPageToken?: string } | { ok: false };

function decodeOffset(token: string): number | null {
  const offset = Number(Buffer.from(token, "base64url").toString("utf8"));
  return Number.isInteger(offset) && offset >= 0 ? offset : null;
}

export function pageOf<T>(all: T[], query: URLSearchParams, defaultSize: number): Page<T> {
  const requested = Number(query.get("pageSize") ?? defaultSize);
  const size = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE_SIZE) : defaultSize;
  const token = query.get("pageToken");
  const offset = token === null || token === "" ? 0 : decodeOffset(token);
  if (offset === null) return { ok: false };
  const items = all.slice(offset, offset + size);
  const next = offset + size;
  return next < all.length ? { ok: true, items, nextPageToken: Buffer.from(String(next)).toString("base64url") } : { ok: true, items };
}

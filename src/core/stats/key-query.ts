import { EVENT_KINDS, NO_GROUP, type EventKind, type EventQuery, type KeyListQuery, type KeySort } from "../admin-model";

// Query strings of GET /api/keys and GET /api/events, checked: a typo gets a 400 that
// names the allowed values rather than a silently unfiltered answer.

const STATUSES = ["available", "cooling", "exhausted", "disabled"] as const;
const SORTS: readonly KeySort[] = ["position", "status", "requests", "lastUsed", "masked", "group"];
export const MAX_KEY_PAGE = 500;
export const MAX_EVENT_PAGE = 1000;

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function oneOf<T extends string>(raw: string | undefined, allowed: readonly T[], name: string): Parsed<T | undefined> {
  if (raw === undefined || raw === "") return { ok: true, value: undefined };
  const found = allowed.find((candidate) => candidate === raw);
  return found === undefined ? { ok: false, message: `${name} must be one of ${allowed.join(", ")}.` } : { ok: true, value: found };
}

function count(raw: string | undefined, fallback: number, min: number, max: number, name: string): Parsed<number> {
  if (raw === undefined || raw === "") return { ok: true, value: fallback };
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) return { ok: false, message: `${name} must be a whole number from ${min} to ${max}.` };
  return { ok: true, value };
}

export function parseKeyListQuery(params: URLSearchParams): Parsed<KeyListQuery> {
  const status = oneOf(params.get("status") ?? undefined, STATUSES, "status");
  const sort = oneOf(params.get("sort") ?? undefined, SORTS, "sort");
  const order = oneOf(params.get("order") ?? undefined, ["asc", "desc"] as const, "order");
  const offset = count(params.get("offset") ?? undefined, 0, 0, Number.MAX_SAFE_INTEGER, "offset");
  const limit = count(params.get("limit") ?? undefined, 100, 1, MAX_KEY_PAGE, "limit");
  if (!status.ok) return status;
  if (!sort.ok) return sort;
  if (!order.ok) return order;
  if (!offset.ok) return offset;
  if (!limit.ok) return limit;
  const q = params.get("q") ?? "";
  const group = params.get("group") ?? "";
  if (group.length > 200) return { ok: false, message: `group must be a group name, or "${NO_GROUP}" for the keys in no group.` };
  return {
    ok: true,
    value: {
      ...(status.value !== undefined && { status: status.value }),
      ...(q !== "" && { q }),
      ...(group !== "" && { group }),
      sort: sort.value ?? "position",
      order: order.value ?? "asc",
      offset: offset.value,
      limit: limit.value,
    },
  };
}

/** `?key=` of /api/events: whichever of the ways the page names a key; null when none fits. */
function eventKey(key: string): Pick<EventQuery, "keyId" | "position" | "masked"> | null {
  if (key === "") return {};
  if (/^[0-9a-f]{16}$/.test(key)) return { keyId: key };
  const position = /^#?(\d{1,7})$/.exec(key);
  if (position !== null) return { position: Number(position[1]) };
  // Typed by hand, the ellipsis is often three dots.
  const masked = key.replace("...", "…");
  if (/^[\x21-\x7e]{0,4}…[\x21-\x7e]{1,4}$/.test(masked)) return { masked };
  return null;
}

export function parseEventQuery(params: URLSearchParams): Parsed<EventQuery> {
  const limit = count(params.get("limit") ?? undefined, 100, 1, MAX_EVENT_PAGE, "limit");
  const kind = oneOf<EventKind>(params.get("kind") ?? undefined, EVENT_KINDS, "kind");
  if (!limit.ok) return limit;
  if (!kind.ok) return kind;
  const before = params.get("before") ?? "";
  if (before !== "" && !/^\d+$/.test(before)) return { ok: false, message: "before must be an event id (the `next` of a previous page)." };
  const key = eventKey(params.get("key") ?? "");
  if (key === null) {
    return { ok: false, message: "key must be a key id (16 hex digits), a position (12 or #12) or a masked key (AIza…x7Q2)." };
  }
  const model = params.get("model") ?? "";
  return {
    ok: true,
    value: {
      limit: limit.value,
      ...(before !== "" && { before }),
      ...key,
      ...(model !== "" && { model }),
      ...(kind.value !== undefined && { kind: kind.value }),
    },
  };
}

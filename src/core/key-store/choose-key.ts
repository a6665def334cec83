import type { AcquireRequest, Lease, Ownership } from "../key-pool";
import { nextQuotaReset } from "../pacific-time";
import type { Candidate, PoolState } from "./pool-state";
import { UNLIMITED, type QuotaAssessment } from "./quota-book";
import type { Recency } from "./recency";

/** The distinct keys a request is bound to, and whether all of that binding was only inferred from earlier use. */
export interface Binding {
  keys: string[];
  inferred: boolean;
}

/**
 * What binds a request: its own say-so (an upload session's key) and the recorded owners
 * of its resources, except owners only inferred from use when the request searches past them.
 */
export function bindingOf(request: AcquireRequest, owners: readonly Ownership[]): Binding {
  const keys = new Set<string>();
  let inferred = true;
  if (request.owner !== undefined) {
    keys.add(request.owner);
    inferred = false;
  }
  for (const owner of owners) {
    if (owner.inferred === true && request.searchInferred) continue;
    keys.add(owner.keyId);
    if (owner.inferred !== true) inferred = false;
  }
  return { keys: [...keys], inferred: keys.size > 0 && inferred };
}

/** What the quota counts say about a key for a model (quota-book.ts). */
export interface QuotaOracle {
  /** When the key's quota scope can take the next request, or null when it can now. */
  blockedUntil(keyId: string, model: string, now: number): number | null;
  /** The same and the share left in the scope's tightest known window (1 when none is known), from one lookup. */
  assess(keyId: string, model: string, now: number): QuotaAssessment;
}

interface Scored {
  id: string;
  position: number;
  room: number;
}

/**
 * A candidate with when it can next serve `model`: the end of its mark or of its quota
 * scope's known limit, whichever is later; null when it can now.
 */
function withQuota(row: Candidate, model: string | null, now: number, quota?: QuotaOracle): Candidate {
  const blocked = model === null || quota === undefined ? null : quota.blockedUntil(row.id, model, now);
  return blocked === null ? row : { ...row, until: Math.max(row.until ?? 0, blocked) };
}

/**
 * Whether `keyId` can serve a request for `model` now by chooseKey's own rule: still in the
 * pool and enabled, not marked for the model, its quota scope below every known limit.
 */
export function canServe(state: PoolState, keyId: string, model: string | null, now: number, quota?: QuotaOracle): boolean {
  const row = state.candidates(model, now).find((candidate) => candidate.id === keyId);
  return row !== undefined && withQuota(row, model, now, quota).until === null;
}

/**
 * The one key choice, shared by the Durable Object and every isolate's pool view: the
 * key that owns the request's resources, else the usable key with the most room left in
 * its tightest known quota window, the least recently used among equals. A key whose
 * scope reached a known limit counts as marked until the window frees a slot. Hands the
 * chosen key out, i.e. marks it used in `recency`.
 */
export function chooseKey(
  state: PoolState,
  recency: Recency,
  request: AcquireRequest,
  binding: Binding,
  now: number,
  quota?: QuotaOracle,
): Lease {
  const { keys: owners, inferred } = binding;
  const { model } = request;
  const candidates = state.candidates(model, now);
  const excluded = new Set(request.exclude);
  const resetAt = nextQuotaReset(now);

  if (owners.length > 1) return { keyId: null, cause: "mixed-owners", freeAt: null, resetAt };
  if (owners.length === 1) {
    const row = candidates.find((candidate) => candidate.id === owners[0]);
    if (row === undefined) return { keyId: null, cause: "owner-unavailable", freeAt: null, resetAt };
    const owner = withQuota(row, model, now, quota);
    if (owner.until !== null) return { keyId: null, cause: "exhausted", freeAt: owner.until, resetAt, pinned: true };
    if (excluded.has(owner.id)) return { keyId: null, cause: "all-tried", freeAt: null, resetAt, pinned: true };
    recency.touch(model, owner.id);
    return { keyId: owner.id, pinned: true, ...(inferred && { inferred }) };
  }

  const ticks = recency.ticks(model);
  const better = (a: Scored, b: Scored): boolean => {
    if (a.room !== b.room) return a.room > b.room;
    const aUsed = ticks.get(a.id) ?? -1;
    const bUsed = ticks.get(b.id) ?? -1;
    return aUsed !== bUsed ? aUsed < bUsed : a.position < b.position;
  };
  // One pass and one quota lookup per key: every request walks the whole pool here.
  let best: Scored | undefined;
  for (const row of candidates) {
    if (row.until !== null || excluded.has(row.id)) continue;
    const { until, room } = model === null || quota === undefined ? UNLIMITED : quota.assess(row.id, model, now);
    if (until !== null) continue;
    const scored = { id: row.id, position: row.position, room };
    if (best === undefined || better(scored, best)) best = scored;
  }
  if (best !== undefined) {
    recency.touch(model, best.id);
    return { keyId: best.id, pinned: false };
  }
  // No key can serve. Keys this request already tried count too: their marks say when to come back.
  const rows = candidates.map((row) => withQuota(row, model, now, quota));
  const marked = rows.filter((row) => row.until !== null);
  const freeAt = marked.length === 0 ? null : Math.min(...marked.map((row) => row.until ?? Infinity));
  const cause = marked.length > 0 ? "exhausted" : rows.length > 0 ? "all-tried" : state.keyCount > 0 ? "disabled" : "no-keys";
  return { keyId: null, cause, freeAt, resetAt };
}

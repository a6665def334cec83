// More demand than quota: every key has a per-minute and a per-day limit in the fake, and
// bursts of requests oversubscribe each minute window until the day's quota is gone.
// Ideal behaviour: every request that some key could still serve is served, and each
// key costs one upstream 429 per window kind (per minute, per day): the one that teaches
// the pool the limit. After the first window, no 429 is avoidable.

import type { FakeUpstream } from "../../test/fake-upstream/index.ts";
import { poolKeys } from "../../test/setup/test-keys.ts";
import type { BenchConfig } from "../lib/config.ts";
import { clientHeaders, generatePath, promptBody, QUOTA_MODEL } from "../lib/requests.ts";

export interface QuotaBurst {
  sent: number;
  served: number;
  /** What a perfect pool would serve: per key, min(per-minute limit, day left). */
  servable: number;
  upstream429s: number;
  /** The first 429 per key and window kind (per minute, per day): the one that teaches the limit. */
  teaching429s: number;
  /** Every other 429: the pool could have known. */
  avoidable429s: number;
  /** Keys that still had day quota: each may cost one 429 to learn its window is full. */
  allowed429s: number;
}

export interface QuotaResult {
  keys: number;
  perMinute: number;
  perDay: number;
  windowMs: number;
  sent: number;
  served: number;
  servable: number;
  /** served / servable. */
  servedRatio: number;
  upstream429s: number;
  allowed429s: number;
  teaching429s: number;
  avoidable429s: number;
  /** Avoidable 429s in the bursts after the first (target 0: by then every window kind was taught). */
  avoidableAfterFirst: number;
  /** 429s on a key whose previous upstream request (same model) was already a 429. */
  repeated429s: number;
  /** Of the 429s beyond the first per key and window: sent before the pool had surely been told. */
  inFlight429s: number;
  /** Sent after the pool had surely been told that key was out: avoidable. */
  late429s: number;
  clientStatuses: Record<string, number>;
  bursts: QuotaBurst[];
}

/** A 429 right after a 429 on the same key: the pool used a key it had been told was out. */
function repeated429s(upstream: FakeUpstream, model: string): number {
  const lastStatus = new Map<string, number | null>();
  let repeated = 0;
  for (const entry of upstream.log({ model }).requests) {
    const key = entry.apiKey ?? "";
    if (entry.status === 429 && lastStatus.get(key) === 429) repeated++;
    lastStatus.set(key, entry.status);
  }
  return repeated;
}

/** Sent with each client request; the proxy forwards it, so the fake's log links attempts. */
const REQUEST_HEADER = "x-bench-request";

/**
 * Sorts the 429s beyond each key's first in a window (a 429 more than windowMs after the
 * window's first starts a new one). The pool has surely been told a key is out once the
 * request that got its first 429 has made its next attempt (that attempt's acquire carried
 * the failure). Extra 429s sent before that moment raced the news; after it, they are late.
 */
function classify429s(upstream: FakeUpstream, model: string, windowMs: number): { inFlight: number; late: number } {
  const entries = upstream.log({ model }).requests;
  const attempts = new Map<string, typeof entries>();
  for (const entry of entries) {
    const id = entry.headers[REQUEST_HEADER] ?? `#${entry.id}`;
    attempts.set(id, [...(attempts.get(id) ?? []), entry]);
  }
  /** When the pool was surely told: the next attempt of the same client request. */
  const toldAt = new Map<number, number>();
  for (const list of attempts.values()) {
    list.forEach((entry, index) => toldAt.set(entry.id, list[index + 1]?.at ?? Number.POSITIVE_INFINITY));
  }
  const window = new Map<string, { at: number; toldAt: number }>();
  let inFlight = 0;
  let late = 0;
  for (const entry of entries) {
    if (entry.status !== 429) continue;
    const key = entry.apiKey ?? "";
    const first = window.get(key);
    if (first === undefined || entry.at - first.at > windowMs) {
      window.set(key, { at: entry.at, toldAt: toldAt.get(entry.id) ?? Number.POSITIVE_INFINITY });
    } else if (entry.at <= first.toldAt) {
      inFlight++;
    } else {
      late++;
    }
  }
  return { inFlight, late };
}

/**
 * Sorts each upstream 429 by the window that refused it, as the fake decides (the day
 * is checked first: a key whose served requests reached the per-day limit gets the
 * per-day 429), and keeps the first per key and kind as teaching. Returns the log ids.
 */
function teaching429Ids(upstream: FakeUpstream, model: string, perDay: number): Set<number> {
  const served = new Map<string, number>();
  const taught = new Set<string>();
  const teaching = new Set<number>();
  for (const entry of upstream.log({ model }).requests) {
    const key = entry.apiKey ?? "";
    if (entry.status === 200) served.set(key, (served.get(key) ?? 0) + 1);
    if (entry.status !== 429) continue;
    const kind = `${key}|${(served.get(key) ?? 0) >= perDay ? "day" : "minute"}`;
    if (taught.has(kind)) continue;
    taught.add(kind);
    teaching.add(entry.id);
  }
  return teaching;
}

function count429s(upstream: FakeUpstream, model: string): number {
  return upstream.log({ model }).requests.filter((entry) => entry.status === 429).length;
}

/** `model` names the scenario's quotas in the fake: a fresh one per proxy measured, so each starts with full quota. */
export async function measureQuota(upstream: FakeUpstream, proxyOrigin: string, config: BenchConfig, model = QUOTA_MODEL): Promise<QuotaResult> {
  const { quotaPerMinute: perMinute, quotaPerDay: perDay, quotaWindowMs: windowMs } = config;
  for (const key of poolKeys) upstream.setQuota({ key, model, perDay, perMinute: { limit: perMinute, windowMs } });
  // Each burst asks for a third more than all keys can give in one window.
  const burstSize = Math.ceil((poolKeys.length * perMinute * 4) / 3);
  const dayLeft = poolKeys.map(() => perDay);
  const clientStatuses: Record<string, number> = {};
  const bursts: QuotaBurst[] = [];

  for (let burst = 0; burst < config.quotaBursts; burst++) {
    const capacity = dayLeft.map((left) => Math.min(perMinute, left));
    const servable = Math.min(burstSize, capacity.reduce((sum, n) => sum + n, 0));
    const allowed429s = dayLeft.filter((left) => left > 0).length;
    dayLeft.forEach((left, index) => (dayLeft[index] = left - (capacity[index] ?? 0)));

    const before429s = count429s(upstream, model);
    const sinceId = upstream.log({ model }).requests.at(-1)?.id ?? 0;
    const statuses = await Promise.all(
      Array.from({ length: burstSize }, async (_, index) => {
        const response = await fetch(`${proxyOrigin}${generatePath(model)}`, {
          method: "POST",
          headers: { ...clientHeaders, [REQUEST_HEADER]: `${burst}-${index}` },
          body: promptBody,
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    for (const status of statuses) clientStatuses[status] = (clientStatuses[status] ?? 0) + 1;
    const teaching = teaching429Ids(upstream, model, perDay);
    const refused = upstream.log({ model }).requests.filter((entry) => entry.id > sinceId && entry.status === 429);
    const teaching429s = refused.filter((entry) => teaching.has(entry.id)).length;
    bursts.push({
      sent: burstSize,
      served: statuses.filter((status) => status === 200).length,
      servable,
      upstream429s: count429s(upstream, model) - before429s,
      allowed429s,
      teaching429s,
      avoidable429s: refused.length - teaching429s,
    });
    // Past the window (and so past the proxy's per-minute cooldown) before the next burst.
    if (burst < config.quotaBursts - 1) await new Promise((resolve) => setTimeout(resolve, windowMs + 500));
  }

  const sum = (pick: (burst: QuotaBurst) => number) => bursts.reduce((total, burst) => total + pick(burst), 0);
  return {
    keys: poolKeys.length,
    perMinute,
    perDay,
    windowMs,
    sent: sum((burst) => burst.sent),
    served: sum((burst) => burst.served),
    servable: sum((burst) => burst.servable),
    servedRatio: sum((burst) => burst.served) / Math.max(1, sum((burst) => burst.servable)),
    upstream429s: sum((burst) => burst.upstream429s),
    allowed429s: sum((burst) => burst.allowed429s),
    teaching429s: sum((burst) => burst.teaching429s),
    avoidable429s: sum((burst) => burst.avoidable429s),
    avoidableAfterFirst: bursts.slice(1).reduce((total, burst) => total + burst.avoidable429s, 0),
    repeated429s: repeated429s(upstream, model),
    ...(({ inFlight, late }) => ({ inFlight429s: inFlight, late429s: late }))(classify429s(upstream, model, windowMs)),
    clientStatuses,
    bursts,
  };
}

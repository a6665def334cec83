// Everything the fake saw, so tests can assert what the proxy sent upstream (which key,
// where the key travelled, whether the client hung up) without trusting the proxy's word.

import type { IncomingMessage } from "node:http";
import { REDACTED_MARKER } from "./types.ts";
import type { LogFilter, LogSnapshot, RequestLogEntry } from "./types.ts";

/** Bounds memory during long benchmark runs; counters stay exact beyond it. */
const MAX_ENTRIES = 50_000;
/** A header a test may send through the proxy to find its own requests in the log. */
export const TAG_HEADER = "x-fake-tag";
const CREDENTIAL_HEADERS = new Set(["authorization", "x-goog-api-key", "cookie", "proxy-authorization"]);

export function redactedQuery(url: URL): { query: Record<string, string>; keyInQuery: boolean } {
  const query: Record<string, string> = {};
  let keyInQuery = false;
  for (const [name, value] of url.searchParams) {
    if (name === "key") keyInQuery = true;
    query[name] = name === "key" ? REDACTED_MARKER : value;
  }
  return { query, keyInQuery };
}

export function redactedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = CREDENTIAL_HEADERS.has(name) ? REDACTED_MARKER : Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #successes = new Map<string, Map<string, number>>();
  #nextId = 1;
  /** Per tag: requests open right now and the most ever open at once. */
  #inFlight = new Map<string, { now: number; max: number }>();

  reset(): void {
    this.#entries = [];
    this.#successes.clear();
    this.#inFlight.clear();
  }

  /**
   * A tagged request arrived (its headers, before its body); returns what to call when
   * its connection is done with. How many a proxy holds open at once is its business
   * with the plan's connection limit, so the fake counts it exactly, not from timestamps.
   */
  opened(tag: string): () => void {
    const count = this.#inFlight.get(tag) ?? { now: 0, max: 0 };
    count.now++;
    count.max = Math.max(count.max, count.now);
    this.#inFlight.set(tag, count);
    return () => {
      count.now--;
    };
  }

  nextId(): number {
    return this.#nextId++;
  }

  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.splice(0, this.#entries.length - MAX_ENTRIES);
  }

  countSuccess(key: string, model: string): void {
    const byModel = this.#successes.get(key) ?? new Map<string, number>();
    byModel.set(model, (byModel.get(model) ?? 0) + 1);
    this.#successes.set(key, byModel);
  }

  /** A copy, so later mutation of live entries does not leak into a caller's assertions. */
  snapshot(filter: LogFilter = {}): Omit<LogSnapshot, "liveSessions"> {
    const requests = this.#entries
      .filter((entry) => filter.model === undefined || entry.model === filter.model)
      .filter((entry) => filter.key === undefined || entry.apiKey === filter.key)
      .filter((entry) => filter.tag === undefined || entry.headers[TAG_HEADER] === filter.tag)
      .map((entry) => structuredClone(entry));
    const successes: Record<string, Record<string, number>> = {};
    for (const [key, byModel] of this.#successes) {
      if (filter.key !== undefined && key !== filter.key) continue;
      for (const [model, count] of byModel) {
        if (filter.model !== undefined && model !== filter.model) continue;
        successes[key] = { ...successes[key], [model]: count };
      }
    }
    const maxInFlight = filter.tag === undefined ? undefined : (this.#inFlight.get(filter.tag)?.max ?? 0);
    return { requests, successes, ...(maxInFlight !== undefined && { maxInFlight }) };
  }
}

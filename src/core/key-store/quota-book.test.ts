import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { QuotaBook, type PendingSend, type QuotaEntry } from "./quota-book";

// An isolate loads the manager's counts into its own book and counts its own sends on top.
// On Node the manager lives in the same process and hands out its own entries, so the
// copy must share nothing that either side changes in place.

const NOW = Date.parse("2026-11-27T20:00:00Z");
const SCOPE = "key:a";
const MODEL = "gemini-2.5-flash";

describe("an isolate's copy of the manager's quota counts", () => {
  it("shares nothing with the manager's: counting on either side leaves the other as it was", () => {
    const manager = new QuotaBook();
    manager.learn(SCOPE, MODEL, [{ window: "rpm", value: 5 }, { window: "tpm", value: 1_000 }], NOW);
    manager.count(SCOPE, MODEL, NOW - 1_000, 10, NOW);
    const isolate = new QuotaBook();
    isolate.load(manager.entries(NOW, true));

    isolate.count(SCOPE, MODEL, NOW - 500, 20, NOW);
    expect(manager.get(SCOPE, MODEL)).toMatchObject({ dayRequests: 1, sends: [NOW - 1_000], tokens: [{ at: NOW - 1_000, tokens: 10 }] });

    manager.count(SCOPE, MODEL, NOW - 200, 30, NOW);
    expect(isolate.get(SCOPE, MODEL)).toMatchObject({
      dayRequests: 2,
      sends: [NOW - 1_000, NOW - 500],
      tokens: [
        { at: NOW - 1_000, tokens: 10 },
        { at: NOW - 500, tokens: 20 },
      ],
    });
    expect(isolate.get(SCOPE, MODEL)?.known).toEqual(manager.get(SCOPE, MODEL)?.known);
    expect(isolate.get(SCOPE, MODEL)?.known.rpm).not.toBe(manager.get(SCOPE, MODEL)?.known.rpm);
    expect(isolate.remaining(SCOPE, MODEL, NOW)).toEqual({ rpm: 3, tpm: 970 });
  });

  it("takes changed counts as copies too", () => {
    const manager = new QuotaBook();
    manager.learn(SCOPE, MODEL, [{ window: "rpm", value: 5 }], NOW);
    const isolate = new QuotaBook();
    isolate.load(manager.entries(NOW, true));
    manager.count(SCOPE, MODEL, NOW - 1_000, 10, NOW);
    isolate.update(manager.entries(NOW, true));
    isolate.count(SCOPE, MODEL, NOW - 500, 20, NOW);
    // A limit the isolate learns from a 429 rewrites its own entry, not the manager's.
    isolate.learn(SCOPE, MODEL, [{ window: "rpd", value: 50 }], NOW);
    expect(manager.get(SCOPE, MODEL)).toMatchObject({ dayRequests: 1, sends: [NOW - 1_000], limits: { rpm: 5 } });
    expect(manager.get(SCOPE, MODEL)?.limits.rpd).toBeUndefined();
  });
});

/**
 * When a scope frees a slot for a minute limit, the plain way: every send in the window
 * (counted and pending), oldest first; for rpm the limit-th newest, for tpm as many of the
 * oldest as must leave for the total to drop below the limit.
 */
function minuteFreeAt(entry: QuotaEntry, pending: readonly PendingSend[], now: number): number | null {
  const since = now - entry.windowMs;
  const all = [...entry.tokens, ...pending].filter((send) => send.at > since).sort((a, b) => a.at - b.at);
  let until: number | null = null;
  const later = (at: number) => (until = Math.max(until ?? at, at));
  const { rpm, tpm } = entry.limits;
  const oldest = rpm === undefined ? undefined : all[all.length - rpm];
  if (oldest !== undefined) later(oldest.at + entry.windowMs);
  let total = all.reduce((sum, send) => sum + send.tokens, 0);
  for (const send of all) {
    if (tpm === undefined || total < tpm) break;
    total -= send.tokens;
    later(send.at + entry.windowMs);
  }
  return until;
}

describe("assessing a scope, as choosing a key does for every key on every request", () => {
  it("frees a slot when the plain sorted count says so, below and at the minute limits, counted and pending sends alike", () => {
    const send = fc.record({ ago: fc.integer({ min: 0, max: 90_000 }), tokens: fc.integer({ min: 0, max: 400 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 2_000 }), fc.array(send, { maxLength: 10 }), fc.array(send, { maxLength: 4 }), (rpm, tpm, counted, sent) => {
        const book = new QuotaBook();
        book.set(SCOPE, MODEL, "rpm", rpm, NOW, [SCOPE], NOW);
        book.set(SCOPE, MODEL, "tpm", tpm, NOW, [SCOPE], NOW);
        for (const { ago, tokens } of [...counted].sort((a, b) => b.ago - a.ago)) book.count(SCOPE, MODEL, NOW - ago, tokens, NOW);
        const pending = sent.map(({ ago, tokens }) => ({ at: NOW - ago, tokens }));
        const entry = book.get(SCOPE, MODEL);
        if (entry === undefined) throw new Error("no entry");
        const { until, room } = book.assess(SCOPE, MODEL, NOW, pending);
        expect(until).toBe(minuteFreeAt(entry, pending, NOW));
        expect(until).toBe(book.blockedUntil(SCOPE, MODEL, NOW, pending));
        const inWindow = entry.sends.filter((at) => at > NOW - entry.windowMs).length + pending.filter((p) => p.at > NOW - entry.windowMs).length;
        const tokensUsed = entry.tokens.filter((t) => t.at > NOW - entry.windowMs).reduce((sum, t) => sum + t.tokens, 0);
        expect(room).toBeCloseTo(Math.max(0, Math.min(1, 1 - inWindow / rpm, 1 - tokensUsed / tpm)), 12);
      }),
      { numRuns: 300 },
    );
  });

  it("names no wait and full room for a scope without an entry", () => {
    expect(new QuotaBook().assess(SCOPE, MODEL, NOW)).toEqual({ until: null, room: 1 });
  });
});

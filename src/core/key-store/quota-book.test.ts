import { describe, expect, it } from "vitest";
import { QuotaBook } from "./quota-book";

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

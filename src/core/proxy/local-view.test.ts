import { describe, expect, it } from "vitest";
import type { QuotaEntry } from "../key-store/quota-book";
import { quotaDay } from "../pacific-time";
import { LocalView } from "./local-view";

// An isolate's view taking the manager's answers: a whole view, or when only counts changed
// since the stamp its call sent, just the quota entries counted since (key-store.ts view()).

const NOW = Date.parse("2026-11-27T20:00:00Z");
const keys = ["a", "b"].map((id, index) => ({ id, position: index + 1, disabled: false, scope: `key:${id}` }));

/** A scope's counts for model "m" with one request a minute allowed, `sends` in the window. */
function entry(scope: string, sends: number[]): QuotaEntry {
  return {
    scope,
    model: "m",
    limits: { rpm: 1 },
    known: { rpm: { value: 1, source: "set", at: NOW } },
    windowMs: 60_000,
    windowKnown: true,
    day: quotaDay(NOW),
    dayRequests: sends.length,
    sends,
    tokens: sends.map((at) => ({ at, tokens: 1 })),
  };
}

describe("a view taking the counts changed since its stamp", () => {
  it("replaces those entries, keeps the rest, and ignores counts older than its view or from another epoch", () => {
    const view = new LocalView();
    view.apply({ stamp: { epoch: "e", version: 1 }, view: { keys, marks: [], quota: [entry("key:a", []), entry("key:b", [])], disabled: {} } }, NOW);
    expect([view.stillServes("a", "m", NOW), view.stillServes("b", "m", NOW)]).toEqual([true, true]);

    view.apply({ stamp: { epoch: "e", version: 3 }, since: 1, quota: [entry("key:a", [NOW - 1_000])] }, NOW + 10);
    expect(view.stamp).toEqual({ epoch: "e", version: 3 });
    expect(view.age(NOW + 15)).toBe(5);
    // a's one request of the minute is spent; b's count was not in the answer and stands.
    expect([view.stillServes("a", "m", NOW + 20), view.stillServes("b", "m", NOW + 20)]).toEqual([false, true]);

    view.apply({ stamp: { epoch: "e", version: 2 }, since: 1, quota: [entry("key:b", [NOW - 1_000])] }, NOW + 30);
    view.apply({ stamp: { epoch: "restarted", version: 9 }, since: 3, quota: [entry("key:b", [NOW - 1_000])] }, NOW + 30);
    // Counts on top of a newer view than the one held: the view held may lack what came between.
    view.apply({ stamp: { epoch: "e", version: 7 }, since: 5, quota: [entry("key:b", [NOW - 1_000])] }, NOW + 30);
    expect(view.stamp).toEqual({ epoch: "e", version: 3 });
    expect(view.stillServes("b", "m", NOW + 40)).toBe(true);
  });

  it("asks for a whole view after it changed its copy itself, until one came", () => {
    const view = new LocalView();
    const whole = (version: number) => ({ stamp: { epoch: "e", version }, view: { keys, marks: [], quota: [entry("key:a", []), entry("key:b", [])], disabled: {} } });
    view.apply(whole(1), NOW);
    const failure = { keyId: "a", model: "m", fault: { kind: "quota-unknown", reason: "Resource exhausted" } } as const;
    view.learn(failure, NOW);
    expect(view.stillServes("a", "m", NOW)).toBe(false);
    // Counts would leave the learned mark standing however long the manager's is: not asked for.
    expect(view.stamp).toBeNull();
    view.apply({ stamp: { epoch: "e", version: 2 }, since: 1, quota: [entry("key:b", [])] }, NOW);
    expect(view.stamp).toBeNull();
    view.apply(whole(3), NOW);
    expect(view.stamp).toEqual({ epoch: "e", version: 3 });
    // Confirmed: the marks it lengthened go back to the manager's with the next whole view.
    view.confirm(failure);
    expect(view.stamp).toBeNull();
    view.apply(whole(4), NOW);
    expect(view.stillServes("a", "m", NOW)).toBe(true);
  });
});

describe("a key the isolate learned Google refuses", () => {
  const whole = (version: number) => ({ stamp: { epoch: "e", version }, view: { keys, marks: [], quota: [], disabled: {} } });
  const failure = { keyId: "a", model: "m", fault: { kind: "key-disabled", reason: "API key not valid" } } as const;
  const request = { model: "m", exclude: [] as string[] };

  it("stays out through a whole view taken before the manager recorded it, and the manager's word rules once it did", () => {
    const view = new LocalView();
    view.apply(whole(1), NOW);
    view.learn(failure, NOW);
    // A usage batch's answer the manager gave before it processed the failure.
    view.apply(whole(2), NOW + 1);
    for (let i = 0; i < 4; i++) expect(view.choose(request, { keys: [], inferred: false }, NOW + 2 + i).keyId).toBe("b");
    expect(view.stillServes("a", "m", NOW + 10)).toBe(false);

    // Recorded, then enabled again by an operator: the manager's views say so.
    view.confirm(failure);
    view.apply(whole(3), NOW + 20);
    expect(view.stillServes("a", "m", NOW + 21)).toBe(true);
  });
});

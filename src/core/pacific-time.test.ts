import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextQuotaReset, quotaDay, quotaDayStart } from "./pacific-time";

const at = (iso: string) => Date.parse(iso);

describe("Pacific quota days", () => {
  it("resets at 07:00 UTC in summer and 08:00 UTC in winter", () => {
    expect(new Date(nextQuotaReset(at("2026-07-15T12:00:00Z"))).toISOString()).toBe("2026-07-16T07:00:00.000Z");
    expect(new Date(nextQuotaReset(at("2026-12-15T12:00:00Z"))).toISOString()).toBe("2026-12-16T08:00:00.000Z");
  });

  it("names the Pacific date, not the UTC one", () => {
    expect(quotaDay(at("2026-07-16T06:59:59Z"))).toBe("2026-07-15");
    expect(quotaDay(at("2026-07-16T07:00:00Z"))).toBe("2026-07-16");
    expect(quotaDay(at("2026-12-16T07:30:00Z"))).toBe("2026-12-15");
  });

  it("gets the days around daylight-saving changes right", () => {
    // 2026-03-08: clocks spring forward (23-hour day); 2026-11-01: fall back (25-hour day).
    expect(new Date(quotaDayStart(at("2026-03-08T20:00:00Z"))).toISOString()).toBe("2026-03-08T08:00:00.000Z");
    expect(new Date(nextQuotaReset(at("2026-03-08T20:00:00Z"))).toISOString()).toBe("2026-03-09T07:00:00.000Z");
    expect(new Date(quotaDayStart(at("2026-11-01T20:00:00Z"))).toISOString()).toBe("2026-11-01T07:00:00.000Z");
    expect(new Date(nextQuotaReset(at("2026-11-01T20:00:00Z"))).toISOString()).toBe("2026-11-02T08:00:00.000Z");
  });

  it("treats midnight itself as the start of the new day", () => {
    const midnight = at("2026-12-16T08:00:00Z");
    expect(quotaDayStart(midnight)).toBe(midnight);
    expect(nextQuotaReset(midnight)).toBe(at("2026-12-17T08:00:00Z"));
  });

  it("answers every instant right in any order, though today's span is reused", () => {
    // Instants around midnights and DST changes, asked in random order: a stale cached
    // day would put some instant outside [start, end) or give start and end the wrong date.
    const edges = ["2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z"].map(at);
    const instant = fc.oneof(
      fc.integer({ min: at("2025-01-01T00:00:00Z"), max: at("2028-01-01T00:00:00Z") }),
      fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -2, max: 2 })).map(([edge, delta]) => edge + delta),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        for (const ms of instants) {
          const start = quotaDayStart(ms);
          const end = nextQuotaReset(ms);
          expect(start).toBeLessThanOrEqual(ms);
          expect(end).toBeGreaterThan(ms);
          expect([23, 24, 25]).toContain((end - start) / 3_600_000);
          expect(quotaDay(start)).toBe(quotaDay(ms));
          expect(quotaDay(end - 1)).toBe(quotaDay(ms));
          expect(quotaDay(end)).not.toBe(quotaDay(ms));
        }
      }),
    );
  });
});

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DAILY_RESET_UTC, nextDailyReset, scheduleDailyReset, type ResetLedger } from "../../src/node/daily-reset.ts";

// The Node server's daily reset fires when the Workers cron does (07:00 UTC, as
// wrangler.jsonc says), from a timer that is re-armed from the clock every day.

const at = (iso: string): number => Date.parse(iso);

afterEach(() => {
  vi.useRealTimers();
});

/** The ledger as the pool's file keeps it, in memory; `last` is what a previous run left. */
function ledger(last?: string): ResetLedger & { at: number | undefined } {
  const kept = { at: last === undefined ? undefined : at(last) };
  return Object.assign(kept, { last: () => kept.at, record: (time: number) => void (kept.at = time) });
}

describe("the next daily reset moment", () => {
  it("is the Workers cron's moment", () => {
    const wrangler = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../wrangler.jsonc"), "utf8");
    expect(wrangler).toContain(`"crons": ["${DAILY_RESET_UTC.minute} ${DAILY_RESET_UTC.hour} * * *"]`);
  });

  it("is today at 07:00 UTC before it, and tomorrow's at or after it", () => {
    expect(nextDailyReset(at("2026-07-10T06:59:59.999Z"))).toBe(at("2026-07-10T07:00:00.000Z"));
    expect(nextDailyReset(at("2026-07-10T07:00:00.000Z"))).toBe(at("2026-07-11T07:00:00.000Z"));
    expect(nextDailyReset(at("2026-07-10T23:30:00.000Z"))).toBe(at("2026-07-11T07:00:00.000Z"));
  });

  it("crosses month and year ends, and ignores daylight saving (the cron is in UTC)", () => {
    expect(nextDailyReset(at("2026-02-28T08:00:00Z"))).toBe(at("2026-03-01T07:00:00Z"));
    expect(nextDailyReset(at("2026-12-31T07:00:01Z"))).toBe(at("2027-01-01T07:00:00Z"));
    // The Sunday US clocks change: still 07:00 UTC.
    expect(nextDailyReset(at("2026-03-08T01:00:00Z"))).toBe(at("2026-03-08T07:00:00Z"));
    expect(nextDailyReset(at("2026-11-01T12:00:00Z"))).toBe(at("2026-11-02T07:00:00Z"));
  });
});

describe("the daily reset timer", () => {
  it("resets once at each moment, day after day, and not after it was stopped", () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-07-10T06:00:00Z"));
    const resets: string[] = [];
    const timer = scheduleDailyReset(() => resets.push(new Date().toISOString()), ledger());
    vi.advanceTimersByTime(3_600_000 - 1);
    expect(resets).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(resets).toEqual(["2026-07-10T07:00:00.000Z"]);
    vi.advanceTimersByTime(2 * 86_400_000);
    expect(resets).toEqual(["2026-07-10T07:00:00.000Z", "2026-07-11T07:00:00.000Z", "2026-07-12T07:00:00.000Z"]);
    timer.stop();
    vi.advanceTimersByTime(86_400_000);
    expect(resets).toHaveLength(3);
  });

  it("does not reset when its timer fires early, but waits for the moment", () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-07-10T06:00:00Z"));
    const resets: number[] = [];
    // A clock that runs 10 s behind the timers: the timer fires before the moment by the clock.
    let skew = 0;
    const timer = scheduleDailyReset(() => resets.push(Date.now() - skew), ledger(), () => Date.now() - skew);
    skew = 10_000;
    vi.advanceTimersByTime(3_600_000);
    expect(resets).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(resets).toEqual([at("2026-07-10T07:00:00Z")]);
    timer.stop();
  });

  it("catches up at start once when the server was down at the moment, however many days it missed", () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-07-12T09:30:00Z"));
    for (const last of ["2026-07-12T06:59:59Z", "2026-07-09T07:00:00Z"]) {
      const kept = ledger(last);
      const resets: number[] = [];
      const timer = scheduleDailyReset(() => resets.push(Date.now()), kept);
      expect(resets).toEqual([at("2026-07-12T09:30:00Z")]);
      expect(kept.at).toBe(at("2026-07-12T09:30:00Z"));
      // And the next day as usual, not once more for the moments it caught up on.
      vi.advanceTimersByTime(at("2026-07-13T07:00:00Z") - Date.now());
      expect(resets).toEqual([at("2026-07-12T09:30:00Z"), at("2026-07-13T07:00:00Z")]);
      timer.stop();
      vi.setSystemTime(at("2026-07-12T09:30:00Z"));
    }
  });

  it("does not reset at start when the last reset was at or after the most recent moment, nor on a first start", () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-07-12T09:30:00Z"));
    for (const last of ["2026-07-12T07:00:00Z", "2026-07-12T09:00:00Z", undefined]) {
      const kept = ledger(last);
      const resets: number[] = [];
      scheduleDailyReset(() => resets.push(Date.now()), kept).stop();
      expect(resets, String(last)).toEqual([]);
      // A first start only begins the record: a reset in mid-day would lift today's marks.
      expect(kept.at).toBe(last === undefined ? at("2026-07-12T09:30:00Z") : at(last));
    }
  });

  it("resets once when its timer fires hours late, as after the machine slept through the moment", () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-07-10T06:00:00Z"));
    const resets: number[] = [];
    const timer = scheduleDailyReset(() => resets.push(Date.now()), ledger("2026-07-10T06:00:00Z"));
    // Asleep: the clock jumps past two moments, then the overdue timer fires.
    vi.setSystemTime(at("2026-07-11T15:00:00Z"));
    vi.advanceTimersByTime(3_600_000);
    expect(resets).toEqual([at("2026-07-11T16:00:00Z")]);
    vi.advanceTimersByTime(at("2026-07-12T07:00:00Z") - Date.now() - 1);
    expect(resets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(resets).toEqual([at("2026-07-11T16:00:00Z"), at("2026-07-12T07:00:00Z")]);
    timer.stop();
  });
});

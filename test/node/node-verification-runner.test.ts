import { afterEach, describe, expect, it, vi } from "vitest";
import { verificationRunner } from "../../src/node/verification-runner.ts";

// The Node server's stand-in for the Durable Object's alarm: verification batches run one
// at a time, each when the previous one said the next is due.

afterEach(() => {
  vi.useRealTimers();
});

/** A runBatch that answers from `answers` in turn (then null), logging when each run starts. */
function batches(answers: ((now: number) => number | null)[]) {
  const runs: number[] = [];
  let release: (() => void) | undefined;
  let held = false;
  const runBatch = async (): Promise<number | null> => {
    runs.push(Date.now());
    if (held) await new Promise<void>((resolve) => (release = resolve));
    const answer = answers.shift();
    return answer === undefined ? null : answer(Date.now());
  };
  return {
    runs,
    runBatch,
    hold: () => (held = true),
    release: () => {
      held = false;
      release?.();
    },
  };
}

const tracked: Promise<unknown>[] = [];
const track = (run: Promise<unknown>): void => void tracked.push(run);

describe("the verification runner", () => {
  it("runs batch after batch while each says the next is due now, then rests", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const jobs = batches([(now) => now, (now) => now]);
    const runner = verificationRunner(jobs.runBatch, track);
    await runner.wake();
    await vi.runAllTimersAsync();
    expect(jobs.runs).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(jobs.runs).toHaveLength(3);
    runner.stop();
  });

  it("runs the next batch when it is due, not before", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const jobs = batches([(now) => now + 60_000]);
    const runner = verificationRunner(jobs.runBatch, track);
    await runner.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(jobs.runs).toEqual([1_000_000]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(jobs.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(jobs.runs).toEqual([1_000_000, 1_060_000]);
    runner.stop();
  });

  it("never runs two batches at once: a wake during a run gets one run after it", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const jobs = batches([]);
    const runner = verificationRunner(jobs.runBatch, track);
    jobs.hold();
    await runner.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(jobs.runs).toHaveLength(1);
    await runner.wake();
    await runner.wake();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(jobs.runs).toHaveLength(1);
    jobs.release();
    await vi.runAllTimersAsync();
    expect(jobs.runs).toHaveLength(2);
    runner.stop();
  });

  it("brings a run due later forward when woken, and runs nothing once stopped", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const jobs = batches([(now) => now + 3_600_000, (now) => now + 3_600_000]);
    const runner = verificationRunner(jobs.runBatch, track);
    await runner.wake();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(10_000);
    await runner.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(jobs.runs).toEqual([1_000_000, 1_010_000]);
    runner.stop();
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(jobs.runs).toHaveLength(2);
    await Promise.all(tracked);
  });
});

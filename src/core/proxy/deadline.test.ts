import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Deadline } from "./deadline";

// The request's one timer: each wait ends when it should, whatever waits came before, and
// a wait that follows a shorter-or-equal one keeps the running timer instead of a new one.

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("Deadline", () => {
  it("runs a wait once, when it ends", () => {
    const deadline = new Deadline(1_000);
    const expired = vi.fn();
    deadline.set(1_000, expired);
    vi.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it("keeps the timer for the next wait, and that wait still ends on time", () => {
    const deadline = new Deadline(1_000);
    const first = vi.fn();
    const second = vi.fn();
    const timers = vi.spyOn(globalThis, "setTimeout");
    deadline.set(1_000, first);
    vi.advanceTimersByTime(300);
    deadline.pause();
    deadline.set(1_000, second);
    expect(timers).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();
  });

  it("ends a wait longer than its step in steps, and a shorter wait set later before the running timer", () => {
    const deadline = new Deadline(1_000);
    const long = vi.fn();
    deadline.set(5_000, long);
    vi.advanceTimersByTime(4_999);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(long).toHaveBeenCalledTimes(1);

    const short = vi.fn();
    deadline.set(5_000, vi.fn());
    vi.advanceTimersByTime(100);
    deadline.set(200, short);
    vi.advanceTimersByTime(199);
    expect(short).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(short).toHaveBeenCalledTimes(1);
  });

  it("runs nothing once paused or cleared", () => {
    const deadline = new Deadline(1_000);
    const paused = vi.fn();
    deadline.set(500, paused);
    deadline.pause();
    vi.advanceTimersByTime(2_000);
    const cleared = vi.fn();
    deadline.set(500, cleared);
    deadline.clear();
    vi.advanceTimersByTime(2_000);
    expect(paused).not.toHaveBeenCalled();
    expect(cleared).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

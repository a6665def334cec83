import { nextQuotaReset } from "../pacific-time";
import type { KeyFault } from "../upstream-outcome";

export type MarkKind = "cooling" | "exhausted";

export interface Mark {
  kind: MarkKind;
  until: number;
  strikes: number;
}

/** A bare 429 says nothing about how long to wait: start short, double on repeats. */
const UNKNOWN_QUOTA_BASE_MS = 10_000;
const UNKNOWN_QUOTA_MAX_MS = 10 * 60_000;

/**
 * How a quota fault marks a key for one model, given the mark it may already have.
 * Returns `previous` itself when the fault changes nothing.
 */
export function markFor(
  fault: Exclude<KeyFault, { kind: "key-disabled" }>,
  previous: Mark | undefined,
  now: number,
): Mark {
  // A 429 that arrives while the key is still marked answers a request sent before the
  // mark: under concurrency every request in flight on that key brings one. It is not a
  // new strike, and it never shortens the wait (a per-minute straggler must not cut a
  // per-day mark short); it only lengthens it when Google names a longer wait.
  if (previous !== undefined && previous.until > now) {
    if (fault.kind === "quota-unknown") return previous;
    const fresh = freshMark(fault, now);
    return fresh.until > previous.until ? { ...fresh, strikes: previous.strikes } : previous;
  }
  return fault.kind === "quota-unknown" ? unknownQuotaMark(previous, now) : freshMark(fault, now);
}

function freshMark(fault: Exclude<KeyFault, { kind: "key-disabled" | "quota-unknown" }>, now: number): Mark {
  switch (fault.kind) {
    case "quota-day":
      return { kind: "exhausted", until: nextQuotaReset(now), strikes: 1 };
    case "quota-minute":
      return { kind: "cooling", until: now + fault.retryAfterMs, strikes: 1 };
  }
}

/** A bare 429 after the previous wait ended: start short, double each time it repeats. */
function unknownQuotaMark(previous: Mark | undefined, now: number): Mark {
  const strikes = (previous?.strikes ?? 0) + 1;
  const wait = Math.min(UNKNOWN_QUOTA_BASE_MS * 2 ** (strikes - 1), UNKNOWN_QUOTA_MAX_MS);
  return { kind: "cooling", until: now + wait, strikes };
}

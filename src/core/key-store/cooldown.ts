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

/** How a quota fault marks a key for one model, given the mark it may already have. */
export function markFor(
  fault: Exclude<KeyFault, { kind: "key-disabled" }>,
  previous: Mark | undefined,
  now: number,
): Mark {
  switch (fault.kind) {
    case "quota-day":
      return { kind: "exhausted", until: nextQuotaReset(now), strikes: 1 };
    case "quota-minute":
      return { kind: "cooling", until: now + fault.retryAfterMs, strikes: 1 };
    case "quota-unknown": {
      const strikes = (previous?.strikes ?? 0) + 1;
      const wait = Math.min(UNKNOWN_QUOTA_BASE_MS * 2 ** (strikes - 1), UNKNOWN_QUOTA_MAX_MS);
      return { kind: "cooling", until: now + wait, strikes };
    }
  }
}

import { classifyUpstream } from "../../../src/core/upstream-outcome.ts";
import { apiKeyInvalid, quotaExceeded, type ErrorReply } from "../../fake-upstream/error-bodies.ts";
import type { StoppedProxy } from "../../setup/key-store-file.ts";
import { writeKeyStore } from "./backfill-history.ts";

// A big pool the way it looks after a busy day: today's usage on most keys, one model
// out of quota on most of them, another cooling on a few, some keys Google calls
// invalid. Driving that through the proxy would take thousands of requests whose key
// choice the test cannot steer, so this writes it into a *stopped* proxy's storage (its
// Durable Object's or the Node server's SQLite file) through the key store's own
// recordUsage and recordFailure, with faults classified from Google's exact error bodies
// by the proxy's own classifier.

export interface PoolPlan {
  /** Positions (1-based) out of the day's quota for `exhaustedModel`. */
  exhausted: readonly number[];
  exhaustedModel: string;
  /** Positions waiting out a per-minute limit on `coolingModel`. */
  cooling: readonly number[];
  coolingModel: string;
  /** Positions Google refuses (API_KEY_INVALID). */
  invalid: readonly number[];
}

const MODELS = ["gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-2.0-flash", "gemma-3-27b-it"] as const;

function fault(reply: ErrorReply) {
  const outcome = classifyUpstream(reply.status, JSON.stringify(reply.body));
  if (outcome.kind !== "quota-day" && outcome.kind !== "quota-minute" && outcome.kind !== "key-disabled") {
    throw new Error(`unexpected classification ${outcome.kind}`);
  }
  return outcome;
}

export async function seedPool(stopped: StoppedProxy, keys: readonly string[], plan: PoolPlan, now = Date.now()): Promise<void> {
  await writeKeyStore(stopped, keys, (store, ids) => {
    const idAt = (position: number): string => ids[position - 1]!;
    // Usage that varies by key and model, deterministically (the screenshot only changes with the page).
    for (const [index, keyId] of ids.entries()) {
      MODELS.forEach((model, modelIndex) => {
        const requests = (index * 7 + modelIndex * 13) % (modelIndex === 0 ? 23 : 9);
        if (requests === 0) return;
        const at = now - ((index * 37 + modelIndex * 11) % 240) * 60_000;
        store.recordUsage(
          Array.from({ length: requests }, () => ({ keyId, model, promptTokens: 900 + (index % 7) * 150, outputTokens: 220 + (index % 5) * 60, at })),
          at,
        );
      });
    }
    const day = fault(quotaExceeded({ kind: "day", model: plan.exhaustedModel, limit: 100, retryDelay: "26s" }));
    for (const position of plan.exhausted) store.recordFailure({ keyId: idAt(position), model: plan.exhaustedModel, fault: day }, now);
    const minute = fault(quotaExceeded({ kind: "minute", model: plan.coolingModel, limit: 10, retryDelay: "1800s" }));
    for (const position of plan.cooling) store.recordFailure({ keyId: idAt(position), model: plan.coolingModel, fault: minute }, now);
    const invalid = fault(apiKeyInvalid());
    for (const position of plan.invalid) store.recordFailure({ keyId: idAt(position), model: null, fault: invalid }, now);
  });
}

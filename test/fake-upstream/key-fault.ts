// What Google says about a key before it looks at the request: invalid, suspended, or a
// scripted fault. Shared by model requests, resource routes and Live sessions.

import { apiKeyInvalid, consumerSuspended, ipAddressBlocked, referrerBlocked } from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";
import type { FakeState } from "./control-state.ts";
import { outcomeReply } from "./outcomes.ts";

/** Consumes the key's next scripted outcome (model-specific first) when the key itself is fine. */
export function keyFault(state: FakeState, key: string, model: string | null): ErrorReply | null {
  const config = state.keyConfig(key);
  if (config?.invalid === true) return apiKeyInvalid();
  if (config?.suspended === true) return consumerSuspended(key);
  if (config?.restricted === "referrer") return referrerBlocked();
  if (config?.restricted === "ip") return ipAddressBlocked();
  const scripted = state.takeScripted(key, model);
  return scripted === undefined ? null : outcomeReply(scripted, key, model);
}

// The error a scripted outcome stands for. Quota kinds use free-tier limits typical of
// gemini-2.5-flash so the bodies look like the ones Google really sends.

import {
  apiKeyInvalid,
  badRequest,
  bareQuotaExhausted,
  consumerSuspended,
  internalError,
  locationUnsupported,
  overloaded,
  projectDenied,
  quotaExceeded,
} from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";
import type { ScriptedOutcome } from "./types.ts";

export const defaultScriptedRetryDelay = "26s";

export function outcomeReply(outcome: ScriptedOutcome, key: string, model: string | null): ErrorReply | null {
  const reply = standardReply(outcome, key, model);
  if (reply === null) return reply;
  return {
    ...reply,
    ...(outcome.headers !== undefined && { headers: outcome.headers }),
    ...(outcome.message !== undefined && { body: { error: { ...reply.body.error, message: outcome.message } } }),
  };
}

function standardReply(outcome: ScriptedOutcome, key: string, model: string | null): ErrorReply | null {
  const retryDelay = outcome.retryDelay ?? defaultScriptedRetryDelay;
  const quotaModel = model ?? "gemini-2.5-flash";
  switch (outcome.kind) {
    case "ok":
      return null;
    case "quota-day":
      return quotaExceeded({ kind: "day", model: quotaModel, limit: 250, retryDelay });
    case "quota-minute":
      return quotaExceeded({ kind: "minute", model: quotaModel, limit: 10, retryDelay });
    case "quota-tokens":
      return quotaExceeded({ kind: "tokens", model: quotaModel, limit: 250_000, retryDelay });
    case "bare-429":
      return bareQuotaExhausted();
    case "invalid-key":
      return apiKeyInvalid();
    case "suspended":
      return consumerSuspended(key);
    case "denied-project":
      return projectDenied();
    case "server-error":
      return internalError();
    case "overloaded":
      return overloaded();
    case "location":
      return locationUnsupported();
    case "bad-request":
      return badRequest();
  }
}

// The checks every authenticated API request passes before its handler answers, in the
// order Google appears to apply them: key status, (scripted faults), model, body, the
// resources the body names, quota.

import { invalidJson, modelNotFound } from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { parseJson, sleep } from "./http-io.ts";
import { keyFault } from "./key-fault.ts";
import { isNonexistentModel } from "./model-name.ts";
import { sendError } from "./respond.ts";
import { promptTokenCount } from "./tokens.ts";
import type { ModelShape } from "./types.ts";

export interface GateInput {
  key: string;
  /** Bare model name, or null for routes without one (model lists). */
  model: string | null;
  /** Action named in Google's 404 message, e.g. "generateContent". */
  action: string;
  /** Generate-type requests are metered against quotas. */
  metered: boolean;
  /** Checks the parsed body before quota is drawn (e.g. that referenced files belong to the caller). */
  check?: (body: unknown) => ErrorReply | null;
}

export interface Admitted {
  body: unknown;
  shape: ModelShape;
  promptTokens: number;
}

/** Answers the request itself and returns null when any check fails. */
export async function admit(ex: Exchange, input: GateInput): Promise<Admitted | null> {
  const { key, model, action, metered } = input;
  const shape = model === null ? { model: "" } : ex.state.shapeOf(model);
  await sleep(shape.firstByteDelayMsByKey?.[key] ?? shape.firstByteDelayMs ?? ex.state.keyConfig(key)?.delayMs ?? 0, ex.signal);
  if (ex.signal.aborted) return null;

  const fail = (reply: ErrorReply): null => {
    sendError(ex, reply);
    return null;
  };
  const fault = keyFault(ex.state, key, model);
  if (fault !== null) return fail(fault);
  if (model !== null && isNonexistentModel(model)) return fail(modelNotFound(model, ex.entry.apiVersion ?? "v1beta", action));
  const parsed = parseJson(ex.body);
  if (!parsed.ok) return fail(invalidJson());
  const bodyFault = input.check?.(parsed.value) ?? null;
  if (bodyFault !== null) return fail(bodyFault);
  const promptTokens = promptTokenCount(parsed.value);
  if (metered && model !== null) {
    const project = ex.state.keyConfig(key)?.project;
    const quotaFault = ex.state.quota.admit({ key, project, model, promptTokens });
    if (quotaFault !== null) return fail(quotaFault);
  }
  return { body: parsed.value, shape, promptTokens };
}

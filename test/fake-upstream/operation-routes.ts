// Long-running model operations (Veo's :predictLongRunning): the operation belongs to the
// project of the key that started it, and is polled at /{v}/models/{m}/operations/{id}.

import { envelope, type ErrorReply } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import type { Owned } from "./owned-store.ts";
import { authorize } from "./resource-gate.ts";
import { newResourceId } from "./resource-ids.ts";
import { sendError, sendJson } from "./respond.ts";

export interface StoredOperation extends Owned {
  model: string;
}

const OPERATION_PATH = /^\/(v1beta|v1|v1alpha)\/models\/([A-Za-z0-9._-]+)\/operations\/([A-Za-z0-9_-]+)$/;

export function isOperationPath(path: string): boolean {
  return OPERATION_PATH.test(path);
}

function operationName(model: string, id: string): string {
  return `models/${model}/operations/${id}`;
}

function operationNotFound(name: string): ErrorReply {
  return envelope(404, "NOT_FOUND", `Operation ${name} not found.`);
}

/** Starts an operation for the caller's project and answers with its name, not done yet. */
export function startOperation(ex: Exchange, key: string, project: string, model: string): void {
  const id = newResourceId();
  ex.state.resources.operations.add({ id, project, ownerKey: key, createdAt: Date.now(), model });
  sendJson(ex, 200, { name: operationName(model, id), metadata: {}, done: false });
}

/** GET of an operation: done, with a video, for its project; not found for any other. */
export function handleOperation(ex: Exchange): void {
  const [, apiVersion, model = "", id = ""] = OPERATION_PATH.exec(ex.url.pathname) ?? [];
  ex.entry.dialect = "native";
  ex.entry.apiVersion = apiVersion ?? null;
  ex.entry.action = "getOperation";
  const caller = authorize(ex);
  if (caller === null) return;
  const name = operationName(model, id);
  const operation = ex.state.resources.operations.owned(id, caller.project);
  if (operation === undefined || operation.model !== model) return sendError(ex, operationNotFound(name));
  sendJson(ex, 200, {
    name,
    done: true,
    response: {
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
      generateVideoResponse: { generatedSamples: [{ video: { uri: `${ex.url.origin}/v1beta/files/${id}:download?alt=media` } }] },
    },
  });
}

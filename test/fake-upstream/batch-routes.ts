// Batch mode: creation on the model routes (:batchGenerateContent, :asyncBatchEmbedContent)
// returns a pending long-running operation; /{v}/batches/{id} get, list, :cancel and
// delete follow it. A batch succeeds batchDelayMs after creation (see FakeConfig).

import { badRequest, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { batchJson, batchState } from "./batch-records.ts";
import type { BatchKind, StoredBatch } from "./batch-records.ts";
import { inlineRequests, parseJsonl, settleBatch } from "./batch-results.ts";
import { field } from "./json-access.ts";
import { sendError, sendJson } from "./respond.ts";
import { batchDenied, invalidPageToken } from "./resource-errors.ts";
import type { Caller } from "./resource-gate.ts";
import { newResourceId } from "./resource-ids.ts";
import { pageOf } from "./resource-pages.ts";
import type { ResourceRoute } from "./resource-routes.ts";
import { requestOrigin } from "./request-origin.ts";

export const BATCH_ACTIONS: ReadonlyMap<string, BatchKind> = new Map([
  ["batchGenerateContent", "generate"],
  ["asyncBatchEmbedContent", "embed"],
]);

export interface BatchCreate {
  caller: Caller;
  model: string;
  kind: BatchKind;
  apiVersion: string;
  /** The request body, already checked for foreign files by the model gate. */
  body: unknown;
}

/** POST /{v}/models/{m}:batchGenerateContent and :asyncBatchEmbedContent. */
export function createBatch(ex: Exchange, input: BatchCreate): void {
  const { caller, model, kind, apiVersion, body } = input;
  const batch = field(body, "batch");
  const inputConfig = field(batch, "inputConfig");
  const inlined = inlineRequests(inputConfig);
  const fileName = field(inputConfig, "fileName") ?? field(inputConfig, "file_name");
  const inputFileId = typeof fileName === "string" ? fileName.replace(/^files\//, "") : null;
  if ((inlined === null) === (inputFileId === null)) {
    return sendError(ex, badRequest("batch.inputConfig needs exactly one of requests or fileName."));
  }
  const { resources } = ex.state;
  const inputFile = inputFileId === null ? undefined : resources.files.owned(inputFileId, caller.project);
  const now = Date.now();
  const stored: StoredBatch = {
    id: newResourceId(),
    project: caller.project,
    ownerKey: caller.key,
    createdAt: now,
    kind,
    model,
    inlined,
    inputFileId,
    requestCount: inlined?.length ?? (inputFile === undefined ? 0 : parseJsonl(inputFile.bytes).length),
    origin: requestOrigin(ex.req),
    apiVersion,
    completeAt: now + resources.config.batchDelayMs,
  };
  const displayName = field(batch, "displayName");
  if (typeof displayName === "string") stored.displayName = displayName;
  resources.batches.add(stored);
  sendJson(ex, 200, batchJson(stored));
}

export function handleBatches(ex: Exchange, route: ResourceRoute): void {
  const { state } = ex;
  const { batches, config } = state.resources;
  const { method, id, verb, caller } = route;
  if (id === undefined) {
    if (method !== "GET") return sendError(ex, routeNotFound(ex.url.pathname));
    const page = pageOf(batches.list(caller.project), ex.url.searchParams, config.listPageSize);
    if (!page.ok) return sendError(ex, invalidPageToken());
    for (const batch of page.items) settleBatch(state, batch);
    const body: { operations: unknown[]; nextPageToken?: string } = { operations: page.items.map(batchJson) };
    if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
    return sendJson(ex, 200, body);
  }
  const batch = batches.owned(id, caller.project);
  if (batch === undefined) return sendError(ex, batchDenied(id));
  settleBatch(state, batch);
  if (verb === "cancel" && method === "POST") {
    if (batchState(batch) === "BATCH_STATE_PENDING") {
      batch.cancelledAt = Date.now();
      batch.endedAt = batch.cancelledAt;
    }
    return sendJson(ex, 200, {});
  }
  if (verb !== undefined) return sendError(ex, routeNotFound(ex.url.pathname));
  if (method === "GET") return sendJson(ex, 200, batchJson(batch));
  if (method === "DELETE") {
    batches.delete(id);
    return sendJson(ex, 200, {});
  }
  sendError(ex, routeNotFound(ex.url.pathname));
}

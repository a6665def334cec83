// Google's OpenAI-compatible Batch API under /v1beta/openai/batches: create from an input
// file uploaded with the native Files API, retrieve and cancel. What Google documents
// (ai.google.dev/gemini-api/docs/openai#batch), nothing more: no list, no Files API here.
// A batch made this way is the same stored batch the native routes see, owned by the
// creating key's project; another project's key gets Google's 403, array-wrapped.

import { badRequest, invalidJson, missingBearer, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { openAiApiKey } from "./auth.ts";
import type { StoredBatch } from "./batch-records.ts";
import { batchState } from "./batch-records.ts";
import { settleBatch } from "./batch-results.ts";
import { parseJson } from "./http-io.ts";
import { field } from "./json-access.ts";
import { keyFault } from "./key-fault.ts";
import { inputModel, openAiBatchJson, parseOpenAiJsonl } from "./openai-batch-records.ts";
import { requestOrigin } from "./request-origin.ts";
import { batchDenied, fileDenied } from "./resource-errors.ts";
import { newResourceId } from "./resource-ids.ts";
import { sendError, sendJson } from "./respond.ts";

const ENDPOINTS = new Set(["/v1/chat/completions", "/v1/embeddings"]);
/** The member path takes the batch's name unencoded, as the Python SDK (Google's example) sends it. */
const MEMBER = /^batches\/batches\/([A-Za-z0-9_-]+)(\/cancel)?$/;

export function isOpenAiBatchPath(rest: string): boolean {
  return rest === "batches" || rest.startsWith("batches/");
}

/** Key status and scripted faults, scripted per model: the model the batch's input names. */
function refused(ex: Exchange, key: string, model: string | null): boolean {
  ex.entry.model = model;
  const fault = keyFault(ex.state, key, model);
  if (fault === null) return false;
  sendError(ex, fault);
  return true;
}

function create(ex: Exchange, key: string): void {
  const { state } = ex;
  const { files, batches, config } = state.resources;
  const parsed = parseJson(ex.body);
  if (!parsed.ok) return sendError(ex, invalidJson());
  const body = parsed.value;
  const inputFile = field(body, "input_file_id");
  const endpoint = field(body, "endpoint");
  const window = field(body, "completion_window");
  if (typeof inputFile !== "string" || inputFile === "") return sendError(ex, badRequest("input_file_id is required."));
  if (typeof endpoint !== "string" || !ENDPOINTS.has(endpoint)) {
    return sendError(ex, badRequest("endpoint must be /v1/chat/completions or /v1/embeddings."));
  }
  if (typeof window !== "string") return sendError(ex, badRequest("completion_window is required."));
  const fileId = inputFile.replace(/^files\//, "");
  const known = files.find(fileId);
  const lines = known === undefined ? [] : parseOpenAiJsonl(known.bytes);
  const model = inputModel(lines);
  if (refused(ex, key, model)) return;
  const project = state.projectOf(key);
  if (files.owned(fileId, project) === undefined) return sendError(ex, fileDenied(fileId));
  const now = Date.now();
  const batch: StoredBatch = {
    id: newResourceId(),
    project,
    ownerKey: key,
    createdAt: now,
    kind: endpoint === "/v1/embeddings" ? "embed" : "generate",
    model: model ?? "",
    inlined: null,
    inputFileId: fileId,
    requestCount: lines.length,
    origin: requestOrigin(ex.req),
    apiVersion: "v1beta",
    completeAt: now + config.batchDelayMs,
    openai: { endpoint, completionWindow: window, metadata: field(body, "metadata") ?? null },
  };
  batches.add(batch);
  sendJson(ex, 200, openAiBatchJson(batch));
}

function member(ex: Exchange, key: string, id: string, cancel: boolean): void {
  const { state } = ex;
  const { batches } = state.resources;
  const known = batches.find(id);
  if (refused(ex, key, known === undefined || known.model === "" ? null : known.model)) return;
  const batch = batches.owned(id, state.projectOf(key));
  if (batch === undefined) return sendError(ex, batchDenied(id));
  settleBatch(state, batch);
  if (cancel && batchState(batch) === "BATCH_STATE_PENDING") {
    batch.cancelledAt = Date.now();
    batch.endedAt = batch.cancelledAt;
  }
  sendJson(ex, 200, openAiBatchJson(batch));
}

/** `rest` is the path after /v1beta/openai/. */
export function handleOpenAiBatches(ex: Exchange, rest: string): void {
  const { entry, req, url } = ex;
  const method = req.method ?? "GET";
  const found = MEMBER.exec(rest);
  const cancel = found?.[2] !== undefined;
  entry.action = rest === "batches" ? "batches.create" : cancel ? "batches.cancel" : "batches.get";
  const expected = rest === "batches" || cancel ? "POST" : "GET";
  if ((rest !== "batches" && found === null) || method !== expected) return sendError(ex, routeNotFound(url.pathname));
  const key = openAiApiKey(req);
  if (key === undefined) return sendError(ex, missingBearer());
  entry.apiKey = key;
  if (found === null) return create(ex, key);
  member(ex, key, found[1] ?? "", cancel);
}

// Google's native Generative Language routes: /{v}/models, /{v}/models/{m} and
// /{v}/models/{m}:{action} for v1beta, v1 and v1alpha.

import { bearerOnNativeRoute, missingKey, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { nativeApiKey } from "./auth.ts";
import { BATCH_ACTIONS, createBatch } from "./batch-routes.ts";
import { generateResponse, newResponseId, streamResponses } from "./gemini-payloads.ts";
import { field } from "./json-access.ts";
import { describeModel, listPage } from "./model-catalog.ts";
import { admit } from "./model-gate.ts";
import type { Admitted } from "./model-gate.ts";
import { bareModelName } from "./model-name.ts";
import { defaultChunkCount, defaultReplyText, embeddingFor, splitIntoChunks } from "./reply-content.ts";
import { startOperation } from "./operation-routes.ts";
import { referenceFault } from "./resource-refs.ts";
import { sendChunkedJson, sendCutJson, sendError, sendJson } from "./respond.ts";
import { geminiSseEvent, jsonArrayPieces } from "./sse.ts";
import { sendStream } from "./stream-writer.ts";
import { promptText } from "./tokens.ts";

const NATIVE_PATH = /^\/(v1beta|v1|v1alpha)\/models(?:\/([^/:]+)(?::([A-Za-z]+))?)?\/?$/;
const METERED_ACTIONS = new Set(["generateContent", "streamGenerateContent"]);

export function isNativePath(path: string): boolean {
  return /^\/(v1beta|v1|v1alpha)\//.test(path);
}

function embeddingDimensions(request: unknown): number | undefined {
  const dims = field(request, "outputDimensionality");
  return typeof dims === "number" && dims > 0 ? Math.min(dims, 3072) : undefined;
}

function answerAction(ex: Exchange, model: string, action: string, admitted: Admitted): Promise<void> | void {
  const { body, shape, promptTokens } = admitted;
  const text = shape.text ?? defaultReplyText;
  switch (action) {
    case "generateContent": {
      const answer = generateResponse({ text, replySoFar: text, final: true, model, promptTokens, responseId: newResponseId() });
      if (shape.cutBody !== undefined) return sendCutJson(ex, answer, shape.cutBody);
      return shape.chunked === true ? sendChunkedJson(ex, answer) : sendJson(ex, 200, answer);
    }
    case "streamGenerateContent": {
      const responses = streamResponses(splitIntoChunks(text, shape.chunks ?? defaultChunkCount), model, promptTokens);
      const timing = { chunkDelayMs: shape.chunkDelayMs ?? 0, resetAfterChunks: shape.resetAfterChunks };
      if (ex.url.searchParams.get("alt") === "sse") {
        return sendStream(ex, { contentType: "text/event-stream", pieces: responses.map(geminiSseEvent), ...timing });
      }
      return sendStream(ex, { contentType: "application/json; charset=UTF-8", ...jsonArrayPieces(responses), ...timing });
    }
    case "countTokens":
      return sendJson(ex, 200, { totalTokens: promptTokens, promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }] });
    case "embedContent":
      return sendJson(ex, 200, { embedding: { values: embeddingFor(promptText(body), embeddingDimensions(body)) } });
    case "batchEmbedContents": {
      const requests = field(body, "requests");
      const list: unknown[] = Array.isArray(requests) ? requests : [];
      return sendJson(ex, 200, {
        embeddings: list.map((request) => ({ values: embeddingFor(promptText(request), embeddingDimensions(request)) })),
      });
    }
    case "predict":
      return sendJson(ex, 200, { predictions: [] });
    default:
      return sendJson(ex, 200, {});
  }
}

export async function handleNative(ex: Exchange): Promise<void> {
  const { entry, req, url } = ex;
  entry.dialect = "native";
  const match = NATIVE_PATH.exec(url.pathname);
  const [, apiVersion, rawModel, action] = match ?? [];
  entry.apiVersion = apiVersion ?? null;
  const method = req.method ?? "GET";
  const expected = action === undefined ? "GET" : "POST";
  if (match === null || method !== expected) return sendError(ex, routeNotFound(url.pathname));

  const model = rawModel === undefined ? null : bareModelName(decodeURIComponent(rawModel));
  entry.model = model;
  entry.action = action ?? (model === null ? "listModels" : "getModel");
  const key = nativeApiKey(req, url);
  if (key === undefined) return sendError(ex, entry.authorizationHeaderPresent ? bearerOnNativeRoute() : missingKey());
  entry.apiKey = key;

  const project = ex.state.projectOf(key);
  const admitted = await admit(ex, {
    key,
    model,
    action: action ?? "get",
    metered: action !== undefined && METERED_ACTIONS.has(action),
    // Files and caches a body names must belong to the key's project (Google's 403 otherwise).
    check: (body) => referenceFault(ex.state.resources, project, model, body),
  });
  if (admitted === null) return;
  const batchKind = action === undefined ? undefined : BATCH_ACTIONS.get(action);
  if (batchKind !== undefined && model !== null) {
    return createBatch(ex, { caller: { key, project }, model, kind: batchKind, apiVersion: apiVersion ?? "v1beta", body: admitted.body });
  }
  if (model === null) return sendJson(ex, 200, listPage(url.searchParams.get("pageSize"), url.searchParams.get("pageToken")));
  if (action === undefined) return sendJson(ex, 200, describeModel(model));
  if (action === "predictLongRunning") return startOperation(ex, key, project, model);
  await answerAction(ex, model, action, admitted);
}

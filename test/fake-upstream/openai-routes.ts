// Google's OpenAI-compatible surface under /v1beta/openai/. Errors here are Google
// envelopes wrapped in a JSON array (see respond.ts), keys arrive as bearer tokens.
// Batches live in openai-batch-routes.ts; there is no Files API here, as on Google.

import { missingBearer, badRequest, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { openAiApiKey } from "./auth.ts";
import { field } from "./json-access.ts";
import { catalog } from "./model-catalog.ts";
import { handleOpenAiBatches, isOpenAiBatchPath } from "./openai-batch-routes.ts";
import { admit } from "./model-gate.ts";
import { bareModelName } from "./model-name.ts";
import { chatCompletion, chatCompletionChunks, embeddingList, openAiModel } from "./openai-payloads.ts";
import { defaultChunkCount, defaultReplyText, embeddingFor, tinyPngBase64 } from "./reply-content.ts";
import { splitIntoChunks } from "./reply-content.ts";
import { sendCutJson, sendError, sendJson } from "./respond.ts";
import { openAiDoneEvent, openAiSseEvent } from "./sse.ts";
import { sendStream } from "./stream-writer.ts";
import { parseJson } from "./http-io.ts";

export const OPENAI_PREFIX = "/v1beta/openai/";

type OpenAiRoute = "chat" | "embeddings" | "images" | "models" | "model";

/** Model ids may carry `models/`, which the SDK puts into the path as is. */
function routeOf(method: string, rest: string): { route: OpenAiRoute; pathModel?: string } | null {
  if (method === "POST" && rest === "chat/completions") return { route: "chat" };
  if (method === "POST" && rest === "embeddings") return { route: "embeddings" };
  if (method === "POST" && rest === "images/generations") return { route: "images" };
  if (method === "GET" && rest === "models") return { route: "models" };
  if (method === "GET" && rest.startsWith("models/")) return { route: "model", pathModel: rest.slice("models/".length) };
  return null;
}

function bodyModel(body: string): string | undefined {
  const parsed = parseJson(body);
  const model = parsed.ok ? field(parsed.value, "model") : undefined;
  return typeof model === "string" && model !== "" ? bareModelName(model) : undefined;
}

function embeddingInputs(body: unknown): string[] {
  const input = field(body, "input");
  if (typeof input === "string") return [input];
  return Array.isArray(input) ? input.map((item: unknown) => (typeof item === "string" ? item : JSON.stringify(item))) : [];
}

export async function handleOpenAi(ex: Exchange): Promise<void> {
  const { entry, req, url } = ex;
  entry.dialect = "openai";
  entry.apiVersion = "v1beta";
  const rest = url.pathname.slice(OPENAI_PREFIX.length).replace(/\/$/, "");
  if (isOpenAiBatchPath(rest)) return handleOpenAiBatches(ex, rest);
  const found = routeOf(req.method ?? "GET", rest);
  if (found === null) return sendError(ex, routeNotFound(url.pathname));
  const { route, pathModel } = found;
  entry.action = route === "chat" ? "chat.completions" : route;

  const key = openAiApiKey(req);
  if (key === undefined) return sendError(ex, missingBearer());
  entry.apiKey = key;

  const model = route === "models" ? null : pathModel === undefined ? bodyModel(ex.body) : bareModelName(decodeURIComponent(pathModel));
  if (model === undefined) {
    // A body that is not JSON at all is reported as such by the gate; only a missing model is ours to flag.
    if (parseJson(ex.body).ok) return sendError(ex, badRequest("model is required"));
  }
  entry.model = model ?? null;

  const admitted = await admit(ex, {
    key,
    model: model ?? null,
    action: route === "chat" ? "generateContent" : route === "embeddings" ? "embedContent" : "get",
    metered: route === "chat",
  });
  if (admitted === null) return;
  const { body, shape, promptTokens } = admitted;
  const name = model ?? "";
  const text = shape.text ?? defaultReplyText;

  switch (route) {
    case "models":
      return sendJson(ex, 200, { object: "list", data: catalog.map((entry) => openAiModel(bareModelName(entry.name))) });
    case "model":
      return sendJson(ex, 200, openAiModel(name));
    case "embeddings":
      return sendJson(ex, 200, embeddingList(name, embeddingInputs(body).map((input) => embeddingFor(input)), promptTokens));
    case "images":
      return sendJson(ex, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: tinyPngBase64 }] });
    case "chat": {
      if (field(body, "stream") !== true) {
        const answer = chatCompletion(name, text, promptTokens);
        return shape.cutBody === undefined ? sendJson(ex, 200, answer) : sendCutJson(ex, answer, shape.cutBody);
      }
      const chunks = chatCompletionChunks(name, splitIntoChunks(text, shape.chunks ?? defaultChunkCount), promptTokens);
      return sendStream(ex, {
        contentType: "text/event-stream",
        pieces: chunks.map(openAiSseEvent),
        trailer: openAiDoneEvent,
        chunkDelayMs: shape.chunkDelayMs ?? 0,
        resetAfterChunks: shape.resetAfterChunks,
      });
    }
  }
}

// Bodies of Google's OpenAI-compatible endpoint, shaped as the `openai` SDK parses them.

import { randomBytes } from "node:crypto";
import { tokensForText } from "./tokens.ts";

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function usage(promptTokens: number, reply: string): OpenAiUsage {
  const completion = tokensForText(reply);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

function completionId(): string {
  return randomBytes(15).toString("base64url");
}

export function chatCompletion(model: string, text: string, promptTokens: number): unknown {
  return {
    choices: [{ finish_reason: "stop", index: 0, message: { content: text, role: "assistant" } }],
    created: unixNow(),
    id: completionId(),
    model,
    object: "chat.completion",
    usage: usage(promptTokens, text),
  };
}

/** One chunk per piece; the last carries finish_reason and the whole exchange's usage. */
export function chatCompletionChunks(model: string, pieces: string[], promptTokens: number): unknown[] {
  const id = completionId();
  const created = unixNow();
  const reply = pieces.join("");
  return pieces.map((content, index) => {
    const last = index === pieces.length - 1;
    const choice = { delta: { content, role: "assistant" }, index: 0, ...(last ? { finish_reason: "stop" } : {}) };
    return {
      choices: [choice],
      created,
      id,
      model,
      object: "chat.completion.chunk",
      ...(last ? { usage: usage(promptTokens, reply) } : {}),
    };
  });
}

export function embeddingList(model: string, vectors: number[][], promptTokens: number): unknown {
  return {
    data: vectors.map((embedding, index) => ({ embedding, index, object: "embedding" })),
    model,
    object: "list",
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function openAiModel(model: string): { id: string; object: "model"; owned_by: "google" } {
  return { id: `models/${model}`, object: "model", owned_by: "google" };
}

// Native GenerateContentResponse bodies, whole or as cumulative stream chunks.

import { randomBytes } from "node:crypto";
import { tokensForText } from "./tokens.ts";

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
}

export interface GenerateContentResponse {
  candidates: { content: { parts: { text: string }[]; role: "model" }; finishReason?: "STOP"; index: number }[];
  usageMetadata: UsageMetadata;
  modelVersion: string;
  responseId: string;
}

export function newResponseId(): string {
  return randomBytes(15).toString("base64url");
}

export function usageFor(promptTokens: number, replySoFar: string): UsageMetadata {
  const candidatesTokenCount = tokensForText(replySoFar);
  return { promptTokenCount: promptTokens, candidatesTokenCount, totalTokenCount: promptTokens + candidatesTokenCount };
}

export interface ChunkInput {
  text: string;
  /** All reply text up to and including this chunk, for cumulative usage. */
  replySoFar: string;
  final: boolean;
  model: string;
  promptTokens: number;
  responseId: string;
}

export function generateResponse(input: ChunkInput): GenerateContentResponse {
  const candidate: GenerateContentResponse["candidates"][number] = {
    content: { parts: [{ text: input.text }], role: "model" },
    index: 0,
  };
  if (input.final) candidate.finishReason = "STOP";
  return {
    candidates: [candidate],
    usageMetadata: usageFor(input.promptTokens, input.replySoFar),
    modelVersion: input.model,
    responseId: input.responseId,
  };
}

/** One response per piece, each carrying usage up to that point; the last one finishes. */
export function streamResponses(pieces: string[], model: string, promptTokens: number): GenerateContentResponse[] {
  const responseId = newResponseId();
  let replySoFar = "";
  return pieces.map((text, index) => {
    replySoFar += text;
    return generateResponse({ text, replySoFar, final: index === pieces.length - 1, model, promptTokens, responseId });
  });
}

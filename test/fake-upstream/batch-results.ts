// What a finished batch answers: one GenerateContentResponse (or embedding) per input
// request, inline for inline input, or as a JSONL results file owned by the same project
// for file input (OpenAI batch output lines for a batch created the OpenAI way). Computed
// when the batch is first looked at after its delay.

import type { FakeState } from "./control-state.ts";
import type { BatchInput, StoredBatch } from "./batch-records.ts";
import { FILE_LIFETIME_MS, fileUri } from "./file-records.ts";
import { generateResponse, newResponseId } from "./gemini-payloads.ts";
import { field, jsonLines } from "./json-access.ts";
import { openAiResultLines } from "./openai-batch-results.ts";
import { defaultReplyText, embeddingFor } from "./reply-content.ts";
import { newResourceId } from "./resource-ids.ts";
import { promptTokenCount, promptText } from "./tokens.ts";

function responseFor(state: FakeState, batch: StoredBatch, request: unknown): unknown {
  if (batch.kind === "embed") return { embedding: { values: embeddingFor(promptText(request)) } };
  const text = state.shapeOf(batch.model).text ?? defaultReplyText;
  const promptTokens = promptTokenCount(request);
  return generateResponse({ text, replySoFar: text, final: true, model: batch.model, promptTokens, responseId: newResponseId() });
}

/** Input lines of a JSONL batch file: `{"key": ..., "request": {...}}`. */
export function parseJsonl(bytes: Buffer): BatchInput[] {
  return jsonLines(bytes).map((line) => ({ key: line.key, request: line.request }));
}

function inlineResult(state: FakeState, batch: StoredBatch, input: BatchInput): unknown {
  const result: Record<string, unknown> = { response: responseFor(state, batch, input.request) };
  if (input.metadata !== undefined) result.metadata = input.metadata;
  return result;
}

function fileResult(state: FakeState, batch: StoredBatch, input: BatchInput): string {
  const line: Record<string, unknown> = {};
  if (input.key !== undefined) line.key = input.key;
  if (input.request === undefined) line.error = { code: 400, message: "Invalid JSON line in the batch input file.", status: "INVALID_ARGUMENT" };
  else line.response = responseFor(state, batch, input.request);
  return JSON.stringify(line);
}

/** Moves a due batch to SUCCEEDED, writing its results; a no-op before then or once settled. */
export function settleBatch(state: FakeState, batch: StoredBatch, now = Date.now()): void {
  if (batch.output !== undefined || batch.cancelledAt !== undefined || now < batch.completeAt) return;
  const { files } = state.resources;
  batch.endedAt = now;
  if (batch.inlined !== null) {
    batch.output = { inlined: batch.inlined.map((input) => inlineResult(state, batch, input)) };
    return;
  }
  const source = batch.inputFileId === null ? undefined : files.owned(batch.inputFileId, batch.project, now);
  let lines: string[] = [];
  if (source !== undefined) {
    lines =
      batch.openai === undefined
        ? parseJsonl(source.bytes).map((input) => fileResult(state, batch, input))
        : openAiResultLines(state, batch, source.bytes);
  }
  const id = `batch-${newResourceId()}`;
  files.add({
    id,
    project: batch.project,
    ownerKey: batch.ownerKey,
    createdAt: now,
    expiresAt: now + FILE_LIFETIME_MS,
    displayName: `batch-${batch.id}-results`,
    mimeType: "application/jsonl",
    bytes: Buffer.from(lines.join("\n") + "\n"),
    uri: fileUri(batch.origin, batch.apiVersion, id),
    source: "GENERATED",
  });
  batch.output = { fileId: id };
}

/** The inline requests of a create body (`batch.inputConfig.requests.requests`), if any. */
export function inlineRequests(inputConfig: unknown): BatchInput[] | null {
  const requests = field(field(inputConfig, "requests"), "requests");
  if (!Array.isArray(requests)) return null;
  return requests.map((item: unknown) => {
    const input: BatchInput = { request: field(item, "request") };
    const metadata = field(item, "metadata");
    if (metadata !== undefined) input.metadata = metadata;
    return input;
  });
}

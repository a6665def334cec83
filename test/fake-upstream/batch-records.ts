// Stored batches and the long-running Operation JSON Google returns for them: metadata
// (GenerateContentBatch / EmbedContentBatch) is what @google/genai reads; `response`
// mirrors metadata.output once the batch is done.

import type { OpenAiBatchSpec } from "./openai-batch-records.ts";
import type { Owned } from "./owned-store.ts";
import { timestamp } from "./resource-ids.ts";

const TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1main.";

export type BatchKind = "generate" | "embed";

export interface BatchInput {
  request: unknown;
  metadata?: unknown;
  /** The `key` of a JSONL input line. */
  key?: unknown;
}

/** Inline responses (in input order) or, for a file input, the results file. */
export type BatchOutput = { inlined: unknown[] } | { fileId: string };

export interface StoredBatch extends Owned {
  kind: BatchKind;
  /** Bare model name. */
  model: string;
  displayName?: string;
  /** Inline requests, or null when the input is a file. */
  inlined: BatchInput[] | null;
  inputFileId: string | null;
  requestCount: number;
  /** Where and through which version it was created, for the results file's uri. */
  origin: string;
  apiVersion: string;
  /** The batch succeeds at this time unless cancelled first. */
  completeAt: number;
  cancelledAt?: number;
  /** Set when the batch succeeds (see batch-results.ts). */
  output?: BatchOutput;
  endedAt?: number;
  /** Set for batches created through the OpenAI-compatible routes: their input and results are OpenAI JSONL. */
  openai?: OpenAiBatchSpec;
}

export type BatchState = "BATCH_STATE_PENDING" | "BATCH_STATE_SUCCEEDED" | "BATCH_STATE_CANCELLED";

export function batchState(batch: StoredBatch): BatchState {
  if (batch.cancelledAt !== undefined) return "BATCH_STATE_CANCELLED";
  return batch.output === undefined ? "BATCH_STATE_PENDING" : "BATCH_STATE_SUCCEEDED";
}

function outputJson(batch: StoredBatch): Record<string, unknown> | undefined {
  const output = batch.output;
  if (output === undefined) return undefined;
  if ("fileId" in output) return { responsesFile: `files/${output.fileId}` };
  const field = batch.kind === "embed" ? "inlinedEmbedContentResponses" : "inlinedResponses";
  return { [field]: { inlinedResponses: output.inlined } };
}

function batchStats(batch: StoredBatch, state: BatchState): Record<string, string> {
  const count = String(batch.requestCount);
  if (state === "BATCH_STATE_SUCCEEDED") return { requestCount: count, successfulRequestCount: count };
  return { requestCount: count, pendingRequestCount: count };
}

export function batchJson(batch: StoredBatch): Record<string, unknown> {
  const name = `batches/${batch.id}`;
  const state = batchState(batch);
  const kindType = batch.kind === "embed" ? "EmbedContentBatch" : "GenerateContentBatch";
  const metadata: Record<string, unknown> = {
    "@type": `${TYPE_PREFIX}${kindType}`,
    model: `models/${batch.model}`,
  };
  if (batch.displayName !== undefined) metadata.displayName = batch.displayName;
  const updatedAt = batch.endedAt ?? batch.createdAt;
  Object.assign(metadata, {
    createTime: timestamp(batch.createdAt),
    updateTime: timestamp(updatedAt),
    batchStats: batchStats(batch, state),
    state,
    name,
  });
  if (batch.endedAt !== undefined) metadata.endTime = timestamp(batch.endedAt);
  const output = outputJson(batch);
  if (output !== undefined) metadata.output = output;
  const operation: Record<string, unknown> = { name, metadata };
  if (state !== "BATCH_STATE_PENDING") operation.done = true;
  if (output !== undefined) operation.response = { "@type": `${TYPE_PREFIX}${kindType}Output`, ...output };
  return operation;
}

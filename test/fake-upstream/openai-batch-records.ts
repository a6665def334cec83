// The OpenAI face of a stored batch: the Batch object Google's OpenAI-compatible layer
// returns, and the OpenAI JSONL input format it reads. Ids are Google's resource names
// (`batches/abc`, `files/abc`): Google's example passes the native file name as
// input_file_id and downloads output_file_id with the native Files API.

import type { StoredBatch } from "./batch-records.ts";
import { batchState } from "./batch-records.ts";
import { field, jsonLines } from "./json-access.ts";
import { bareModelName } from "./model-name.ts";

const DAY_MS = 24 * 3_600_000;

export interface OpenAiBatchSpec {
  /** `/v1/chat/completions` or `/v1/embeddings`. */
  endpoint: string;
  completionWindow: string;
  metadata: unknown;
}

/** One line of an OpenAI batch input file: `{"custom_id", "method", "url", "body"}`. */
export interface OpenAiBatchLine {
  customId: unknown;
  /** Undefined when the line is not JSON or has no body. */
  body: unknown;
}

export function parseOpenAiJsonl(bytes: Buffer): OpenAiBatchLine[] {
  return jsonLines(bytes).map((line) => ({ customId: line.custom_id, body: line.body }));
}

/** The model the input lines name (the first one that names any), bare. */
export function inputModel(lines: readonly OpenAiBatchLine[]): string | null {
  for (const line of lines) {
    const model = field(line.body, "model");
    if (typeof model === "string" && model !== "") return bareModelName(model);
  }
  return null;
}

function seconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.floor(ms / 1000);
}

type OpenAiStatus = "in_progress" | "completed" | "cancelled";

function status(batch: StoredBatch): OpenAiStatus {
  const state = batchState(batch);
  return state === "BATCH_STATE_SUCCEEDED" ? "completed" : state === "BATCH_STATE_CANCELLED" ? "cancelled" : "in_progress";
}

/** The Batch object as the openai SDK types it. */
export function openAiBatchJson(batch: StoredBatch): Record<string, unknown> {
  const spec = batch.openai;
  const current = status(batch);
  const output = batch.output !== undefined && "fileId" in batch.output ? `files/${batch.output.fileId}` : null;
  return {
    id: `batches/${batch.id}`,
    object: "batch",
    endpoint: spec?.endpoint ?? "/v1/chat/completions",
    model: batch.model,
    errors: null,
    input_file_id: batch.inputFileId === null ? null : `files/${batch.inputFileId}`,
    completion_window: spec?.completionWindow ?? "24h",
    status: current,
    output_file_id: output,
    error_file_id: null,
    created_at: seconds(batch.createdAt),
    in_progress_at: seconds(batch.createdAt),
    expires_at: seconds(batch.createdAt + DAY_MS),
    finalizing_at: current === "completed" ? seconds(batch.endedAt) : null,
    completed_at: current === "completed" ? seconds(batch.endedAt) : null,
    failed_at: null,
    expired_at: null,
    cancelling_at: current === "cancelled" ? seconds(batch.cancelledAt) : null,
    cancelled_at: current === "cancelled" ? seconds(batch.cancelledAt) : null,
    request_counts: { total: batch.requestCount, completed: current === "completed" ? batch.requestCount : 0, failed: 0 },
    metadata: spec?.metadata ?? null,
  };
}

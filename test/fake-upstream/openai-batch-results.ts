// Results of a batch created through the OpenAI-compatible routes: one OpenAI batch output
// line per input line (`{"id", "custom_id", "response": {"status_code", "body"}, "error"}`),
// which Google's example reads from the results file it downloads natively.

import type { StoredBatch } from "./batch-records.ts";
import type { FakeState } from "./control-state.ts";
import { field } from "./json-access.ts";
import { parseOpenAiJsonl } from "./openai-batch-records.ts";
import type { OpenAiBatchLine } from "./openai-batch-records.ts";
import { chatCompletion, embeddingList } from "./openai-payloads.ts";
import { defaultReplyText, embeddingFor } from "./reply-content.ts";
import { newResourceId } from "./resource-ids.ts";
import { promptText, promptTokenCount } from "./tokens.ts";

function responseBody(state: FakeState, batch: StoredBatch, body: unknown): unknown {
  const promptTokens = promptTokenCount(body);
  if (batch.kind === "embed") return embeddingList(batch.model, [embeddingFor(promptText(body))], promptTokens);
  return chatCompletion(batch.model, state.shapeOf(batch.model).text ?? defaultReplyText, promptTokens);
}

function resultLine(state: FakeState, batch: StoredBatch, line: OpenAiBatchLine): string {
  const id = `batch_req_${newResourceId()}`;
  const customId = line.customId ?? null;
  if (line.body === undefined || field(line.body, "model") === undefined) {
    const error = { code: "invalid_request", message: "Invalid line in the batch input file: it needs a body with a model." };
    return JSON.stringify({ id, custom_id: customId, response: null, error });
  }
  const response = { status_code: 200, request_id: newResourceId(), body: responseBody(state, batch, line.body) };
  return JSON.stringify({ id, custom_id: customId, response, error: null });
}

/** The results file's lines for an OpenAI batch's input file. */
export function openAiResultLines(state: FakeState, batch: StoredBatch, input: Buffer): string[] {
  return parseOpenAiJsonl(input).map((line) => resultLine(state, batch, line));
}

// One Live API session: the client's first message must be `{"setup":{"model":...}}`,
// which the fake checks like a request (key status, scripted faults, model, quota — a
// session counts as one request) and answers with setupComplete or a close. Then each
// finished clientContent turn or realtimeInput gets a short streamed model turn.

import type { RawData, WebSocket } from "ws";
import type { FakeState } from "./control-state.ts";
import { missingKey, modelNotFound } from "./error-bodies.ts";
import { sleep } from "./http-io.ts";
import { field } from "./json-access.ts";
import { keyFault } from "./key-fault.ts";
import { liveCloseFor } from "./live-close.ts";
import type { LiveClose } from "./live-close.ts";
import { generationComplete, modelTurnMessages, setupComplete, turnComplete } from "./live-replies.ts";
import { bareModelName, isNonexistentModel } from "./model-name.ts";
import { defaultChunkCount, defaultReplyText } from "./reply-content.ts";
import { promptText, tokensForText } from "./tokens.ts";
import type { RequestLogEntry } from "./types.ts";

export interface LiveContext {
  state: FakeState;
  /** The upgrade request's log entry. */
  entry: RequestLogEntry;
  key: string | undefined;
  apiVersion: string;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** Tokens of the text a message carries; 0 for pure audio/video or control messages. */
function inputTokens(value: unknown): number {
  const text = promptText(value);
  return text === "" ? 0 : tokensForText(text);
}

export function runLiveSession(ws: WebSocket, context: LiveContext): void {
  const { state, entry, key, apiVersion } = context;
  const session = state.live.open({ requestId: entry.id, path: entry.path, apiVersion, apiKey: key ?? null });
  let model: string | null = null;
  let promptTokens = 0;
  let responseTokens = 0;

  const send = (message: unknown): boolean => {
    if (ws.readyState !== ws.OPEN) return false;
    session.sent.push(message);
    // Google sends JSON in binary frames; clients must decode them.
    ws.send(Buffer.from(JSON.stringify(message)));
    return true;
  };
  const refuse = (close: LiveClose): void => {
    if (session.closedBy !== null) return;
    Object.assign(session, { closedBy: "server", closeCode: close.code, closeReason: close.reason });
    ws.close(close.code, close.reason);
  };

  const setup = (message: unknown): void => {
    const rawModel = field(field(message, "setup"), "model");
    if (typeof rawModel !== "string" || rawModel === "") {
      return refuse({ code: 1007, reason: "Request contains an invalid argument." });
    }
    const bare = bareModelName(rawModel);
    session.model = bare;
    entry.model = bare;
    if (key === undefined) return refuse(liveCloseFor(missingKey()));
    const fault = keyFault(state, key, bare);
    if (fault !== null) return refuse(liveCloseFor(fault));
    if (isNonexistentModel(bare)) return refuse(liveCloseFor(modelNotFound(bare, apiVersion, "bidiGenerateContent")));
    const setupTokens = inputTokens(field(message, "setup"));
    const quotaFault = state.quota.admit({ key, project: state.keyConfig(key)?.project, model: bare, promptTokens: setupTokens });
    if (quotaFault !== null) return refuse(liveCloseFor(quotaFault));
    model = bare;
    promptTokens += setupTokens;
    session.setupComplete = true;
    state.requests.countSuccess(key, bare);
    send(setupComplete());
  };

  const answerTurn = async (servedModel: string): Promise<void> => {
    const shape = state.shapeOf(servedModel);
    const text = shape.text ?? defaultReplyText;
    for (const [index, message] of modelTurnMessages(text, shape.chunks ?? defaultChunkCount).entries()) {
      if (index > 0) await sleep(shape.chunkDelayMs ?? 0);
      if (!send(message)) return;
    }
    responseTokens += tokensForText(text);
    send(generationComplete());
    send(turnComplete({ promptTokenCount: promptTokens, responseTokenCount: responseTokens }));
  };

  const onMessage = async (data: RawData): Promise<void> => {
    const text = rawText(data);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      session.received.push(text);
      return refuse({ code: 1007, reason: "Invalid JSON payload received." });
    }
    session.received.push(message);
    if (model === null) return setup(message);
    const content = field(message, "clientContent");
    const realtime = field(message, "realtimeInput");
    if (content !== undefined) {
      promptTokens += inputTokens(content);
      if (field(content, "turnComplete") === true) await answerTurn(model);
    } else if (realtime !== undefined) {
      promptTokens += inputTokens(realtime);
      await answerTurn(model);
    }
    // toolResponse and anything else: accepted without an answer.
  };

  // One message at a time, so a turn's replies never interleave with the next turn's.
  let queue = Promise.resolve();
  ws.on("message", (data) => {
    queue = queue
      .then(() => onMessage(data))
      .catch((error: unknown) => {
        console.error("fake upstream: live session failed", error);
        refuse({ code: 1011, reason: "Internal error encountered." });
      });
  });
  ws.on("close", (code, reason) => {
    const now = Date.now();
    if (session.closedBy === null) Object.assign(session, { closedBy: "client", closeCode: code, closeReason: reason.toString("utf8") });
    session.endedAt = now;
    entry.endedAt = now;
  });
  ws.on("error", () => ws.terminate());
}

// Public surface of the fake Gemini upstream used by tests and benchmarks.

export { startFakeUpstream } from "./server.ts";
export type { FakeUpstream, FakeUpstreamOptions } from "./server.ts";
export { fakeControlClient } from "./control-client.ts";
export type { FakeControlClient } from "./control-client.ts";
export { promptText, promptTokenCount, tokensForText } from "./tokens.ts";
export { defaultChunkCount, defaultReplyText, splitIntoChunks } from "./reply-content.ts";
export type { GenerateContentResponse, UsageMetadata } from "./gemini-payloads.ts";
export { formatDuration } from "./error-bodies.ts";
export type { ErrorReply, GoogleErrorBody } from "./error-bodies.ts";
export { REDACTED_MARKER } from "./types.ts";
export type { FakeConfig, LiveSessionLogEntry } from "./resource-types.ts";
export type { FileResource } from "./file-records.ts";
export type { CachedContentResource } from "./cache-records.ts";
export type {
  Dialect,
  FakeControl,
  KeyConfig,
  LogFilter,
  LogSnapshot,
  ModelShape,
  OutcomeKind,
  OutcomeSpec,
  QuotaConfig,
  RequestLogEntry,
  ScriptConfig,
  ScriptedOutcome,
  WindowQuota,
} from "./types.ts";

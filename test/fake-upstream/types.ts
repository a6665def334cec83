// Configuration and log shapes shared by the fake's control surface (HTTP and in-process).

import type { FakeConfig, LiveSessionLogEntry } from "./resource-types.ts";

export type OutcomeKind =
  | "ok"
  | "quota-day"
  | "quota-minute"
  | "quota-tokens"
  | "bare-429"
  | "invalid-key"
  | "suspended"
  | "denied-project"
  | "server-error"
  | "overloaded"
  | "location"
  | "bad-request";

export interface ScriptedOutcome {
  kind: OutcomeKind;
  /** Protobuf Duration such as "0.8s"; only the quota kinds carry one. */
  retryDelay?: string;
  /** Replaces the error's message, e.g. to put hostile text where the upstream's words go. */
  message?: string;
  /** Extra response headers, e.g. to put a key where a proxy might not look. */
  headers?: Record<string, string>;
}

export type OutcomeSpec = OutcomeKind | ScriptedOutcome;

export interface KeyConfig {
  key: string;
  invalid?: boolean;
  suspended?: boolean;
  /** A key restricted to websites (HTTP referrers) or IP addresses the caller is not: Google's 403 on every request. */
  restricted?: "referrer" | "ip";
  /** Hang this long before answering any request made with the key (model lists included). */
  delayMs?: number;
  /** Keys naming the same project share one quota, as on Google. */
  project?: string;
}

export interface WindowQuota {
  limit: number;
  /** Sliding window length; defaults to 60 000. */
  windowMs?: number;
  /** Duration reported in RetryInfo; defaults to the time until the window frees a slot. */
  retryDelay?: string;
}

export interface QuotaConfig {
  /** Exactly one of key or project. A key that belongs to a project uses the project's limits if any. */
  key?: string;
  project?: string;
  model: string;
  /** Successful generate-type requests allowed until reset. */
  perDay?: number;
  /** Successful generate-type requests per sliding window. */
  perMinute?: WindowQuota;
  /** Prompt tokens of successful generate-type requests per sliding window. */
  tokensPerMinute?: WindowQuota;
}

export interface ScriptConfig {
  key: string;
  /** Without a model the outcomes apply to any request made with the key. */
  model?: string;
  outcomes: OutcomeSpec[];
}

export interface ModelShape {
  model: string;
  /** Number of streamed chunks; defaults to 3. */
  chunks?: number;
  chunkDelayMs?: number;
  text?: string;
  /** Hang this long before sending status and headers (any response for the model). */
  firstByteDelayMs?: number;
  /**
   * Per-key override of firstByteDelayMs, so one key of a pool can hang while the others answer.
   * A cachedContents create for the model waits this long after the cache exists.
   */
  firstByteDelayMsByKey?: Record<string, number>;
  /** Destroy the socket after this many streamed chunks, before the stream ends cleanly. */
  resetAfterChunks?: number;
  /**
   * A generateContent answer (not streamed) sends its headers, with the full Content-Length,
   * and half its body, then stops sending until the client leaves ("stall") or destroys
   * the socket ("reset").
   */
  cutBody?: "stall" | "reset";
  /**
   * A generateContent answer (not streamed) sent without a Content-Length, in two writes a
   * moment apart (chunked), as an answer compressed on the way reaches a client that decodes it.
   */
  chunked?: boolean;
}

export type Dialect = "native" | "openai";

export interface RequestLogEntry {
  id: number;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** Query parameters; a `key` value is replaced by REDACTED_MARKER. */
  query: Record<string, string>;
  keyInQuery: boolean;
  dialect: Dialect | null;
  apiVersion: string | null;
  action: string | null;
  /** The key the request authenticated with (null if none). */
  apiKey: string | null;
  /** Model without the `models/` prefix (null for routes without one). */
  model: string | null;
  /** Null while the response has not started (e.g. during firstByteDelayMs). */
  status: number | null;
  authorizationHeaderPresent: boolean;
  googApiKeyHeaderPresent: boolean;
  /** All request headers; credential-bearing values replaced by REDACTED_MARKER. */
  headers: Record<string, string>;
  bodyBytes: number;
  /** Hex SHA-256 of the body as received: a replayed body must arrive byte for byte. */
  bodySha256: string;
  streamed: boolean;
  /** The client closed the connection before the response ended. */
  clientAborted: boolean;
  /** The fake destroyed the socket on purpose (resetAfterChunks). */
  serverReset: boolean;
  /** Epoch milliseconds when the response ended or the connection closed. */
  endedAt: number | null;
}

export interface LogFilter {
  model?: string;
  key?: string;
  /** Only requests that carried this `x-fake-tag` header (lets a suite find its own requests). */
  tag?: string;
}

export interface LogSnapshot {
  requests: RequestLogEntry[];
  /** successes[apiKey][model]: count of 2xx responses to model-bearing requests (and accepted Live setups). */
  successes: Record<string, Record<string, number>>;
  /** Live API WebSocket sessions, oldest first (filtered by key, model and tag like requests). */
  liveSessions: LiveSessionLogEntry[];
  /** With a tag filter: the most requests with that tag the fake ever had open at once. */
  maxInFlight?: number;
}

/** The control operations, identical in-process and over HTTP. */
export interface FakeControl {
  reset(): void;
  setKey(config: KeyConfig): void;
  setQuota(config: QuotaConfig): void;
  script(config: ScriptConfig): void;
  setModel(shape: ModelShape): void;
  /** Resource settings: batch completion delay, default list page size. Merges; reset() restores defaults. */
  configure(config: FakeConfig): void;
  log(filter?: LogFilter): LogSnapshot;
}

export const REDACTED_MARKER = "<redacted>";

// Shapes of the fake's resource features (files, caches, batches, Live sessions) shared by
// the control surface and the log, kept apart from types.ts so each concern stays small.

export interface FakeConfig {
  /** How long a new batch stays BATCH_STATE_PENDING before it succeeds; default 200 ms. */
  batchDelayMs?: number;
  /** Page size of files, cachedContents and batches lists when a request names none; default 10 (Google's). */
  listPageSize?: number;
}

/** One Live API (BidiGenerateContent) WebSocket session as the fake saw it. */
export interface LiveSessionLogEntry {
  /** Id of the upgrade request's entry in `requests` (which holds its redacted headers and query). */
  requestId: number;
  /** Epoch milliseconds when the socket opened. */
  at: number;
  path: string;
  apiVersion: string;
  /** The key from `?key=` (or x-goog-api-key); null if none came. */
  apiKey: string | null;
  /** Bare model from the setup message; null until one arrives. */
  model: string | null;
  /** Whether the fake answered the setup with setupComplete. */
  setupComplete: boolean;
  /** Client messages, parsed JSON (text or binary frames alike); unparseable ones as their raw text. */
  received: unknown[];
  /** Server messages in the order sent (the fake sends each as a binary frame, as Google does). */
  sent: unknown[];
  /** Null while open. */
  closeCode: number | null;
  closeReason: string | null;
  /** Who started the close: the fake (refusal, error) or the client. */
  closedBy: "server" | "client" | null;
  endedAt: number | null;
}

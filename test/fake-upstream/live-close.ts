// How the Live API refuses a session: Google accepts the WebSocket, then closes it with a
// close code and its error message as the reason (seen by clients as e.g. "received 1007
// (invalid frame payload data) API key not valid. Please pass a valid API key.").
// Codes as observed: invalid arguments, bad keys and location → 1007; permission and
// unknown models → 1008; quota and server trouble → 1011.

import type { ErrorReply } from "./error-bodies.ts";
import { field, isRecord } from "./json-access.ts";

export interface LiveClose {
  code: number;
  reason: string;
}

/** RFC 6455 limits a close reason to 123 bytes of UTF-8; ws throws beyond that. */
const MAX_REASON_BYTES = 123;

export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

function quotaIdOf(reply: ErrorReply): string | undefined {
  for (const detail of reply.body.error.details ?? []) {
    const violations = field(detail, "violations");
    const first: unknown = Array.isArray(violations) ? violations[0] : undefined;
    const quotaId = isRecord(first) ? first.quotaId : undefined;
    if (typeof quotaId === "string") return quotaId;
  }
  return undefined;
}

function closeCode(status: number): number {
  if (status === 429 || status >= 500) return 1011;
  if (status === 400) return 1007;
  return 1008;
}

/**
 * Google's quota message does not fit a close reason; the fake keeps its recognisable head
 * plus the quota id (which says PerDay / PerMinute), and always names RESOURCE_EXHAUSTED.
 */
function quotaReason(reply: ErrorReply): string {
  const { message } = reply.body.error;
  const quotaId = quotaIdOf(reply);
  if (quotaId !== undefined && message.startsWith("You exceeded your current quota")) {
    return `You exceeded your current quota (RESOURCE_EXHAUSTED, ${quotaId}).`;
  }
  return `RESOURCE_EXHAUSTED: ${message}`;
}

export function liveCloseFor(reply: ErrorReply): LiveClose {
  const reason = reply.status === 429 ? quotaReason(reply) : reply.body.error.message;
  return { code: closeCode(reply.status), reason: closeReason(reason) };
}

import type { ApiStyle } from "../api-style";
import { errorBody, errorResponse } from "../error-response";
import type { UsageReport } from "../key-pool";
import type { Route } from "../route";
import type { ProxyServices } from "../services";
import type { TokenUsage } from "../usage-scanner";
import type { Deadline } from "./deadline";
import { declaredLength } from "./declared-length";
import { answerReading, readSmallAnswer } from "./small-answer";
import { standardStreams } from "./stream-runtime";

// A success on its way to the client: its body passed on (read whole when small, metered
// as a stream otherwise) and counted, with its tokens, once it has ended.

/** One upstream success, and what counting it needs. */
export interface Served {
  upstream: Response;
  /** The client's headers for it (redacted, hop-by-hop removed). */
  headers: Headers;
  /** Aborting it ends the upstream request: a small answer's read that stalled. */
  attempt: AbortController;
  /** The request's timer, for the wait of a small answer's read. */
  deadline: Deadline;
  keyId: string;
  route: Route;
  /** The model counted; null when the request is not about one (nothing to count). */
  model: string | null;
  sentAt: number;
  services: ProxyServices;
}

type Interruption = "stalled" | "reset";

/** What the client is told when an answer broke off after it had started: status and message. */
function interruption(cause: Interruption): [number, string] {
  return cause === "stalled"
    ? [504, "The Gemini API stopped sending in the middle of its answer."]
    : [502, "The connection to the Gemini API broke in the middle of its answer."];
}

/** An SSE error event in the caller's style, for a stream that broke after it started. */
function sseErrorEvent(style: ApiStyle, cause: Interruption): Uint8Array {
  const [status, message] = interruption(cause);
  return new TextEncoder().encode(`data: ${JSON.stringify(errorBody(style, status, message, "stream_interrupted"))}\n\n`);
}

/** A served request as the pool counts it; without usage (a body that broke off) its tokens are unknown. */
function usageReport(served: Served, model: string, usage: TokenUsage | null): UsageReport {
  return {
    keyId: served.keyId,
    model,
    promptTokens: usage?.promptTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    at: Date.now(),
    sentAt: served.sentAt,
  };
}

/**
 * The client's answer to a success, counted with its tokens once its body has ended. A
 * small answer that is not streamed is read whole (small-answer.ts); if it breaks off
 * before its end, the client gets an error in its style instead of a cut body.
 */
export async function answered(served: Served): Promise<Response> {
  const { upstream, headers, route, model, services } = served;
  if (upstream.body === null) return new Response(null, { status: upstream.status, headers });
  // A declared length is the body's only while it is not re-encoded on the way.
  const declared = upstream.headers.has("content-encoding") ? undefined : declaredLength(upstream.headers);
  const eventStream = upstream.headers.get("content-type")?.includes("text/event-stream") ?? false;
  const streamed = eventStream || (route.style === "gemini" && (route.action?.toLowerCase().includes("stream") ?? false));
  const reading = answerReading(declared, streamed);
  const meter = (body: ReadableStream<Uint8Array>, prefix?: Uint8Array) =>
    new Response(metered(served, body, { declared, prefix, eventStream }), { status: upstream.status, headers });
  if (reading === "stream") return meter(upstream.body);
  const streams = services.streams ?? standardStreams;
  const reader = { idleTimeoutMs: services.config.streamIdleTimeoutMs, deadline: served.deadline, stop: () => served.attempt.abort() };
  const small = await readSmallAnswer(upstream, upstream.body, reading, reader, streams);
  if ("start" in small) return meter(small.rest, small.start);
  // Served upstream whether or not it arrived whole: Google counts it, and so does the pool.
  if (model !== null) services.waitUntil(services.pool.recordUsage([usageReport(served, model, "bytes" in small ? small.usage : null)]));
  if ("bytes" in small) return new Response(small.bytes, { status: upstream.status, headers });
  const [status, message] = interruption(small.failed);
  return errorResponse(route.style, status, message, { code: "stream_interrupted" });
}

interface BodyShape {
  declared: number | undefined;
  /** The body's start, already read (an answer of undeclared length that was not small). */
  prefix: Uint8Array | undefined;
  /** An SSE stream: one that breaks ends with an error event in the caller's style. */
  eventStream: boolean;
}

/** Streams a successful body through and counts it, with its tokens, once it has ended. */
function metered(served: Served, body: ReadableStream<Uint8Array>, shape: BodyShape): ReadableStream<Uint8Array> {
  const { model, services } = served;
  const { declared, prefix, eventStream } = shape;
  let ended: (usage: TokenUsage | null) => void = () => undefined;
  if (model !== null) {
    // Registered now, while the request is surely alive; settled when the body ends.
    services.waitUntil(
      new Promise<TokenUsage | null>((resolve) => (ended = resolve)).then((usage) => services.pool.recordUsage([usageReport(served, model, usage)])),
    );
  }
  return (services.streams ?? standardStreams).meter(body, {
    ...(declared !== undefined && declared > 0 && { length: declared }),
    ...(prefix !== undefined && { prefix }),
    idleTimeoutMs: services.config.streamIdleTimeoutMs,
    onEnd: (usage) => ended(usage),
    failureTail: (cause) => (eventStream ? sseErrorEvent(served.route.style, cause) : null),
  });
}

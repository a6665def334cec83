import { declaredLength } from "./declared-length";
import { BodyTooLarge, readBody } from "./read-body";
import { ReplayableBody } from "./replayable-body";
import type { StreamRuntime } from "./stream-runtime";

/**
 * How much of a large body is read to find the model and resource names. SDKs put the
 * model and the names before large inline data as a rule; when the start does not
 * settle them, the body is read whole (handle-proxy.ts, forward.ts).
 */
export const SEARCHED_START_BYTES = 64 * 1024;

/**
 * Takes a request body so every attempt can send it: a small one (or one of unknown
 * length) read into memory, refused past `limit`; a large one read only as far as its
 * start, the rest kept as a stream (replayable-body.ts).
 */
export async function takeRequestBody(request: Request, limit: number, streams: StreamRuntime): Promise<ArrayBuffer | ReplayableBody | null> {
  if (request.body === null) return null;
  const declared = declaredLength(request.headers);
  if (declared !== undefined && declared > limit) throw new BodyTooLarge();
  // Without a declared length the upload could not keep its framing: read it.
  if (declared === undefined || declared <= SEARCHED_START_BYTES) return readBody(request, limit);
  return ReplayableBody.of(request.body, declared, SEARCHED_START_BYTES, streams);
}

import { joinChunks } from "../bytes";
import { declaredLength } from "./declared-length";

/** The body is larger than the configured limit. */
export class BodyTooLarge extends Error {}

/**
 * Reads a request body once, for replay on retries, refusing it as soon as it is known
 * to exceed `limit`: from Content-Length before reading anything, otherwise while reading.
 */
export async function readBody(request: Request, limit: number): Promise<ArrayBuffer | null> {
  if (request.body === null) return null;
  const declared = declaredLength(request.headers);
  if (declared !== undefined && declared > limit) throw new BodyTooLarge();
  if (declared !== undefined) return request.arrayBuffer();

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(chunk.value);
  }
  return joinChunks(chunks, size).buffer;
}

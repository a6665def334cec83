import { concatBytes, lastIndexOfBytes, marker } from "./bytes";
import { UsageScanner, type TokenUsage } from "./usage-scanner";

// The token usage of a response body, from the end of the body only. Usage is reported
// last: a non-streamed answer ends with its usage object (Gemini's `usageMetadata`,
// OpenAI's `usage`, followed at most by a model version and a response id), and in a
// stream every event's usage is the running total, so the last one is the answer's.
// Keeping the last TAIL_BYTES of the body and looking for the last marker in them at the
// end costs the same whether the answer has forty events or four thousand.

/** Far more than the few hundred bytes a usage object and what follows it take. */
const TAIL_BYTES = 64 * 1024;
const MARKERS = ['"usageMetadata":', '"usage":'].map(marker);
/** Markers tried from the end; a tail of `"usage":null` (never seen in practice) stops here. */
const MAX_TRIES = 8;

export class UsageTail {
  #tail: Uint8Array = new Uint8Array(0);

  /** Takes the next piece of the body (any size); copies at most TAIL_BYTES of it. */
  push(piece: Uint8Array): void {
    if (piece.byteLength >= TAIL_BYTES) {
      this.#tail = piece.slice(piece.byteLength - TAIL_BYTES);
      return;
    }
    const keep = Math.min(this.#tail.byteLength, TAIL_BYTES - piece.byteLength);
    this.#tail = concatBytes(this.#tail.subarray(this.#tail.byteLength - keep), piece);
  }

  /**
   * The last complete usage object in the tail. A body cut off inside its last usage
   * object (a broken stream) falls back to the one before, as the streaming scanner did.
   */
  get usage(): TokenUsage | null {
    return lastUsage(this.#tail);
  }
}

/**
 * The last complete usage object in `bytes` (a whole small answer, or the tail of a long
 * one), found from the end without copying or decoding what precedes it.
 */
export function lastUsage(bytes: Uint8Array): TokenUsage | null {
  let before = bytes.byteLength;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const at = Math.max(...MARKERS.map((marked) => lastIndexOfBytes(bytes, marked, before)));
    if (at < 0) return null;
    const scanner = new UsageScanner();
    scanner.push(bytes.subarray(at));
    if (scanner.usage !== null) return scanner.usage;
    before = at - 1;
  }
  return null;
}

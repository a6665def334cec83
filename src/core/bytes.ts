import { Buffer } from "node:buffer";

// Searching raw bytes with the runtime's native Buffer search (node:buffer: Workers with
// nodejs_compat, Node, Deno, Bun), so a large body is never decoded or walked in
// JavaScript just to find a few markers in it.

const encoder = new TextEncoder();

/** Markers are a handful of fixed field names: each is encoded once per process. */
const markers = new Map<string, Uint8Array>();
const MAX_MARKERS = 64;

/** Bytes of an ASCII marker. */
export function marker(text: string): Uint8Array {
  let bytes = markers.get(text);
  if (bytes === undefined) {
    bytes = encoder.encode(text);
    if (markers.size < MAX_MARKERS) markers.set(text, bytes);
  }
  return bytes;
}

/** A body is searched for several markers in a row: its Buffer view is made once. */
const views = new WeakMap<Uint8Array, Buffer>();

function view(bytes: Uint8Array): Buffer {
  let buffer = views.get(bytes);
  if (buffer === undefined) {
    buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    views.set(bytes, buffer);
  }
  return buffer;
}

/** Where `needle` first occurs in `haystack` at or after `from`; -1 if nowhere. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  return view(haystack).indexOf(needle, from);
}

/** Where `needle` last starts in `haystack` at or before `before`; -1 if nowhere. */
export function lastIndexOfBytes(haystack: Uint8Array, needle: Uint8Array, before = haystack.byteLength): number {
  return before < 0 ? -1 : view(haystack).lastIndexOf(needle, before);
}

/** The chunks read from a stream, as one buffer of their `size` bytes. */
export function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** A copy of `first` followed by `second`. */
export function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return joined;
}

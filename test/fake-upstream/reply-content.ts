// What the fake "model" says: fixed text (per-model overridable) cut into stream chunks,
// plus deterministic embedding vectors.

export const defaultReplyText = "Hello from the fake Gemini upstream.";
export const defaultChunkCount = 3;

/** Splits text into `count` contiguous pieces of near-equal length (some may be empty). */
export function splitIntoChunks(text: string, count: number): string[] {
  const n = Math.max(1, Math.floor(count));
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) {
    pieces.push(text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
  }
  return pieces;
}

/** A small vector derived from the text so equal inputs embed equally. */
export function embeddingFor(text: string, dimensions = 8): number[] {
  let seed = 2166136261;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619) >>> 0;
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507) >>> 0;
    values.push(Number(((seed / 0xffffffff) * 2 - 1).toFixed(6)));
  }
  return values;
}

/** A valid 1x1 PNG, for image-generation answers. */
export const tinyPngBase64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

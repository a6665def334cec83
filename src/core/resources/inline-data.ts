import { indexOfBytes, marker } from "../bytes";

// A body that may name a file or cache is parsed to find the names where Google checks
// them (resource-names.ts), and an OpenAI-style body whose model a byte search cannot
// settle is parsed for it (handle-proxy.ts). Inline data (an image's base64, a data URL)
// is most of such a body: decoding and parsing 15 MB of it cost 16 to 18 ms, past the
// Free plan's 10 ms for the whole request. Its values are cut out first, found by native
// byte search; nothing the proxy looks for is ever inside them.

/** Values shorter than this stay: cutting them saves less than finding them costs. */
const MIN_CUT_BYTES = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Whether the quote at `at` is escaped: inside a string, not one of the JSON's own. */
function escaped(bytes: Uint8Array, at: number): boolean {
  let backslashes = 0;
  while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** Where the JSON string opened by the quote at `open` ends (its closing quote); -1 if it does not. */
function stringEnd(bytes: Uint8Array, open: number): number {
  const quote = marker('"');
  for (let at = indexOfBytes(bytes, quote, open + 1); at >= 0; at = indexOfBytes(bytes, quote, at + 1)) {
    if (!escaped(bytes, at)) return at;
  }
  return -1;
}

/** The opening quotes of `"data": "…"` members' values and of `"data:…"` URLs, in order. */
function valueStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  const key = marker('"data"');
  for (let at = indexOfBytes(bytes, key); at >= 0; at = indexOfBytes(bytes, key, at + key.byteLength)) {
    if (escaped(bytes, at)) continue;
    let next = at + key.byteLength;
    while (isSpace(bytes[next])) next++;
    if (bytes[next] !== COLON) continue;
    next++;
    while (isSpace(bytes[next])) next++;
    if (bytes[next] === QUOTE) starts.push(next);
  }
  const url = marker('"data:');
  for (let at = indexOfBytes(bytes, url); at >= 0; at = indexOfBytes(bytes, url, at + url.byteLength)) {
    if (!escaped(bytes, at)) starts.push(at);
  }
  return starts.sort((a, b) => a - b);
}

/**
 * The body with the contents of its long inline-data strings removed (each left as `""`):
 * valid JSON if the body was, with every other member as it was. The body itself when it
 * has none.
 */
export function withoutInlineData(bytes: Uint8Array): Uint8Array {
  const cuts: [number, number][] = [];
  let covered = -1;
  for (const open of valueStarts(bytes)) {
    if (open <= covered) continue;
    const close = stringEnd(bytes, open);
    if (close < 0) break;
    if (close - open - 1 >= MIN_CUT_BYTES) cuts.push([open + 1, close]);
    covered = close;
  }
  if (cuts.length === 0) return bytes;
  const removed = cuts.reduce((sum, [from, to]) => sum + to - from, 0);
  const kept = new Uint8Array(bytes.byteLength - removed);
  let read = 0;
  let written = 0;
  for (const [from, to] of cuts) {
    kept.set(bytes.subarray(read, from), written);
    written += from - read;
    read = to;
  }
  kept.set(bytes.subarray(read), written);
  return kept;
}

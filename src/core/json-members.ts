import { indexOfBytes, marker } from "./bytes";

// String members of a JSON body found without decoding or parsing the body: a request
// with a 20 MB inline image costs the same to inspect as a small one. The member's
// name is searched as raw bytes (`"name"`); inside JSON strings quotes are escaped, so
// that can only be a key. Only a short window after each hit is decoded.

/** Room for a value (resource names and model ids are far shorter) and the `:` before it. */
const WINDOW_BYTES = 4096;
const VALUE = /^\s*:\s*"([^"\\]*)"/;
const COLON = /^\s*:/;
const decoder = new TextDecoder();

export interface Member {
  /** Where the key starts in the body. */
  at: number;
  value: string;
}

/**
 * The string values of members called `name`, at any depth, in the order they occur.
 * Looks at no more than `maxHits` keys of that name (string-valued or not), so a body
 * stuffed with them costs a bounded amount of work.
 */
export function stringMembers(body: Uint8Array, name: string, maxHits: number): Member[] {
  const needle = marker(`"${name}"`);
  const found: Member[] = [];
  let from = 0;
  for (let hits = 0; hits < maxHits; hits++) {
    const at = indexOfBytes(body, needle, from);
    if (at < 0) break;
    from = at + needle.byteLength;
    const value = VALUE.exec(decoder.decode(body.subarray(from, from + WINDOW_BYTES)))?.[1];
    if (value !== undefined) found.push({ at, value });
  }
  return found;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The value of the string member called `name` of the body's top-level object: the one
 * an API reads, where a member of that name nested deeper (a tool's schema, an example in
 * a prompt) is not. One pass over the bytes before the last candidate, tracking strings
 * and nesting; null when no candidate among the first `maxHits` is at the top level (the
 * member is further on, not a string, or missing).
 */
export function topLevelString(body: Uint8Array, name: string, maxHits: number): string | null {
  const members = stringMembers(body, name, maxHits);
  let next = 0;
  let depth = 0;
  let inString = false;
  for (let at = 0; at < body.length && next < members.length; at++) {
    // A candidate stepped over (an escape's second byte) or inside a string is no key.
    let member = members[next];
    while (member !== undefined && member.at < at) member = members[++next];
    if (member?.at === at) {
      if (!inString && depth === 1) return member.value;
      next++;
    }
    const byte = body[at];
    if (inString) {
      if (byte === BACKSLASH) at++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return null;
}

/** Places `"name"` may occur as a value rather than a key before the search gives up and says yes. */
const MAX_NON_KEY_HITS = 64;

/**
 * Whether a member called `name` (of any type) occurs at any depth. Errs towards yes: a
 * body with more than MAX_NON_KEY_HITS `"name"` strings that are not keys counts as having one.
 */
export function hasKey(body: Uint8Array, name: string): boolean {
  const needle = marker(`"${name}"`);
  let from = 0;
  for (let hits = 0; hits < MAX_NON_KEY_HITS; hits++) {
    const at = indexOfBytes(body, needle, from);
    if (at < 0) return false;
    from = at + needle.byteLength;
    if (COLON.test(decoder.decode(body.subarray(from, from + WINDOW_BYTES)))) return true;
  }
  return true;
}

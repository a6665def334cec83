// The pool's keys as the proxy process holds them. Everything outside this module
// (storage, stats, logs, the Durable Object's RPC traffic) refers to a key by its id,
// a truncated SHA-256 fingerprint, so the secret itself never needs to leave it.

export interface PoolKey {
  /** Stable across restarts and reorderings: the first 16 hex digits of SHA-256(key). */
  readonly id: string;
  /** The secret sent upstream. */
  readonly secret: string;
  /** What people see: `AIza…x7Q2`. */
  readonly masked: string;
  /** 1-based place in API_KEYS, so users can find the key in their own list. */
  readonly position: number;
  /**
   * The Google Cloud project group the key was listed in (`group:key` in API_KEYS): keys of
   * one group share one quota. Absent for a plain key, which is a group of its own.
   */
  readonly group?: string;
}

export interface KeyRing {
  readonly keys: readonly PoolKey[];
  byId(id: string): PoolKey | undefined;
  /** Replaces every pool key in `text` by its masked form, and any other run of 12+ of its characters by `…`. */
  redact(text: string): string;
}

/** Splits the API_KEYS secret: commas, whitespace and newlines separate; duplicates are dropped. */
export function parseKeyList(raw: string | undefined): string[] {
  return [...new Set((raw ?? "").split(/[\s,;]+/).filter((key) => key.length > 0))];
}

export function maskKey(secret: string): string {
  if (secret.length <= 10) return "…" + secret.slice(-2);
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}

/** A key's id: the first 16 hex digits of SHA-256(key). */
export async function fingerprint(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest, 0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The shortest piece of a key that is masked. Every run of this many consecutive
 * characters of a pool key is key material (a key is 39 characters; 12 of them, past the
 * shared `AIzaSy`, are 36 bits of its secret part); shorter runs are as likely chance.
 */
export const MASKED_FRAGMENT_LENGTH = 12;

/**
 * Secrets shorter than this are not masked at all. Gemini keys are 39 characters; a
 * shorter "key" is a paste accident (`json`, `GEMINI_API_KEY`, `=`), and masking its
 * fragments would rewrite ordinary words such as `application/json` in every answer.
 */
export const MIN_MASKED_SECRET_LENGTH = 20;

// Polynomial rolling hash of a MASKED_FRAGMENT_LENGTH window, modulo 2^32.
const BASE = 0x01000193;
const BASE_POW = (() => {
  let pow = 1;
  for (let i = 1; i < MASKED_FRAGMENT_LENGTH; i++) pow = Math.imul(pow, BASE);
  return pow;
})();

function slotOf(hash: number, mask: number): number {
  return (hash ^ (hash >>> 15)) & mask;
}

/** Offsets of a window within its secret fit in 11 bits: keys are at most a few hundred characters. */
const OFFSET_BITS = 11;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;

/**
 * Every window of every secret, as an open-addressing table of (hash, secret index and
 * offset) pairs in one typed array. Built with plain integer arithmetic: about a
 * millisecond for 2,000 keys, where a Set of substrings took tens of milliseconds, paid by
 * every fresh isolate and after every key change.
 */
class WindowTable {
  readonly #mask: number;
  /** Slot i: [2i] the window's hash, [2i + 1] (secret index + 1) << OFFSET_BITS | offset; 0 is empty. */
  readonly #slots: Int32Array;
  readonly #secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets;
    const windows = secrets.reduce((sum, secret) => sum + Math.max(0, secret.length - MASKED_FRAGMENT_LENGTH + 1), 0);
    let size = 16;
    while (size < windows * 2) size *= 2;
    const mask = size - 1;
    const slots = new Int32Array(size * 2);
    this.#mask = mask;
    this.#slots = slots;
    // One flat loop over every character of every key, so it stays cheap at 2,000 keys.
    for (let index = 0; index < secrets.length; index++) {
      const secret = secrets[index] ?? "";
      // Longer "keys" (API_KEYS takes anything) are indexed up to the offsets that fit.
      const last = Math.min(secret.length, OFFSET_MASK + MASKED_FRAGMENT_LENGTH);
      let hash = 0;
      for (let at = 0; at < last; at++) {
        if (at >= MASKED_FRAGMENT_LENGTH) hash = (hash - Math.imul(secret.charCodeAt(at - MASKED_FRAGMENT_LENGTH), BASE_POW)) | 0;
        hash = (Math.imul(hash, BASE) + secret.charCodeAt(at)) | 0;
        if (at < MASKED_FRAGMENT_LENGTH - 1) continue;
        let slot = slotOf(hash, mask);
        while (slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
        slots[slot * 2] = hash;
        slots[slot * 2 + 1] = ((index + 1) << OFFSET_BITS) | (at - MASKED_FRAGMENT_LENGTH + 1);
      }
    }
  }

  /** Whether text[at, at + MASKED_FRAGMENT_LENGTH), whose hash is `hash`, is a window of a secret. */
  has(hash: number, text: string, at: number): boolean {
    const slots = this.#slots;
    for (let slot = slotOf(hash, this.#mask); slots[slot * 2 + 1] !== 0; slot = (slot + 1) & this.#mask) {
      if (slots[slot * 2] !== hash) continue;
      const ref = slots[slot * 2 + 1] ?? 0;
      const secret = this.#secrets[(ref >>> OFFSET_BITS) - 1] ?? "";
      const offset = ref & OFFSET_MASK;
      let same = true;
      for (let i = 0; i < MASKED_FRAGMENT_LENGTH && same; i++) same = text.charCodeAt(at + i) === secret.charCodeAt(offset + i);
      if (same) return true;
    }
    return false;
  }
}

/** Masks whole keys (as their masked form) and any run of key material (as `…`) in a text. */
function redactor(keys: readonly PoolKey[]): (text: string) => string {
  const n = MASKED_FRAGMENT_LENGTH;
  const masked = new Map<string, string>();
  for (const { secret, masked: shown } of keys) if (secret.length >= MIN_MASKED_SECRET_LENGTH) masked.set(secret, shown);
  if (masked.size === 0) return (text) => text;
  // Built on first use: most isolates never read a text that needs masking.
  let table: WindowTable | undefined;
  return (text) => {
    if (text.length < n) return text;
    table ??= new WindowTable([...masked.keys()]);
    let out = "";
    let copied = 0;
    let start = -1;
    let end = -1;
    const flush = () => {
      out += text.slice(copied, start) + (masked.get(text.slice(start, end)) ?? "…");
      copied = end;
      start = -1;
    };
    let hash = 0;
    for (let at = 0; at < text.length; at++) {
      if (at >= n) hash = (hash - Math.imul(text.charCodeAt(at - n), BASE_POW)) | 0;
      hash = (Math.imul(hash, BASE) + text.charCodeAt(at)) | 0;
      const from = at - n + 1;
      if (from < 0 || !table.has(hash, text, from)) continue;
      // Overlapping or touching windows are one run of key material.
      if (start !== -1 && from <= end) end = from + n;
      else {
        if (start !== -1) flush();
        start = from;
        end = from + n;
      }
    }
    if (start !== -1) flush();
    return copied === 0 ? text : out + text.slice(copied);
  };
}

/** API_KEYS entries too short to be an API key: they serve requests but are never masked. */
export function tooShortToMask(keys: readonly PoolKey[]): PoolKey[] {
  return keys.filter((key) => key.secret.length < MIN_MASKED_SECRET_LENGTH);
}

/** A ring over keys already fingerprinted: API_KEYS keys, runtime keys, or both. */
export function ringOf(keys: readonly PoolKey[]): KeyRing {
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { keys, byId: (id) => byId.get(id), redact: redactor(keys) };
}

/** `group:key` names the key's project group; Gemini API keys never contain a colon. */
function splitGroup(entry: string): { secret: string; group?: string } {
  const colon = entry.indexOf(":");
  return colon > 0 && colon < entry.length - 1 ? { group: entry.slice(0, colon), secret: entry.slice(colon + 1) } : { secret: entry };
}

export async function createKeyRing(raw: string | undefined): Promise<KeyRing> {
  const entries = parseKeyList(raw).map(splitGroup);
  // A key listed twice (in two groups, or with and without one) counts once, as first listed.
  const unique = entries.filter((entry, index) => entries.findIndex((other) => other.secret === entry.secret) === index);
  const keys: PoolKey[] = await Promise.all(
    unique.map(async ({ secret, group }, index) => ({
      id: await fingerprint(secret),
      secret,
      masked: maskKey(secret),
      position: index + 1,
      ...(group !== undefined && { group }),
    })),
  );
  const short = tooShortToMask(keys);
  if (short.length > 0) {
    // A warning, not a refusal: the key still serves, but a paste accident such as
    // `GEMINI_API_KEY` or `=` in the secret should be visible to whoever reads the logs.
    console.warn(
      `API_KEYS: ${short.map((key) => `#${key.position} (${key.masked})`).join(", ")} ${short.length === 1 ? "is" : "are"} shorter than ${MIN_MASKED_SECRET_LENGTH} characters, too short to be an API key (Gemini keys have 39); ${short.length === 1 ? "it is" : "they are"} used but not masked in answers. Remove ${short.length === 1 ? "it" : "them"} from API_KEYS (the Worker's secret, or the Node server's environment).`,
    );
  }
  return ringOf(keys);
}

const rings = new Map<string, Promise<KeyRing>>();

/** The ring for a raw API_KEYS value, built once per process and value. */
export function keyRingFor(raw: string | undefined): Promise<KeyRing> {
  const value = raw ?? "";
  let ring = rings.get(value);
  if (ring === undefined) {
    // A secret rotation leaves at most a handful of stale entries; keep the map tiny anyway.
    if (rings.size > 4) rings.clear();
    ring = createKeyRing(value);
    rings.set(value, ring);
  }
  return ring;
}

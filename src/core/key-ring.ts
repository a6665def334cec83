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

/** Masks whole keys (as their masked form) and any run of key material (as `…`) in a text. */
function redactor(keys: readonly PoolKey[]): (text: string) => string {
  const n = MASKED_FRAGMENT_LENGTH;
  const fragments = new Set<string>();
  const masked = new Map<string, string>();
  for (const { secret, masked: shown } of keys) {
    masked.set(secret, shown);
    if (secret.length < n) fragments.add(secret);
    for (let at = 0; at + n <= secret.length; at++) fragments.add(secret.slice(at, at + n));
  }
  const shortest = Math.min(n, ...keys.map((key) => key.secret.length));
  // Only runs of characters that occur in keys can hold key material: finding those with
  // one regex first keeps the per-position lookups to the few long runs of a text.
  const alphabet = [...new Set(keys.flatMap((key) => [...key.secret]))].map((char) => `\\u{${char.codePointAt(0)?.toString(16)}}`).join("");
  const candidates = new RegExp(`[${alphabet}]{${shortest},}`, "gu");
  return (text) => {
    if (fragments.size === 0 || text.length < shortest) return text;
    let out = "";
    let copied = 0;
    for (const { 0: run, index } of text.matchAll(candidates)) {
      let start = -1;
      let end = -1;
      const flush = () => {
        out += text.slice(copied, index + start) + (masked.get(run.slice(start, end)) ?? "…");
        copied = index + end;
      };
      for (let at = 0; at + shortest <= run.length; at++) {
        const width = fragments.has(run.slice(at, at + n)) ? Math.min(n, run.length - at) : fragments.has(run.slice(at, at + shortest)) ? shortest : 0;
        if (width === 0) continue;
        // Overlapping or touching windows are one run of key material.
        if (start !== -1 && at <= end) end = Math.max(end, at + width);
        else {
          if (start !== -1) flush();
          start = at;
          end = at + width;
        }
      }
      if (start !== -1) flush();
    }
    return copied === 0 ? text : out + text.slice(copied);
  };
}

/** A ring over keys already fingerprinted: API_KEYS keys, runtime keys, or both. */
export function ringOf(keys: readonly PoolKey[]): KeyRing {
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { keys, byId: (id) => byId.get(id), redact: redactor(keys) };
}

export async function createKeyRing(raw: string | undefined): Promise<KeyRing> {
  const keys: PoolKey[] = await Promise.all(
    parseKeyList(raw).map(async (secret, index) => ({
      id: await fingerprint(secret),
      secret,
      masked: maskKey(secret),
      position: index + 1,
    })),
  );
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

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
  /** Replaces every pool key in `text` by its masked form. */
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

async function fingerprint(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest, 0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export async function createKeyRing(raw: string | undefined): Promise<KeyRing> {
  const secrets = parseKeyList(raw);
  const keys: PoolKey[] = await Promise.all(
    secrets.map(async (secret, index) => ({
      id: await fingerprint(secret),
      secret,
      masked: maskKey(secret),
      position: index + 1,
    })),
  );
  const byId = new Map(keys.map((key) => [key.id, key]));
  const bySecret = new Map(keys.map((key) => [key.secret, key.masked]));
  // Longest first, so a key that contains another is replaced whole.
  const pattern =
    secrets.length === 0
      ? null
      : new RegExp([...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"), "g");
  return {
    keys,
    byId: (id) => byId.get(id),
    redact: (text) => (pattern === null ? text : text.replace(pattern, (secret) => bySecret.get(secret) ?? "…")),
  };
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

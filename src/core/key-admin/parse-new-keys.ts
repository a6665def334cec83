import { maskKey } from "../key-ring";

// POST /api/keys input: a list, or one string with keys one per line, or separated by
// commas or spaces. Anything that cannot be a key is rejected with its reason; an
// unusual shape alone is no reason (Google's key format is not a contract).

/** Keys one request may add; the issue asks for at least 1,000. */
export const MAX_KEYS_PER_REQUEST = 2_000;
const MAX_KEY_LENGTH = 256;

export interface ParsedKeys {
  /** Distinct acceptable keys, in the order given. */
  keys: string[];
  /** Repeats within this request. */
  duplicates: number;
  rejected: { masked: string; reason: string }[];
}

export type ParseKeysResult = ParsedKeys | { error: string; status: 400 | 413 };

function rejection(candidate: string): string | null {
  if (candidate === "") return "empty";
  if (/\s/.test(candidate)) return "contains whitespace";
  if (candidate.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  // Printable ASCII only: a key goes into an HTTP header, which cannot carry anything else.
  if (!/^[\x21-\x7e]+$/.test(candidate)) return "contains characters other than printable ASCII";
  return null;
}

export function parseNewKeys(value: unknown): ParseKeysResult {
  let candidates: string[];
  if (typeof value === "string") candidates = value.split(/[\s,;]+/).filter((part) => part !== "");
  else if (Array.isArray(value) && value.every((item) => typeof item === "string")) candidates = value.map((item: string) => item.trim());
  else return { error: '"keys" must be an array of strings or one string with keys separated by newlines, commas or spaces.', status: 400 };
  if (candidates.length === 0) return { error: '"keys" holds no key.', status: 400 };
  if (candidates.length > MAX_KEYS_PER_REQUEST) {
    return { error: `At most ${MAX_KEYS_PER_REQUEST} keys per request; this one has ${candidates.length}. Send them in several requests.`, status: 413 };
  }
  const seen = new Set<string>();
  const parsed: ParsedKeys = { keys: [], duplicates: 0, rejected: [] };
  for (const candidate of candidates) {
    const reason = rejection(candidate);
    if (reason !== null) parsed.rejected.push({ masked: candidate === "" ? "" : maskKey(candidate), reason });
    else if (seen.has(candidate)) parsed.duplicates++;
    else {
      seen.add(candidate);
      parsed.keys.push(candidate);
    }
  }
  return parsed;
}

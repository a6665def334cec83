import { MIN_MASKED_SECRET_LENGTH, maskKey } from "../key-ring";
import { groupNameProblem } from "./group-name";

// POST /api/keys input: a list, or one string with keys one per line, or separated by
// commas or spaces. Anything that cannot be a key is rejected with its reason; an
// unusual shape alone is no reason (Google's key format is not a contract). What people
// paste is cleaned first: a `.dev.vars` line (`API_KEYS="k1,k2"`) or a JSON array
// (`["k1", "k2"]`) gives its keys, not tokens such as `API_KEYS="k1` or `["k1"`.
// `group:key` puts a key in a project group, as in API_KEYS; a key without one takes the
// request's default group, if any.

/** Keys one request may add; the issue asks for at least 1,000. */
export const MAX_KEYS_PER_REQUEST = 2_000;
const MAX_KEY_LENGTH = 256;

export interface NewKeyEntry {
  secret: string;
  /** The project group (`group:key`, else the request's default); absent: a group of its own. */
  group?: string;
}

export interface ParsedKeys {
  /** Distinct acceptable keys, in the order given (a key given twice keeps its first group). */
  keys: NewKeyEntry[];
  /** Repeats within this request. */
  duplicates: number;
  rejected: { masked: string; reason: string }[];
}

export type ParseKeysResult = ParsedKeys | { error: string; status: 400 | 413 };

/** A leading `NAME=` (or `export NAME =`) of an env file line, when a value follows (not base64 padding). */
const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*(?=[^\s=])/;
/** Quotes and brackets around a token, and the commas or semicolons after it. */
const WRAPPING = /^["'`[\]]+|["'`[\],;]+$/g;

function unwrapped(token: string): string {
  return token.trim().replace(WRAPPING, "");
}

function rejection(candidate: string): string | null {
  if (candidate === "") return "empty";
  if (/\s/.test(candidate)) return "contains whitespace";
  if (candidate.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  // Printable ASCII only: a key goes into an HTTP header, which cannot carry anything else.
  if (!/^[\x21-\x7e]+$/.test(candidate)) return "contains characters other than printable ASCII";
  // Gemini keys have 39 characters. A shorter token is a paste accident (`json`, `=`,
  // `GEMINI_API_KEY`), and as a pool key it would be masked out of every answer.
  if (candidate.length < MIN_MASKED_SECRET_LENGTH) return `too short to be an API key (fewer than ${MIN_MASKED_SECRET_LENGTH} characters)`;
  return null;
}

/** `group:key` as API_KEYS reads it: the first colon splits, when both sides are non-empty. */
function splitGroup(candidate: string, defaultGroup: string | undefined): NewKeyEntry {
  const colon = candidate.indexOf(":");
  if (colon > 0 && colon < candidate.length - 1) return { group: candidate.slice(0, colon), secret: candidate.slice(colon + 1) };
  return { secret: candidate, ...(defaultGroup !== undefined && { group: defaultGroup }) };
}

/** `defaultGroup` (already checked) is the group of keys written without one. */
export function parseNewKeys(value: unknown, defaultGroup?: string): ParseKeysResult {
  let candidates: string[];
  if (typeof value === "string") {
    // Per line, so a `NAME=` is only taken off where a line starts; tokens that were only
    // punctuation (`[`, `=`, `",`) are dropped, not rejected.
    candidates = value
      .split(/\r?\n/)
      .flatMap((line) => line.replace(ASSIGNMENT, "").split(/[\s,;]+/))
      .map(unwrapped)
      .filter((part) => part !== "");
  } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    // An empty item stays, to be rejected as empty; one that was only punctuation goes.
    candidates = value.flatMap((item: string) => {
      const candidate = unwrapped(item.replace(ASSIGNMENT, ""));
      return candidate !== "" || item.trim() === "" ? [candidate] : [];
    });
  } else return { error: '"keys" must be an array of strings or one string with keys separated by newlines, commas or spaces.', status: 400 };
  if (candidates.length === 0) return { error: '"keys" holds no key.', status: 400 };
  if (candidates.length > MAX_KEYS_PER_REQUEST) {
    return { error: `At most ${MAX_KEYS_PER_REQUEST} keys per request; this one has ${candidates.length}. Send them in several requests.`, status: 413 };
  }
  const seen = new Set<string>();
  const parsed: ParsedKeys = { keys: [], duplicates: 0, rejected: [] };
  for (const candidate of candidates) {
    const entry = splitGroup(candidate, defaultGroup);
    const reason = rejection(entry.secret) ?? (entry.group === undefined ? null : groupNameProblem(entry.group));
    if (reason !== null) parsed.rejected.push({ masked: entry.secret === "" ? "" : maskKey(entry.secret), reason });
    else if (seen.has(entry.secret)) parsed.duplicates++;
    else {
      seen.add(entry.secret);
      parsed.keys.push(entry);
    }
  }
  return parsed;
}

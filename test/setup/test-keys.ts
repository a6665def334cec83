// Fake but realistic-looking Gemini keys (AIzaSy + 33 URL-safe characters, as Google's
// keys are), fixed so failures reproduce and redaction tests can search for them.

export const poolKeys: readonly string[] = [
  "AIzaSyjitNKNMxTe-pkITU2tyralicIah2B6AQj",
  "AIzaSyW79881gigEdniBNAJeH6KSCYeaRSTu0ab",
  "AIzaSyjMUcgxgULlDy8qCMnxvf9rBfb6fHInqyW",
  "AIzaSy1miupZXv3W5i3H2sB9xlPBDgQLHLcwlD4",
  "AIzaSyMJAJorIufstzLrxu7HaTRGEgBTflpXwGX",
  "AIzaSyIZ089G_03HZAKndMv6lsX-afg3bkDy7r-",
];

export const proxyToken = "test-proxy-token";

/** Every pool key that occurs in a text: what a redaction test expects to be empty. */
export function leakedKeys(text: string): string[] {
  return poolKeys.filter((key) => text.includes(key));
}

/** Pool keys (or `keys`) of which some run of `length` consecutive characters occurs in a text: key material that leaked. */
export function leakedKeyFragments(text: string, length = 12, keys: readonly string[] = poolKeys): string[] {
  return keys.filter((key) => Array.from({ length: key.length - length + 1 }, (_, at) => key.slice(at, at + length)).some((part) => text.includes(part)));
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** `count` more fake keys shaped like Google's, the same on every run for one `seed`. */
export function generatedPoolKeys(count: number, seed: number): string[] {
  let state = seed >>> 0;
  // A 32-bit LCG's top six bits pick each character: deterministic, and plenty for test keys.
  const next = (): string => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return KEY_ALPHABET[state >>> 26]!;
  };
  return Array.from({ length: count }, () => `AIzaSy${Array.from({ length: 33 }, next).join("")}`);
}

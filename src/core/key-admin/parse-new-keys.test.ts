import { describe, expect, it } from "vitest";
import { parseNewKeys, type ParsedKeys } from "./parse-new-keys";

// What an operator pastes into POST /api/keys: keys come out, and paste debris (an env
// file's `NAME=`, quotes, brackets, commas, words too short to be a key) never joins the pool.

const K1 = "AIzaSyD4r9Kq2LmX7vB1nT8pW3zY6cH0jF5gE01";
const K2 = "AIzaSyQ8sN2wR5tU1oP9aV4bM7kJ3hG6fL0xC02";
const K3 = "AIzaSyZ1yX2wV3uT4sR5qP6oN7mL8kJ9iH0gF03";

function parsed(value: unknown): ParsedKeys {
  const result = parseNewKeys(value);
  if ("error" in result) throw new Error(result.error);
  return result;
}

describe("parseNewKeys", () => {
  it("rejects tokens too short to be an API key", () => {
    const result = parsed(["json", "=", "GEMINI_API_KEY", K1]);
    expect(result.keys).toEqual([K1]);
    expect(result.rejected).toEqual(
      ["…on", "…=", "GEMI…_KEY"].map((masked) => ({ masked, reason: "too short to be an API key (fewer than 20 characters)" })),
    );
  });

  it("takes the keys out of a pasted .dev.vars line", () => {
    expect(parsed(`GEMINI_API_KEY = ${K1}`)).toEqual({ keys: [K1], duplicates: 0, rejected: [] });
    expect(parsed(`API_KEYS="${K1},${K2}"`)).toEqual({ keys: [K1, K2], duplicates: 0, rejected: [] });
    expect(parsed(`export API_KEYS='${K1} ${K2}'\nOTHER=${K3}`)).toEqual({ keys: [K1, K2, K3], duplicates: 0, rejected: [] });
  });

  it("takes the keys out of a pasted JSON array, in a string or as items", () => {
    expect(parsed(`["${K1}", "${K2}",]`)).toEqual({ keys: [K1, K2], duplicates: 0, rejected: [] });
    expect(parsed([`"${K1}",`, `'${K2}'`, "]"])).toEqual({ keys: [K1, K2], duplicates: 0, rejected: [] });
  });

  it("keeps a key whose shape is unusual, and still rejects empty items", () => {
    expect(parsed(["sk-not-google-shaped-but-printable", "abc123abc123abc123abc123=="]).keys).toEqual([
      "sk-not-google-shaped-but-printable",
      "abc123abc123abc123abc123==",
    ]);
    expect(parsed(["", K1]).rejected).toEqual([{ masked: "", reason: "empty" }]);
  });
});

import { describe, expect, it } from "vitest";
import { parseNewKeys, type ParsedKeys } from "./parse-new-keys";

// What an operator pastes into POST /api/keys: keys come out, and paste debris (an env
// file's `NAME=`, quotes, brackets, commas, words too short to be a key) never joins the pool.

const K1 = "AIzaSyD4r9Kq2LmX7vB1nT8pW3zY6cH0jF5gE01";
const K2 = "AIzaSyQ8sN2wR5tU1oP9aV4bM7kJ3hG6fL0xC02";
const K3 = "AIzaSyZ1yX2wV3uT4sR5qP6oN7mL8kJ9iH0gF03";

function grouped(value: unknown, defaultGroup?: string): ParsedKeys {
  const result = parseNewKeys(value, defaultGroup);
  if ("error" in result) throw new Error(result.error);
  return result;
}

/** The keys as secrets alone, for the tests that give no group. */
function parsed(value: unknown): Omit<ParsedKeys, "keys"> & { keys: string[] } {
  const result = grouped(value);
  for (const key of result.keys) expect(key.group).toBeUndefined();
  return { ...result, keys: result.keys.map((key) => key.secret) };
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

  it("reads group:key as API_KEYS does, and gives the request's group to keys written without one", () => {
    expect(grouped(`proj-a:${K1}\n${K2}, 项目_b:${K3}`, "default.1").keys).toEqual([
      { group: "proj-a", secret: K1 },
      { group: "default.1", secret: K2 },
      { group: "项目_b", secret: K3 },
    ]);
    // A key given twice counts once, in the group it was first given.
    expect(grouped([`a:${K1}`, `b:${K1}`, K1])).toEqual({ keys: [{ group: "a", secret: K1 }], duplicates: 2, rejected: [] });
  });

  it("rejects a key whose group is not a group name, naming the rule and masking the key", () => {
    const result = grouped([`a/b:${K1}`, `${"g".repeat(65)}:${K2}`, `ok:${K3}`]);
    expect(result.keys).toEqual([{ group: "ok", secret: K3 }]);
    expect(result.rejected).toEqual(
      [K1, K2].map((key) => ({ masked: `${key.slice(0, 4)}…${key.slice(-4)}`, reason: expect.stringContaining('letters, digits, ".", "_" or "-"') })),
    );
  });
});

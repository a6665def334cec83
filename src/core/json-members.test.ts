import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasKey, stringMembers, topLevelString } from "./json-members";

const encoder = new TextEncoder();
const values = (json: string, name: string, maxHits = 16) => stringMembers(encoder.encode(json), name, maxHits).map((member) => member.value);

describe("stringMembers", () => {
  it("finds string members at any depth, in order, without parsing", () => {
    const body = JSON.stringify({ a: { fileUri: "files/one" }, list: [{ fileUri: "files/two" }, { fileUri: 3 }], fileUri: "files/three" });
    expect(values(body, "fileUri")).toEqual(["files/one", "files/two", "files/three"]);
  });

  it("is not fooled by the name inside strings or as a value", () => {
    const body = JSON.stringify({ role: "model", text: 'he wrote "model": "gemini-evil"', model: "gemini-2.5-flash" });
    expect(values(body, "model")).toEqual(["gemini-2.5-flash"]);
  });

  it("allows whitespace around the colon, as any JSON writer may put it", () => {
    expect(values('{ "model" :\n  "gemini-2.5-pro" }', "model")).toEqual(["gemini-2.5-pro"]);
  });

  it("agrees with JSON.parse on the top-level member of generated bodies", () => {
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^[a-z0-9.-]{1,40}$/), fc.array(fc.string()), (text, model, extra) => {
        const body = JSON.stringify({ messages: [{ role: "user", content: text }, ...extra.map((content) => ({ role: "assistant", content }))], model });
        expect(values(body, "model")).toEqual([model]);
      }),
    );
  });

  it("looks at a bounded number of keys however many a body holds", () => {
    const body = `[${Array.from({ length: 1000 }, (_, i) => `{"fileUri":"files/f${i}"}`).join(",")}]`;
    expect(values(body, "fileUri", 32)).toHaveLength(32);
  });
});

describe("topLevelString", () => {
  const topLevel = (json: string | Uint8Array) => topLevelString(typeof json === "string" ? encoder.encode(json) : json, "model", 16);

  it("takes the top-level member, not one nested before it (a schema, an example)", () => {
    const body = JSON.stringify({ response_format: { schema: { example: { model: "DECOY" } } }, messages: [{ content: '"model": "x" {[' }], model: "gemini-2.5-pro" });
    expect(topLevel(body)).toBe("gemini-2.5-pro");
  });

  it("finds none in a body's start that names the model only nested, or not at all", () => {
    const body = JSON.stringify({ messages: [{ content: [{ type: "text", text: "hi" }], tool: { model: "DECOY" } }], padding: "x".repeat(100), model: "real" });
    expect(topLevel(encoder.encode(body).subarray(0, body.indexOf('"padding"')))).toBeNull();
    expect(topLevel('{"messages":[]}')).toBeNull();
    expect(topLevel('{"model":3}')).toBeNull();
  });

  it("agrees with JSON.parse on generated bodies", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.stringMatching(/^[a-z0-9.-]{1,40}$/), (before, nested, model) => {
        const body = JSON.stringify({ before, nested: { model: JSON.stringify(nested) }, model });
        expect(topLevel(body)).toBe(model);
      }),
    );
  });
});

describe("hasKey", () => {
  const has = (json: string, name: string) => hasKey(encoder.encode(json), name);

  it("finds a member of any type as a key, not as a value or inside a string", () => {
    expect(has(JSON.stringify({ contents: [{ parts: [{ fileData: { fileUri: "files/a" } }] }] }), "fileUri")).toBe(true);
    expect(has(JSON.stringify({ cachedContent: null }), "cachedContent")).toBe(true);
    expect(has(JSON.stringify({ text: 'say "fileUri": "files/x"', name: "fileUri" }), "fileUri")).toBe(false);
  });

  // Bodies built from the words that matter, as keys, values and text inside strings.
  const keys = fc.constantFrom("fileUri", "fileData", "text", "name");
  const { body } = fc.letrec((tie) => ({
    body: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom('"fileUri": "files/a"', "fileUri", "files/a", 'x "fileUri" y'),
      fc.integer(),
      fc.array(tie("body"), { maxLength: 3 }),
      fc.dictionary(keys, tie("body"), { maxKeys: 3 }),
    ),
  }));

  it("agrees with the regex it replaces on generated bodies", () => {
    fc.assert(
      fc.property(body, (value) => {
        const json = JSON.stringify(value);
        expect(has(json, "fileUri")).toBe(/"fileUri"\s*:/.test(json));
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { mayNameResources } from "./resource-names";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("mayNameResources", () => {
  it("finds each reference field Google checks, as a key at any depth, in either casing", () => {
    for (const name of ["fileUri", "file_uri", "fileName", "file_name", "cachedContent", "cached_content"]) {
      expect(mayNameResources(bytes(`{"contents":[{"parts":[{"x":{"${name}" : "files/abc"}}]}]}`)), name).toBe(true);
    }
  });

  it("passes bodies without one, including those with the same words as values or other keys", () => {
    for (const body of [
      `{"contents":[{"parts":[{"text":"Say hello."}]}]}`,
      `{"contents":[{"parts":[{"text":"\\"fileUri\\" is a field"}]}]}`,
      `{"files":"x","cachedTokens":1,"filename":"a.png"}`,
      ``,
    ]) {
      expect(mayNameResources(bytes(body)), body).toBe(false);
    }
  });
});

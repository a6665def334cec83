import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withoutInlineData } from "./inline-data";

// Cutting inline data out of a body before it is parsed must leave everything else exactly
// as it was: the names found in the parse decide which key a request goes to.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cut = (value: unknown, space?: number): unknown => JSON.parse(decoder.decode(withoutInlineData(encoder.encode(JSON.stringify(value, null, space)))));

/** Base64 of some length past the cutting threshold, as an image is sent. */
const base64 = fc.tuple(fc.integer({ min: 1_024, max: 6_000 }), fc.constantFrom("A", "Zz9+", "q/8", "0Ab")).map(([length, unit]) => unit.repeat(length).slice(0, length));

describe("withoutInlineData", () => {
  it("empties long inline data and data URLs, and leaves every other member as it was", () => {
    fc.assert(
      fc.property(base64, base64, fc.jsonValue(), fc.string(), fc.constantFrom(undefined, 2), (image, audio, other, text, space) => {
        const body = (data: string, url: string, wav: string) => ({
          other,
          contents: [{ parts: [{ text }, { inlineData: { mimeType: "image/png", data } }, { fileData: { fileUri: "files/abc", mimeType: "image/png" } }] }],
          messages: [{ content: [{ type: "image_url", image_url: { url } }, { type: "input_audio", input_audio: { data: wav, format: "wav" } }] }],
          cachedContent: "cachedContents/xyz",
        });
        // Through JSON once, as the parse sees it (-0 becomes 0).
        expect(cut(body(image, `data:image/png;base64,${image}`, audio), space)).toEqual(JSON.parse(JSON.stringify(body("", "", ""))));
      }),
      { numRuns: 100 },
    );
  });

  it("keeps short values, values that are not strings, and the same words inside other strings", () => {
    const body = {
      inlineData: { data: "c2hvcnQ=" },
      functionResponse: { response: { data: { rows: [1, 2, 3] } } },
      text: `quoted: "data": "${"x".repeat(2_000)}" and "data:${"y".repeat(2_000)}"`,
      [`key with "data:${"z".repeat(10)}`]: true,
    };
    expect(cut(body)).toEqual(body);
    expect(cut(body, 2)).toEqual(body);
  });

  it("returns the body itself when there is nothing to cut, and stops at a string that never ends", () => {
    const plain = encoder.encode('{"contents":[{"parts":[{"text":"hi"}]}]}');
    expect(withoutInlineData(plain)).toBe(plain);
    const open = encoder.encode(`{"data":"${"A".repeat(2_000)}`);
    expect(withoutInlineData(open)).toBe(open);
  });
});

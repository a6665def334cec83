import { describe, expect, it } from "vitest";
import { UsageScanner } from "./usage-scanner";

const encoder = new TextEncoder();

function scanInPieces(text: string, pieceLength: number) {
  const scanner = new UsageScanner();
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; at += pieceLength) scanner.push(bytes.subarray(at, at + pieceLength));
  return scanner.usage;
}

const sse = [1, 2, 3]
  .map(
    (n) =>
      `data: ${JSON.stringify({
        candidates: [{ content: { parts: [{ text: `chunk ${n} "usageMetadata": {"promptTokenCount": 999}` }] } }],
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: n * 5, thoughtsTokenCount: 2, totalTokenCount: 12 + n * 5 + 2 },
      })}\r\n\r\n`,
  )
  .join("");

describe("UsageScanner", () => {
  it("keeps the last cumulative usageMetadata of an SSE stream, however it is split", () => {
    for (const piece of [1, 3, 7, 64, 100_000]) {
      expect(scanInPieces(sse, piece)).toEqual({ promptTokens: 12, outputTokens: 17 });
    }
  });

  it("is not fooled by the marker inside generated text", () => {
    const body = JSON.stringify({ candidates: [{ content: { parts: [{ text: '"usageMetadata": {"promptTokenCount": 5}' }] } }] });
    expect(scanInPieces(body, 4)).toBeNull();
  });

  it("reads OpenAI-style usage, streamed or not", () => {
    const stream =
      'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}\n\ndata: [DONE]\n\n';
    expect(scanInPieces(stream, 5)).toEqual({ promptTokens: 9, outputTokens: 4 });
    expect(scanInPieces('{"usage": null}', 2)).toBeNull();
  });

  it("counts thinking as output when OpenAI-style usage leaves it out of completion_tokens", () => {
    const thinking = JSON.stringify({
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 113, completion_tokens_details: { reasoning_tokens: 100 } },
    });
    expect(scanInPieces(thinking, 7)).toEqual({ promptTokens: 9, outputTokens: 104 });
  });

  it("reads a JSON-array stream of responses", () => {
    const array = `[${JSON.stringify({ usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 } })}\r\n,${JSON.stringify({
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 8 },
    })}]`;
    expect(scanInPieces(array, 2)).toEqual({ promptTokens: 3, outputTokens: 8 });
  });

  it("handles multi-byte characters split across chunks", () => {
    const body = JSON.stringify({ text: "é🙂".repeat(50), usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 2 } });
    expect(scanInPieces(body, 1)).toEqual({ promptTokens: 7, outputTokens: 2 });
  });
});

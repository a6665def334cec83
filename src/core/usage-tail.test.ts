import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UsageScanner } from "./usage-scanner";
import { UsageTail } from "./usage-tail";

// The tail reader must agree with the full streaming scanner on every body the upstream
// sends, however the body is cut into pieces, while looking only at its end.

const encoder = new TextEncoder();

function inPieces(body: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (body.byteLength + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, body.byteLength]) {
    if (point > from) pieces.push(body.subarray(from, point));
    from = Math.max(from, point);
  }
  return pieces;
}

function tailOf(body: Uint8Array, cuts: number[]) {
  const tail = new UsageTail();
  for (const piece of inPieces(body, cuts)) tail.push(piece);
  return tail.usage;
}

function scanned(body: Uint8Array) {
  const scanner = new UsageScanner();
  scanner.push(body);
  return scanner.usage;
}

function sseStream(events: number, textPerEvent: string): string {
  let out = "";
  for (let n = 1; n <= events; n++) {
    out += `data: ${JSON.stringify({
      candidates: [{ content: { parts: [{ text: `${textPerEvent} "usageMetadata": {"promptTokenCount": 999}` }] } }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: n * 5, thoughtsTokenCount: 2, totalTokenCount: 12 + n * 5 + 2 },
    })}\r\n\r\n`;
  }
  return out;
}

describe("UsageTail", () => {
  it("finds the last cumulative usage of a long SSE stream, however it is cut", () => {
    const body = encoder.encode(sseStream(400, "words ".repeat(40)));
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
        expect(tailOf(body, cuts)).toEqual({ promptTokens: 12, outputTokens: 2002 });
      }),
    );
  });

  it("agrees with the full scanner on OpenAI streams, JSON arrays and plain answers", () => {
    const bodies = [
      'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}\n\ndata: [DONE]\n\n',
      `[${JSON.stringify({ usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 } })}\r\n,${JSON.stringify({ usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 8 } })}]`,
      JSON.stringify({ candidates: [{ content: { parts: [{ inlineData: { data: "A".repeat(300_000) } }] } }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 1290 }, modelVersion: "x" }),
      JSON.stringify({ text: "é🙂".repeat(50), usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 2 } }),
      '{"usage": null}',
      JSON.stringify({ candidates: [{ content: { parts: [{ text: '"usageMetadata": {"promptTokenCount": 5}' }] } }] }),
    ].map((text) => encoder.encode(text));
    for (const body of bodies) {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
          expect(tailOf(body, cuts)).toEqual(scanned(body));
        }),
      );
    }
  });

  it("keeps its own copy: a piece read into a reused buffer may be overwritten by the next read", () => {
    const body = encoder.encode(sseStream(60, "words ".repeat(40)));
    const reused = new Uint8Array(4096);
    const tail = new UsageTail();
    for (let from = 0; from < body.byteLength; from += reused.byteLength) {
      const piece = body.subarray(from, from + reused.byteLength);
      reused.set(piece);
      tail.push(reused.subarray(0, piece.byteLength));
    }
    reused.fill(0x20);
    expect(tail.usage).toEqual({ promptTokens: 12, outputTokens: 302 });
  });

  it("falls back to the previous usage when the body breaks inside the last one", () => {
    const whole = sseStream(3, "hello");
    const broken = encoder.encode(whole.slice(0, whole.lastIndexOf('"candidatesTokenCount"') + 5));
    expect(tailOf(broken, [100])).toEqual({ promptTokens: 12, outputTokens: 12 });
  });
});

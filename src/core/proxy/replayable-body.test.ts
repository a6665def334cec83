import { describe, expect, it } from "vitest";
import { ReplayableBody } from "./replayable-body";
import { LongerThanDeclared, standardStreams } from "./stream-runtime";

// The standard-streams fallback (for runtimes without Workers' native streams): a body
// that arrives in many small chunks is searched at its start and replayed byte for byte.

function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function text(body: Uint8Array | ReadableStream<Uint8Array>): Promise<string> {
  return body instanceof Uint8Array ? new TextDecoder().decode(body) : new Response(body).text();
}

describe("a replayable body on standard streams", () => {
  const body = Array.from({ length: 5_000 }, (_, i) => `part ${i};`).join("");

  it("reads at least the start asked for, and every attempt gets the whole body", async () => {
    const replayable = await ReplayableBody.of(chunked(body, 1_000), body.length, 4_096, standardStreams);
    expect(replayable.start.byteLength).toBeGreaterThanOrEqual(4_096);
    expect(new TextDecoder().decode(replayable.start)).toBe(body.slice(0, replayable.start.byteLength));
    expect(await text(await replayable.next())).toBe(body);
    expect(await text(await replayable.next())).toBe(body);
    expect(replayable.complete).toBe(true);
  });

  it("reads a body shorter than the start whole", async () => {
    const replayable = await ReplayableBody.of(chunked("short", 2), 5, 4_096, standardStreams);
    expect(new TextDecoder().decode(replayable.start)).toBe("short");
    expect(new TextDecoder().decode(await replayable.whole())).toBe("short");
  });

  it("refuses a body longer than it declared when reading it whole, rather than cut it", async () => {
    const replayable = await ReplayableBody.of(chunked(body, 1_000), body.length - 1, 4_096, standardStreams);
    await expect(replayable.whole()).rejects.toThrow(LongerThanDeclared);
  });
});

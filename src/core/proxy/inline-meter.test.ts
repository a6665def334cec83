import { describe, expect, it } from "vitest";
import type { TokenUsage } from "../usage-scanner";
import type { MeterOptions } from "./body-meter";
import { inlineMeter } from "./inline-meter";

// The inline meter with real streams: an upstream body made of SSE events (each with the
// running usage, as Gemini sends them), read by a client the way the server reads it.

const encoder = new TextEncoder();
const IDLE_MS = 150;
const TAIL = encoder.encode('data: {"error":"interrupted"}\n\n');

function event(n: number, text = "words "): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }] } }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: n } })}\r\n\r\n`);
}

/** An upstream body under the test's control: it records what was asked of it. */
interface Upstream {
  body: ReadableStream<Uint8Array>;
  /** How many chunks the meter asked for. */
  pulls(): number;
  cancelled(): unknown;
}

/** Sends `events` events, one per pull, then (per `then`) ends, breaks or stalls. */
function upstream(events: number, then: "end" | "reset" | "stall" = "end", spacingMs = 0): Upstream {
  let pulls = 0;
  let cancelled: unknown = undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pulls++;
        if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
        if (pulls <= events) return controller.enqueue(event(pulls));
        if (then === "end") return controller.close();
        if (then === "reset") return controller.error(new TypeError("terminated"));
        await new Promise(() => undefined);
      },
      cancel(reason) {
        cancelled = reason ?? "cancelled";
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulls: () => pulls, cancelled: () => cancelled };
}

/** The options a meter gets, with its one ending recorded. */
function metering(extra: Partial<MeterOptions> = {}, tail: Uint8Array | null = TAIL): { options: MeterOptions; ends: (TokenUsage | null)[] } {
  const ends: (TokenUsage | null)[] = [];
  const options: MeterOptions = { idleTimeoutMs: IDLE_MS, onEnd: (usage) => ends.push(usage), failureTail: () => tail, ...extra };
  return { options, ends };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await new Response(stream).arrayBuffer());
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("the inline meter", () => {
  it("hands the client every chunk itself, uncopied, and counts the last usage once at the end", async () => {
    const sent: Uint8Array[] = [];
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++n > 2_000) return controller.close();
        const chunk = event(n);
        sent.push(chunk);
        controller.enqueue(chunk);
      },
    });
    const { options, ends } = metering();
    const reader = inlineMeter(body, options).getReader();
    const received: Uint8Array[] = [];
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received.push(chunk.value);
    expect(received).toHaveLength(2_000);
    expect(received.every((chunk, at) => chunk === sent[at])).toBe(true);
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 2_000 }]);
  });

  it("sends the body's start first and counts it", async () => {
    const { options, ends } = metering({ prefix: event(1, "start") });
    const text = await readAll(inlineMeter(new ReadableStream({ start: (controller) => controller.close() }), options));
    expect(text).toContain('"start"');
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 1 }]);
  });

  it("keeps going while bytes keep coming, even when the whole body takes longer than the idle timeout", async () => {
    const source = upstream(8, "end", IDLE_MS / 3);
    const { options, ends } = metering();
    const text = await readAll(inlineMeter(source.body, options));
    expect(text).not.toContain("interrupted");
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 8 }]);
    expect(source.cancelled()).toBeUndefined();
  });

  it("ends a stalled event stream with its failure tail, lets the upstream go and counts what was served", async () => {
    const source = upstream(3, "stall");
    const causes: string[] = [];
    const { options, ends } = metering({ failureTail: (cause) => (causes.push(cause), TAIL) });
    const started = Date.now();
    const text = await readAll(inlineMeter(source.body, options));
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 5);
    expect(text.endsWith(new TextDecoder().decode(TAIL))).toBe(true);
    expect(causes).toEqual(["stalled"]);
    expect(source.cancelled()).toBeInstanceOf(Error);
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 3 }]);
  });

  it("breaks a stalled body without a failure tail, so the client sees it cut", async () => {
    const source = upstream(2, "stall");
    const { options, ends } = metering({}, null);
    await expect(readAll(inlineMeter(source.body, options))).rejects.toThrow(/stopped sending/);
    expect(source.cancelled()).toBeInstanceOf(Error);
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 2 }]);
  });

  it("ends a reset event stream with its failure tail, counted once", async () => {
    const source = upstream(2, "reset");
    const causes: string[] = [];
    const { options, ends } = metering({ failureTail: (cause) => (causes.push(cause), TAIL) });
    const text = await readAll(inlineMeter(source.body, options));
    expect(text.endsWith(new TextDecoder().decode(TAIL))).toBe(true);
    expect(causes).toEqual(["reset"]);
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 2 }]);
  });

  it("cancels the upstream at once when the client leaves, and counts what it was served", async () => {
    const source = upstream(1_000);
    const { options, ends } = metering();
    const reader = inlineMeter(source.body, options).getReader();
    for (let n = 0; n < 5; n++) await reader.read();
    await reader.cancel("client left");
    expect(source.cancelled()).toBe("client left");
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 5 }]);
    await settle(IDLE_MS * 2);
    expect(ends).toHaveLength(1);
  });

  it("reads the upstream no faster than the client: nothing is read ahead for a client that waits", async () => {
    const source = upstream(1_000);
    const { options } = metering({ idleTimeoutMs: 10_000 });
    const reader = inlineMeter(source.body, options).getReader();
    await settle(50);
    expect(source.pulls()).toBe(0);
    for (let n = 0; n < 10; n++) await reader.read();
    await settle(50);
    expect(source.pulls()).toBeLessThanOrEqual(11);
    await reader.cancel();
  });

  it("treats a client that stops reading for the idle timeout as a stall: the upstream is let go", async () => {
    const source = upstream(1_000);
    const { options, ends } = metering();
    const reader = inlineMeter(source.body, options).getReader();
    await reader.read();
    await settle(IDLE_MS * 2);
    expect(source.cancelled()).toBeInstanceOf(Error);
    expect(ends).toEqual([{ promptTokens: 7, outputTokens: 1 }]);
  });
});

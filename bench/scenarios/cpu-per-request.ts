// CPU per request: the workerd processes' CPU time (from /proc) over N sequential requests
// of one kind, for the proxy and for the floor in the same run, rounds alternating. What
// matters is how the proxy's added CPU grows with the length of a streamed answer and the
// size of a request body: on the Workers Free plan every request has 10 ms of CPU.

import { randomBytes } from "node:crypto";
import type { FakeUpstream } from "../../test/fake-upstream/index.ts";
import { proxyToken } from "../../test/setup/test-keys.ts";
import type { BenchConfig } from "../lib/config.ts";
import { workerdCpuReader } from "../lib/process-cpu.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody, streamPath } from "../lib/requests.ts";
import { roundOrder, type Target } from "../lib/targets.ts";

export const CPU_MODEL_40 = "gemini-bench-cpu-40";
export const CPU_MODEL_400 = "gemini-bench-cpu-400";
/** Text per streamed event: a few words, as a model streams them. */
const EVENT_TEXT = "A few words of the streamed answer here. ";
/** Time for the work a response leaves behind (usage batching flushes every 200 ms). */
const SETTLE_MS = 400;

export const CPU_CASES = [
  "small generateContent",
  "SSE stream, 40 events",
  "SSE stream, 400 events",
  "OpenAI stream, 40 events",
  "native body 1 MB",
  "native body 15 MB",
  "OpenAI body 1 MB",
  "OpenAI body 15 MB",
] as const;
export type CpuCase = (typeof CPU_CASES)[number];

export interface CpuSample {
  /** Milliseconds of workerd CPU per request, proxy and floor. */
  proxyMs: number;
  floorMs: number;
  /** proxyMs - floorMs. */
  addedMs: number;
  /** The same difference in the runtime process alone, without wrangler's dev proxy in front. */
  runtimeAddedMs: number;
  requests: number;
}

export type CpuResult = Partial<Record<CpuCase, CpuSample>>;

interface CaseRequest {
  /** Path on the proxy, and on the floor (which forwards paths to the upstream as they are). */
  proxyPath: string;
  floorPath: string;
  headers: Record<string, string>;
  body: string;
  /** Requests per target per round: enough that one slow request (a GC) does not decide the case. */
  count: number;
}

function inlineBase64(megabytes: number): string {
  // Random bytes, base64-encoded as clients send images: 3 bytes become 4 characters.
  return randomBytes(Math.floor((megabytes * 1_000_000 * 3) / 4)).toString("base64");
}

const openAIHeaders = { authorization: `Bearer ${proxyToken}`, "content-type": "application/json" };
const chatPath = { proxyPath: "/v1/chat/completions", floorPath: "/v1beta/openai/chat/completions" };

function caseRequests(): Record<CpuCase, CaseRequest> {
  const native = (path: string, body: string, count: number): CaseRequest => ({
    proxyPath: path,
    floorPath: path,
    headers: clientHeaders,
    body,
    count,
  });
  const nativeImage = (data: string): string =>
    JSON.stringify({ contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data } }, { text: "Describe it." }] }] });
  const openAIImage = (data: string): string =>
    JSON.stringify({
      model: LOAD_MODEL,
      messages: [{ role: "user", content: [{ type: "text", text: "Describe it." }, { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } }] }],
    });
  const small = inlineBase64(1);
  const large = inlineBase64(15);
  return {
    "small generateContent": native(generatePath(LOAD_MODEL), promptBody, 40),
    "SSE stream, 40 events": native(streamPath(CPU_MODEL_40), promptBody, 24),
    "SSE stream, 400 events": native(streamPath(CPU_MODEL_400), promptBody, 8),
    "OpenAI stream, 40 events": {
      ...chatPath,
      headers: openAIHeaders,
      body: JSON.stringify({ model: CPU_MODEL_40, stream: true, messages: [{ role: "user", content: "Say hello." }] }),
      count: 24,
    },
    "native body 1 MB": native(generatePath(LOAD_MODEL), nativeImage(small), 16),
    "native body 15 MB": native(generatePath(LOAD_MODEL), nativeImage(large), 4),
    "OpenAI body 1 MB": { ...chatPath, headers: openAIHeaders, body: openAIImage(small), count: 16 },
    "OpenAI body 15 MB": { ...chatPath, headers: openAIHeaders, body: openAIImage(large), count: 4 },
  };
}

async function send(origin: string, path: string, request: CaseRequest): Promise<void> {
  const response = await fetch(`${origin}${path}`, { method: "POST", headers: request.headers, body: request.body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`cpu bench: ${origin}${path} answered ${response.status}`);
}

export async function measureCpuPerRequest(
  upstream: FakeUpstream,
  targets: { proxy: Target; floor: Target },
  config: BenchConfig,
  log: (line: string) => void,
): Promise<CpuResult> {
  upstream.setModel({ model: CPU_MODEL_40, chunks: 40, chunkDelayMs: 0, text: EVENT_TEXT.repeat(40) });
  upstream.setModel({ model: CPU_MODEL_400, chunks: 400, chunkDelayMs: 0, text: EVENT_TEXT.repeat(400) });
  const readers = { proxy: await workerdCpuReader(targets.proxy.origin), floor: await workerdCpuReader(targets.floor.origin) };
  const requests = caseRequests();
  const result = {} as CpuResult;
  const chosen = CPU_CASES.filter((name) => config.cpuCases.length === 0 || config.cpuCases.some((part) => name.includes(part)));
  for (const name of chosen) {
    const request = requests[name];
    const spent = { proxy: 0, floor: 0 };
    const ticked = { proxy: 0, floor: 0 };
    const inRuntime = { proxy: 0, floor: 0 };
    const sent = { proxy: 0, floor: 0 };
    for (const side of ["proxy", "floor"] as const) {
      // Warm-up, unmeasured: JIT, connection pools, the Durable Object's first answer.
      const path = side === "proxy" ? request.proxyPath : request.floorPath;
      for (let i = 0; i < 2; i++) await send(targets[side].origin, path, request);
    }
    for (let round = 0; round < config.cpuRounds; round++) {
      for (const side of roundOrder(["proxy", "floor"] as const, round)) {
        const path = side === "proxy" ? request.proxyPath : request.floorPath;
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const before = await readers[side]();
        for (let i = 0; i < request.count; i++) await send(targets[side].origin, path, request);
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const after = await readers[side]();
        spent[side] += after.ms - before.ms;
        ticked[side] += after.tickMs - before.tickMs;
        inRuntime[side] += after.runtimeMs - before.runtimeMs;
        sent[side] += request.count;
      }
    }
    for (const side of ["proxy", "floor"] as const) {
      // The threads' own times leave out a thread that ended meanwhile; the ticks do not.
      if (Math.abs(ticked[side] - spent[side]) > 20 + 0.05 * ticked[side]) {
        log(`  cpu ${name}: ${side} threads ${spent[side].toFixed(0)} ms but process ticks ${ticked[side].toFixed(0)} ms: a thread came or went`);
      }
    }
    const proxyMs = spent.proxy / sent.proxy;
    const floorMs = spent.floor / sent.floor;
    const runtimeAddedMs = inRuntime.proxy / sent.proxy - inRuntime.floor / sent.floor;
    result[name] = { proxyMs, floorMs, addedMs: proxyMs - floorMs, runtimeAddedMs, requests: sent.proxy };
    log(`  cpu ${name}: proxy ${proxyMs.toFixed(1)} ms, floor ${floorMs.toFixed(1)} ms per request`);
  }
  return result;
}

// Resident memory of the workerd processes (or the Node server's one process) while one
// large SSE response (~200 MB) flows through, read as fast as the client can. A proxy that streams stays flat; one that
// buffers the body grows by about its size.

import { Agent } from "node:http";
import type { FakeUpstream } from "../../test/fake-upstream/index.ts";
import type { BenchConfig } from "../lib/config.ts";
import { findWorkerd, residentMiB } from "../lib/process-memory.ts";
import { clientHeaders, LARGE_MODEL, promptBody, streamPath } from "../lib/requests.ts";
import { timeStream } from "../lib/stream-timing.ts";
import { roundOrder, type Target, type TargetName } from "../lib/targets.ts";

/** Text per SSE event: large enough to move 200 MB in a few thousand events. */
const CHUNK_TEXT_BYTES = 64 * 1024;
const SAMPLE_EVERY_MS = 100;
/** Growth (peak minus start) below this counts as flat: far less than any buffered body. */
export const FLAT_LIMIT_MIB = 50;
/**
 * The slow client's reading speed: far below what the upstream sends, so anything that
 * reads the upstream ahead of the client (a tee's faster branch) would pile the body up.
 */
const SLOW_CLIENT_BYTES_PER_SECOND = 40 * 1_000_000;

export interface MemoryRun {
  bytes: number;
  seconds: number;
  /** VmRSS of the workerd that runs the worker (the Node server's process), MiB. */
  startMiB: number;
  peakMiB: number;
  endMiB: number;
  /** The same for wrangler's dev proxy workerd in front of it; 0 for the Node server, which has none. */
  frontStartMiB: number;
  frontPeakMiB: number;
  frontEndMiB: number;
}

type Measured = Exclude<TargetName, "direct">;

export type StreamingMemoryResult = Record<Measured, MemoryRun[]> & {
  /** One run each with a client that reads at SLOW_CLIENT_BYTES_PER_SECOND. */
  slow: Record<Measured, MemoryRun>;
};

/** The processes whose memory is read: workerd's two, or the Node server alone (front null). */
async function processesOf(target: Target): Promise<{ runtime: number; front: number | null }> {
  return target.pid !== undefined ? { runtime: target.pid, front: null } : findWorkerd(Number(new URL(target.origin).port));
}

async function measureOne(target: Target, maxBytesPerSecond?: number): Promise<MemoryRun> {
  const { runtime, front } = await processesOf(target);
  const frontMiB = (): Promise<number> => (front === null ? Promise.resolve(0) : residentMiB(front));
  const startMiB = await residentMiB(runtime);
  const frontStartMiB = await frontMiB();
  let peakMiB = startMiB;
  let frontPeakMiB = frontStartMiB;
  const sampler = setInterval(() => {
    void Promise.all([residentMiB(runtime), frontMiB()]).then(([rss, frontRss]) => {
      peakMiB = Math.max(peakMiB, rss);
      frontPeakMiB = Math.max(frontPeakMiB, frontRss);
    });
  }, SAMPLE_EVERY_MS);
  const agent = new Agent({ keepAlive: false });
  const started = performance.now();
  try {
    const timing = await timeStream({
      url: `${target.origin}${streamPath(LARGE_MODEL)}`,
      headers: clientHeaders,
      body: promptBody,
      agent,
      ...(maxBytesPerSecond !== undefined && { maxBytesPerSecond }),
    });
    if (timing.status !== 200) throw new Error(`large stream through ${target.name} answered ${timing.status}`);
    const endMiB = await residentMiB(runtime);
    const frontEndMiB = await frontMiB();
    return {
      bytes: timing.bytes,
      seconds: (performance.now() - started) / 1000,
      startMiB,
      peakMiB: Math.max(peakMiB, endMiB),
      endMiB,
      frontStartMiB,
      frontPeakMiB: Math.max(frontPeakMiB, frontEndMiB),
      frontEndMiB,
    };
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
}

export async function measureStreamingMemory(
  upstream: FakeUpstream,
  targets: readonly Target[],
  config: BenchConfig,
  log: (line: string) => void,
): Promise<StreamingMemoryResult> {
  // The fake holds this text once and frames it per request; it lives in the bench
  // process, not in the processes whose memory is measured.
  const text = "x".repeat(config.largeMb * 1_000_000);
  upstream.setModel({ model: LARGE_MODEL, text, chunks: Math.ceil(text.length / CHUNK_TEXT_BYTES), chunkDelayMs: 0 });
  const runs: Record<Measured, MemoryRun[]> = { proxy: [], node: [], floor: [] };
  const slow: Partial<Record<Measured, MemoryRun>> = {};
  const describe = (name: string, run: MemoryRun): string =>
    `  memory ${name}: ${(run.bytes / 1e6).toFixed(0)} MB in ${run.seconds.toFixed(1)} s, ` +
    `RSS ${run.startMiB.toFixed(0)} → peak ${run.peakMiB.toFixed(0)} → ${run.endMiB.toFixed(0)} MiB`;
  // Two rounds, A/B then B/A: the second run of each shows whether memory came back.
  for (let round = 0; round < 2; round++) {
    for (const target of roundOrder(targets, round)) {
      if (target.name === "direct") continue;
      const run = await measureOne(target);
      runs[target.name].push(run);
      log(describe(target.name, run));
    }
  }
  for (const target of targets) {
    if (target.name === "direct") continue;
    const run = await measureOne(target, SLOW_CLIENT_BYTES_PER_SECOND);
    slow[target.name] = run;
    log(describe(`${target.name} (slow client)`, run));
  }
  if (slow.proxy === undefined || slow.node === undefined || slow.floor === undefined) throw new Error("memory: the slow-client runs need proxy, node and floor");
  const result: StreamingMemoryResult = { ...runs, slow: { proxy: slow.proxy, node: slow.node, floor: slow.floor } };
  upstream.setModel({ model: LARGE_MODEL, text: "released" });
  return result;
}

// A stream whose upstream sends 10 chunks 50 ms apart: how much later than through the
// floor does the first chunk, and the last, reach the client through the proxy?

import { Agent } from "node:http";
import type { FakeUpstream } from "../../test/fake-upstream/index.ts";
import type { BenchConfig } from "../lib/config.ts";
import { clientHeaders, promptBody, STREAM_MODEL, streamPath } from "../lib/requests.ts";
import { median } from "../lib/stats.ts";
import { timeStream } from "../lib/stream-timing.ts";
import { roundOrder, type Target, type TargetName } from "../lib/targets.ts";

export const STREAM_CHUNKS = 10;
export const STREAM_CHUNK_DELAY_MS = 50;

export interface TargetStreamTiming {
  firstChunkMs: number;
  lastChunkMs: number;
  samples: number;
}

export type StreamLatencyResult = Record<Exclude<TargetName, "direct">, TargetStreamTiming>;

export async function measureStreamLatency(
  upstream: FakeUpstream,
  targets: readonly Target[],
  config: BenchConfig,
): Promise<StreamLatencyResult> {
  upstream.setModel({ model: STREAM_MODEL, chunks: STREAM_CHUNKS, chunkDelayMs: STREAM_CHUNK_DELAY_MS });
  // One kept-alive connection per target, as a streaming client would hold it.
  const agents = new Map(targets.map((target) => [target.name, new Agent({ keepAlive: true, maxSockets: 1 })]));
  const first = new Map<string, number[]>();
  const last = new Map<string, number[]>();
  const sample = async (target: Target, record: boolean): Promise<void> => {
    const timing = await timeStream({
      url: `${target.origin}${streamPath(STREAM_MODEL)}`,
      headers: clientHeaders,
      body: promptBody,
      agent: agents.get(target.name) ?? new Agent(),
    });
    if (timing.status !== 200) throw new Error(`stream through ${target.name} answered ${timing.status}`);
    if (!record) return;
    first.set(target.name, [...(first.get(target.name) ?? []), timing.firstChunkMs]);
    last.set(target.name, [...(last.get(target.name) ?? []), timing.lastChunkMs]);
  };
  try {
    for (const target of targets) await sample(target, false);
    for (let round = 0; round < config.rounds; round++) {
      for (const target of roundOrder(targets, round)) {
        for (let i = 0; i < config.streamSamples; i++) await sample(target, true);
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
  const summary = (name: keyof StreamLatencyResult): TargetStreamTiming => ({
    firstChunkMs: median(first.get(name) ?? []),
    lastChunkMs: median(last.get(name) ?? []),
    samples: first.get(name)?.length ?? 0,
  });
  return { proxy: summary("proxy"), node: summary("node"), floor: summary("floor") };
}

// What a far-away key manager costs a client. In production the Durable Object lives in
// one place; a client far from it would pay that distance on every request if requests
// awaited it. The counting build answers every Durable Object call late on request
// (`/__bench/do-delay`); this phase loads it with and without the delay, in alternating
// rounds on the same warm process, and compares the latencies.

import type { BenchConfig } from "../lib/config.ts";
import type { DoCounts } from "../counting-worker/worker.ts";
import { runLoad, type LoadResult } from "../lib/load.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody } from "../lib/requests.ts";
import { median, percentile } from "../lib/stats.ts";

/** The delay every Durable Object call gets in the "late" rounds. */
export const LATE_MS = 50;

export interface LateManagerSide {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
}

export interface LateManagerResult {
  delayMs: number;
  prompt: LateManagerSide;
  late: LateManagerSide;
  /** Durable Object calls per request over the late rounds. */
  lateCallsPerRequest: number;
}

function summary(results: LoadResult[]): LateManagerSide {
  const latencies = results.flatMap((result) => result.latenciesMs);
  return {
    rps: median(results.map((result) => result.rps)),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: latencies.length,
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
  };
}

const totalCalls = (counts: DoCounts): number => Object.values(counts.calls).reduce((sum, n) => sum + n, 0);

export async function measureLateManager(origin: string, config: BenchConfig): Promise<LateManagerResult> {
  const setDelay = async (ms: number) => void (await fetch(`${origin}/__bench/do-delay?ms=${ms}`)).body?.cancel();
  const counts = async () => (await (await fetch(`${origin}/__bench/do-counts`)).json()) as DoCounts;
  const load = (durationS: number) =>
    runLoad({ url: `${origin}${generatePath(LOAD_MODEL)}`, connections: config.connections, durationS, body: promptBody, headers: clientHeaders });

  // Warm: the isolate holds a view before anything is measured.
  await load(config.warmupS);
  const prompt: LoadResult[] = [];
  const late: LoadResult[] = [];
  let lateCalls = 0;
  for (let round = 0; round < config.rounds; round++) {
    // Alternating order, so drift of the machine hits both sides alike.
    for (const delayed of round % 2 === 0 ? [false, true] : [true, false]) {
      await setDelay(delayed ? LATE_MS : 0);
      const before = await counts();
      const result = await load(config.durationS);
      // The last batch of usage lands after the load ends; wait it out before counting.
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (delayed) lateCalls += totalCalls(await counts()) - totalCalls(before);
      (delayed ? late : prompt).push(result);
    }
  }
  await setDelay(0);
  const lateSide = summary(late);
  return { delayMs: LATE_MS, prompt: summary(prompt), late: lateSide, lateCallsPerRequest: lateCalls / Math.max(1, lateSide.requests) };
}

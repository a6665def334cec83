// What a far-away key manager costs a client. In production the Durable Object lives in
// one place; a client far from it would pay that distance on every request if requests
// awaited it. The counting build answers every Durable Object call late on request
// (`/__bench/do-delay`); this phase loads it with and without the delay, in alternating
// rounds on the same warm process, and compares the latencies. Then the same for a sparse
// client (one person's coding assistant): one request at a time, far enough apart that the
// isolate's pool view is older than a second whenever a request comes.

import { BATCH_DELAY_MS } from "../../src/core/proxy/usage-batch.ts";
import type { BenchConfig } from "../lib/config.ts";
import type { DoCounts } from "../counting-worker/worker.ts";
import { runLoad, type LoadResult } from "../lib/load.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody } from "../lib/requests.ts";
import { median, percentile } from "../lib/stats.ts";

/** The delay every Durable Object call gets in the "late" rounds. */
export const LATE_MS = 50;
/**
 * Between one sparse request's answer and the next request. A request's usage report goes
 * to the object half a second after it (usage-batch.ts) and its answer renews the view,
 * so requests must be this far apart for the view to be past STALE_AFTER_MS (1 s) when
 * the next one comes, as it is in production for a client that sends every few seconds.
 */
export const SPARSE_GAP_MS = 2_000;

export interface LateManagerSide {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
}

/** One run of sparse requests: the latency of each served one. */
interface SparseRun {
  latenciesMs: number[];
  non2xx: number;
}

/** Sequential requests SPARSE_GAP_MS apart: p50 of each side's latencies. */
export interface SparseSide {
  p50Ms: number;
  requests: number;
  non2xx: number;
}

export interface LateManagerResult {
  delayMs: number;
  prompt: LateManagerSide;
  late: LateManagerSide;
  /** Durable Object calls per request over the late rounds. */
  lateCallsPerRequest: number;
  sparse: { gapMs: number; prompt: SparseSide; late: SparseSide; callsPerRequest: number };
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request at a time, each after SPARSE_GAP_MS of silence: the latency each took, and how many were not 2xx. */
async function sparseRequests(origin: string, count: number): Promise<SparseRun> {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  for (let i = 0; i < count; i++) {
    await sleep(SPARSE_GAP_MS);
    const start = performance.now();
    const response = await fetch(`${origin}${generatePath(LOAD_MODEL)}`, { method: "POST", headers: clientHeaders, body: promptBody });
    await response.arrayBuffer();
    if (response.ok) latenciesMs.push(performance.now() - start);
    else non2xx++;
  }
  return { latenciesMs, non2xx };
}

function sparseSummary(results: SparseRun[]): SparseSide {
  const latencies = results.flatMap((result) => result.latenciesMs);
  return { p50Ms: percentile(latencies, 50), requests: latencies.length, non2xx: results.reduce((sum, result) => sum + result.non2xx, 0) };
}

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
      // The last batch of usage lands after the load ends, when its timer runs out; wait it out before counting.
      await sleep(BATCH_DELAY_MS + 500);
      if (delayed) lateCalls += totalCalls(await counts()) - totalCalls(before);
      (delayed ? late : prompt).push(result);
    }
  }
  // Sparse: the same warm process, the same alternation, one request at a time.
  const sparse: Record<"prompt" | "late", SparseRun[]> = { prompt: [], late: [] };
  let sparseCalls = 0;
  for (let round = 0; round < config.rounds; round++) {
    for (const delayed of round % 2 === 0 ? [false, true] : [true, false]) {
      await setDelay(delayed ? LATE_MS : 0);
      const before = await counts();
      (delayed ? sparse.late : sparse.prompt).push(await sparseRequests(origin, config.sparseRequests));
      // The last request's usage goes when its batch's timer runs out.
      await sleep(BATCH_DELAY_MS + 500);
      sparseCalls += totalCalls(await counts()) - totalCalls(before);
    }
  }
  await setDelay(0);
  const lateSide = summary(late);
  return {
    delayMs: LATE_MS,
    prompt: summary(prompt),
    late: lateSide,
    lateCallsPerRequest: lateCalls / Math.max(1, lateSide.requests),
    sparse: {
      gapMs: SPARSE_GAP_MS,
      prompt: sparseSummary(sparse.prompt),
      late: sparseSummary(sparse.late),
      callsPerRequest: sparseCalls / Math.max(1, 2 * config.rounds * config.sparseRequests),
    },
  };
}

// Non-streaming generateContent under closed-loop load: throughput and latency of the
// proxy, the floor and the fake upstream itself, the same load for each, rounds alternating.
//
// Closed-loop, every side runs the machine at full load, and a request's latency is mostly
// its wait in line: with 16 connections, p50 is about 16 / throughput, whatever the proxy
// adds to one request. So latency is also taken paced: requests sent at a fixed rate well
// below the floor's capacity, whether or not earlier ones have answered, where it is what
// a request costs, not the queue.

import type { BenchConfig } from "../lib/config.ts";
import { runLoad, runPaced, type LoadResult } from "../lib/load.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody } from "../lib/requests.ts";
import { median, percentile } from "../lib/stats.ts";
import { roundOrder, type Target, type TargetName } from "../lib/targets.ts";

export interface TargetThroughput {
  /** Median over rounds of each round's requests per second. */
  rps: number;
  /** Over every 2xx latency of every round. */
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Per-round results; their raw latencies are left out (pooled above). */
  rounds: LoadResult[];
  /** Paced at `pacedRate` requests per second (the same for every side): over every 2xx latency of every round. */
  paced: { rate: number; p50Ms: number; p99Ms: number; requests: number };
}

/** The paced rate, as a share of the floor's closed-loop throughput: far from its limit, on a shared machine. */
const PACED_SHARE = 0.4;

export type ThroughputResult = Record<TargetName, TargetThroughput>;

function load(target: Target, config: BenchConfig, durationS: number, headers: Record<string, string>, rate?: number): Promise<LoadResult> {
  const request = { url: `${target.origin}${generatePath(LOAD_MODEL)}`, durationS, body: promptBody, headers };
  return rate === undefined ? runLoad({ ...request, connections: config.connections }) : runPaced({ ...request, rate });
}

/** Every 2xx latency of every round, pooled. */
function pooled(results: readonly LoadResult[]): { p50Ms: number; p99Ms: number; requests: number } {
  const latencies = results.flatMap((result) => result.latenciesMs);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: latencies.length };
}

export async function measureThroughput(
  targets: readonly Target[],
  config: BenchConfig,
  directHeaders: Record<string, string>,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  const headersFor = (target: Target) => (target.name === "direct" ? directHeaders : clientHeaders);
  for (const target of targets) await load(target, config, config.warmupS, headersFor(target));

  const runs = new Map<TargetName, LoadResult[]>();
  for (let round = 0; round < config.rounds; round++) {
    for (const target of roundOrder(targets, round)) {
      const result = await load(target, config, config.durationS, headersFor(target));
      runs.set(target.name, [...(runs.get(target.name) ?? []), result]);
      log(`  throughput round ${round + 1} ${target.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(1)} ms`);
    }
  }

  const floorRps = median((runs.get("floor") ?? []).map((result) => result.rps));
  const rate = Math.max(1, Math.round(PACED_SHARE * floorRps));
  const paced = new Map<TargetName, LoadResult[]>();
  for (let round = 0; round < config.rounds; round++) {
    for (const target of roundOrder(targets, round)) {
      const result = await load(target, config, config.durationS, headersFor(target), rate);
      paced.set(target.name, [...(paced.get(target.name) ?? []), result]);
      log(`  paced round ${round + 1} ${target.name}: ${rate} req/s, p50 ${result.p50Ms.toFixed(1)} ms`);
    }
  }

  const summary = {} as ThroughputResult;
  for (const [name, results] of runs) {
    summary[name] = {
      rps: median(results.map((result) => result.rps)),
      ...pooled(results),
      non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
      errors: results.reduce((sum, result) => sum + result.errors, 0),
      rounds: results.map((result) => ({ ...result, latenciesMs: [] })),
      paced: { rate, ...pooled(paced.get(name) ?? []) },
    };
  }
  return summary;
}

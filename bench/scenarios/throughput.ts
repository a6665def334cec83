// Non-streaming generateContent under closed-loop load: throughput and latency of the
// proxy, the floor and the fake upstream itself, the same load for each, rounds alternating.

import type { BenchConfig } from "../lib/config.ts";
import { runLoad, type LoadResult } from "../lib/load.ts";
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
}

export type ThroughputResult = Record<TargetName, TargetThroughput>;

function load(target: Target, config: BenchConfig, durationS: number, headers: Record<string, string>): Promise<LoadResult> {
  return runLoad({
    url: `${target.origin}${generatePath(LOAD_MODEL)}`,
    connections: config.connections,
    durationS,
    body: promptBody,
    headers,
  });
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

  const summary = {} as ThroughputResult;
  for (const [name, results] of runs) {
    const latencies = results.flatMap((result) => result.latenciesMs);
    summary[name] = {
      rps: median(results.map((result) => result.rps)),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      requests: results.reduce((sum, result) => sum + result.requests, 0),
      non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
      errors: results.reduce((sum, result) => sum + result.errors, 0),
      rounds: results.map((result) => ({ ...result, latenciesMs: [] })),
    };
  }
  return summary;
}

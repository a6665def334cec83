// Closed-loop load with autocannon. Latencies are taken from autocannon's per-response
// event (sub-millisecond floats) rather than its histogram, which rounds to whole
// milliseconds: too coarse for a 1 ms target.

import autocannon from "autocannon";
import { percentile } from "./stats.ts";

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  latenciesMs: number[];
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: "POST",
        connections: options.connections,
        duration: options.durationS,
        body: options.body,
        headers: options.headers,
      },
      (error, done) => (error === null || error === undefined ? resolve(done) : reject(error instanceof Error ? error : new Error(String(error)))),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTime);
    });
  });
  const seconds = result.duration;
  return {
    requests: latenciesMs.length,
    rps: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latenciesMs,
  };
}

// Closed-loop load with autocannon, and paced (open-loop) load of our own. Latencies are taken from autocannon's per-response
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

/**
 * Open-loop load: one request every 1/rate s, each sent on time whether or not earlier
 * ones have answered, over kept-alive connections. autocannon's own rate limit releases
 * each second's requests together, so its latencies would be a burst's queue.
 */
export async function runPaced(options: Omit<LoadOptions, "connections"> & { rate: number }): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const count = Math.round(options.rate * options.durationS);
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / options.rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    const sent = performance.now();
    sends.push(
      fetch(options.url, { method: "POST", headers: options.headers, body: options.body }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.ok) latenciesMs.push(performance.now() - sent);
          else non2xx++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(sends);
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: latenciesMs.length,
    rps: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    non2xx,
    errors,
    latenciesMs,
  };
}

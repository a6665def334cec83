// Every knob of the benchmark, read once from BENCH_* environment variables, with
// defaults that keep a full run within a few minutes on a 2-core machine.

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const BLOCKS = ["cpu", "memory", "late"] as const;

function onlyBlock(raw: string | undefined): (typeof BLOCKS)[number] | null {
  return BLOCKS.find((block) => block === raw) ?? null;
}

export interface BenchConfig {
  /** A/B rounds per comparison; each round measures every target once, order alternating. */
  rounds: number;
  /** Seconds of load per target per round (non-streaming throughput). */
  durationS: number;
  /** Seconds of unrecorded load per target before the first round (JIT, pools, DO start). */
  warmupS: number;
  connections: number;
  /** Streams timed per target per round. */
  streamSamples: number;
  /** Size of the large streamed response, in MB (10^6 bytes). */
  largeMb: number;
  /** Requests sent to the counting build to measure Durable Object calls. */
  doRequests: number;
  /** Quota scenario: per-key limits and number of bursts. */
  quotaPerMinute: number;
  quotaPerDay: number;
  quotaWindowMs: number;
  quotaBursts: number;
  /** Rounds of the CPU-per-request block (each measures proxy and floor once per case). */
  cpuRounds: number;
  /** Sparse requests per side and round of the late-manager block (each waits 2 s first). */
  sparseRequests: number;
  /** One block alone (BENCH_ONLY=cpu, memory or late): a quick look while working on it. */
  only: "cpu" | "memory" | "late" | null;
  /** CPU cases whose name contains one of these (BENCH_CPU_CASES=SSE,15 MB); every case when empty. */
  cpuCases: string[];
}

export function readConfig(): BenchConfig {
  return {
    rounds: int("BENCH_ROUNDS", 3),
    durationS: int("BENCH_DURATION_S", 6),
    warmupS: int("BENCH_WARMUP_S", 3),
    connections: int("BENCH_CONNECTIONS", 16),
    streamSamples: int("BENCH_STREAM_SAMPLES", 8),
    largeMb: int("BENCH_LARGE_MB", 200),
    doRequests: int("BENCH_DO_REQUESTS", 200),
    quotaPerMinute: int("BENCH_QUOTA_PER_MINUTE", 3),
    quotaPerDay: int("BENCH_QUOTA_PER_DAY", 8),
    quotaWindowMs: int("BENCH_QUOTA_WINDOW_MS", 3000),
    quotaBursts: int("BENCH_QUOTA_BURSTS", 4),
    cpuRounds: int("BENCH_CPU_ROUNDS", 2),
    sparseRequests: int("BENCH_SPARSE_REQUESTS", 6),
    only: onlyBlock(process.env.BENCH_ONLY),
    cpuCases: (process.env.BENCH_CPU_CASES ?? "").split(",").filter((name) => name !== ""),
  };
}

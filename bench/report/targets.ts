// The targets the proxy is held to, each checked against one run's numbers.

import type { RowCounts } from "../lib/do-storage.ts";
import type { CpuResult } from "../scenarios/cpu-per-request.ts";
import type { DoCallsResult } from "../scenarios/do-calls.ts";
import type { LateManagerResult } from "../scenarios/late-manager.ts";
import type { QuotaResult } from "../scenarios/quota.ts";
import type { StreamLatencyResult } from "../scenarios/stream-latency.ts";
import { FLAT_LIMIT_MIB, type StreamingMemoryResult } from "../scenarios/streaming-memory.ts";
import type { ThroughputResult } from "../scenarios/throughput.ts";

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  holds: boolean;
}

export interface Measurements {
  throughput: ThroughputResult;
  stream: StreamLatencyResult;
  memory: StreamingMemoryResult;
  doCalls: DoCallsResult;
  lateManager: LateManagerResult;
  /** Rows in the real proxy's Durable Object before and after the throughput rounds. */
  proxyRows: { before: RowCounts; after: RowCounts; requests: number };
  quota: QuotaResult;
  /** The same quota scenario against the Node server (its own model in the fake). */
  quotaNode: QuotaResult;
  cpu: CpuResult;
}

const addedMs = (value: number): string => `${value >= 0 ? "+" : ""}${value.toFixed(1)} ms`;

/** Issue 11's CPU targets: flat in the length of an answer and the size of a body (those measured). */
export function checkCpuTargets(cpu: CpuResult): TargetCheck[] {
  const small = cpu["small generateContent"]?.addedMs;
  const short = cpu["SSE stream, 40 events"]?.addedMs;
  const long = cpu["SSE stream, 400 events"]?.addedMs;
  const checks: TargetCheck[] = [];
  if (small !== undefined) {
    checks.push({ name: "CPU: small request", target: "<= +1 ms over floor", measured: addedMs(small), holds: small <= 1 });
  }
  if (short !== undefined && long !== undefined) {
    checks.push({
      name: "CPU: 400-event stream",
      target: "adds <= the 40-event stream's + 1 ms",
      measured: `${addedMs(long)} vs ${addedMs(short)}`,
      holds: long <= short + 1,
    });
  }
  for (const name of ["native body 15 MB", "OpenAI body 15 MB"] as const) {
    const added = cpu[name]?.addedMs;
    if (added === undefined || small === undefined) continue;
    checks.push({
      name: `CPU: ${name}`,
      target: "adds <= a small request's + 2 ms",
      measured: `${addedMs(added)} vs ${addedMs(small)}`,
      holds: added <= small + 2,
    });
  }
  return checks;
}

/** A key manager far away adds nothing a client waits for: under load, nor for one request now and then. */
export function checkLateTargets(late: LateManagerResult): TargetCheck[] {
  const loaded = late.late.p50Ms - late.prompt.p50Ms;
  const sparse = late.sparse.late.p50Ms - late.sparse.prompt.p50Ms;
  return [
    {
      name: `DO ${late.delayMs} ms late: added p50`,
      target: "<= +2 ms (warm, 16 conn)",
      measured: `${addedMs(loaded)} (p50 ${late.late.p50Ms.toFixed(1)} vs ${late.prompt.p50Ms.toFixed(1)} ms)`,
      holds: loaded <= 2,
    },
    {
      name: `DO ${late.delayMs} ms late: sparse requests`,
      target: `<= +2 ms (one at a time, ${late.sparse.gapMs / 1000} s apart)`,
      measured: `${addedMs(sparse)} (p50 ${late.sparse.late.p50Ms.toFixed(1)} vs ${late.sparse.prompt.p50Ms.toFixed(1)} ms; ${late.sparse.callsPerRequest.toFixed(2)} DO calls/request)`,
      holds: sparse <= 2,
    },
  ];
}

/** A 200 MB answer must not grow the proxy's memory, read fast or slowly, on either runtime. */
export function checkMemoryTargets(memory: StreamingMemoryResult): TargetCheck[] {
  return (["proxy", "node"] as const).flatMap((name) => {
    const suffix = name === "node" ? " (Node server)" : "";
    const growth = Math.max(...memory[name].map((run) => run.peakMiB - run.startMiB));
    const slowGrowth = memory.slow[name].peakMiB - memory.slow[name].startMiB;
    return [
      {
        name: `memory while streaming${suffix}`,
        target: `flat (growth < ${FLAT_LIMIT_MIB} MiB)`,
        measured: `peak growth per run ${memory[name].map((run) => `+${(run.peakMiB - run.startMiB).toFixed(0)}`).join(", ")} MiB`,
        holds: growth < FLAT_LIMIT_MIB,
      },
      {
        name: `memory, slow client${suffix}`,
        target: `flat (growth < ${FLAT_LIMIT_MIB} MiB)`,
        measured: `peak growth +${slowGrowth.toFixed(0)} MiB`,
        holds: slowGrowth < FLAT_LIMIT_MIB,
      },
    ];
  });
}

/** Every servable request served, no 429 the pool could have avoided: the same on both runtimes. */
function checkQuota(quota: QuotaResult, suffix: string): TargetCheck[] {
  return [
    {
      name: `quota: served${suffix}`,
      target: "100% of servable",
      measured: `${quota.served}/${quota.servable} (${(quota.servedRatio * 100).toFixed(0)}%)`,
      holds: quota.served === quota.servable,
    },
    {
      name: `quota: avoidable 429s${suffix}`,
      target: "0 after the first window (teaching: 1 per key and window kind)",
      measured: `${quota.avoidableAfterFirst} after the first window; ${quota.upstream429s} in all = ${quota.teaching429s} teaching + ${quota.avoidable429s} avoidable`,
      holds: quota.avoidableAfterFirst === 0,
    },
  ];
}

export function checkTargets(m: Measurements): TargetCheck[] {
  const ratio = m.throughput.proxy.rps / m.throughput.floor.rps;
  const addedP50 = m.throughput.proxy.p50Ms - m.throughput.floor.p50Ms;
  const addedPacedP50 = m.throughput.proxy.paced.p50Ms - m.throughput.floor.paced.p50Ms;
  const addedFirst = m.stream.proxy.firstChunkMs - m.stream.floor.firstChunkMs;
  const rowsAdded = m.proxyRows.after.total - m.proxyRows.before.total;
  const { plain } = m.doCalls;
  return [
    ...checkCpuTargets(m.cpu),
    { name: "throughput", target: ">= 0.90x floor", measured: `${ratio.toFixed(2)}x`, holds: ratio >= 0.9 },
    { name: "p50 latency, 16 conn", target: "<= +2 ms over floor", measured: `${addedP50 >= 0 ? "+" : ""}${addedP50.toFixed(1)} ms`, holds: addedP50 <= 2 },
    {
      name: "p50 latency, paced",
      target: "<= +2 ms over floor",
      measured: `${addedPacedP50 >= 0 ? "+" : ""}${addedPacedP50.toFixed(1)} ms at ${m.throughput.floor.paced.rate} req/s`,
      holds: addedPacedP50 <= 2,
    },
    { name: "stream first chunk", target: "<= +2 ms over floor", measured: `${addedFirst >= 0 ? "+" : ""}${addedFirst.toFixed(1)} ms`, holds: addedFirst <= 2 },
    ...checkMemoryTargets(m.memory),
    {
      name: "DO storage growth",
      target: "0 rows per request",
      measured: `${rowsAdded} rows over ${m.proxyRows.requests} requests; ${plain.storedRowsAddedPerRequest.toFixed(3)}/req (counting build)`,
      holds: rowsAdded === 0 && plain.storedRowsAddedPerRequest === 0,
    },
    {
      name: "DO calls",
      target: "<= 0.1 per request; each success reported once, batched; nothing else",
      measured: `${plain.callsPerRequest.toFixed(3)} calls/req (${plain.poolViewPerRequest.toFixed(3)} poolView, ${plain.recordFailurePerRequest.toFixed(3)} recordFailure, ${plain.recordUsagePerSuccess.toFixed(3)} recordUsage/success, ${plain.reportsPerSuccess.toFixed(2)} reports); under load ${m.lateManager.lateCallsPerRequest.toFixed(3)}/req; retry phase ${m.doCalls.retry.callsPerRequest.toFixed(2)}/req (${m.doCalls.retry.reportsPerSuccess.toFixed(2)} reports)`,
      holds:
        plain.callsPerRequest <= 0.1 &&
        m.lateManager.lateCallsPerRequest <= 0.1 &&
        [plain, m.doCalls.retry].every((p) => p.reportsPerSuccess === 1 && p.recordUsagePerSuccess <= 1 && p.otherCalls === 0),
    },
    ...checkLateTargets(m.lateManager),
    ...checkQuota(m.quota, ""),
    ...checkQuota(m.quotaNode, " (Node server)"),
  ];
}

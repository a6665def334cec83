// The one table `npm run bench` prints: measurements side by side with ratios, then the
// targets with a verdict each.

import { CPU_CASES, type CpuResult } from "../scenarios/cpu-per-request.ts";
import type { LateManagerResult } from "../scenarios/late-manager.ts";
import type { QuotaResult } from "../scenarios/quota.ts";
import type { MemoryRun } from "../scenarios/streaming-memory.ts";
import type { Measurements, TargetCheck } from "./targets.ts";

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()).join("\n");
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const signed = (value: number, unit: string): string => `${value >= 0 ? "+" : ""}${value.toFixed(1)} ${unit}`;

/** workerd CPU per request, proxy beside floor, with what the proxy adds. */
export function cpuBlock(cpu: CpuResult): string {
  return table([
    ["CPU per request (workerd, /proc)", "proxy", "floor", "added", "added in runtime", "requests"],
    ...CPU_CASES.flatMap((name) => {
      const c = cpu[name];
      return c === undefined ? [] : [[name, ms(c.proxyMs), ms(c.floorMs), signed(c.addedMs, "ms"), signed(c.runtimeAddedMs, "ms"), String(c.requests)]];
    }),
  ]);
}

/** The counting build with a key manager that answers late: under load, then one request at a time. */
export function lateBlock(late: LateManagerResult): string {
  const { sparse } = late;
  return table([
    ["counting build", "req/s", "p50", "p99", "requests", "non-2xx", "DO calls/req"],
    ["16 conn, DO answers at once", late.prompt.rps.toFixed(0), ms(late.prompt.p50Ms), ms(late.prompt.p99Ms), String(late.prompt.requests), String(late.prompt.non2xx), ""],
    [`16 conn, DO answers ${late.delayMs} ms late`, late.late.rps.toFixed(0), ms(late.late.p50Ms), ms(late.late.p99Ms), String(late.late.requests), String(late.late.non2xx), late.lateCallsPerRequest.toFixed(3)],
    ["added by the late DO", "", signed(late.late.p50Ms - late.prompt.p50Ms, "ms"), signed(late.late.p99Ms - late.prompt.p99Ms, "ms"), "", "", ""],
    [`sparse (${sparse.gapMs / 1000} s apart), DO at once`, "", ms(sparse.prompt.p50Ms), "", String(sparse.prompt.requests), String(sparse.prompt.non2xx), sparse.callsPerRequest.toFixed(2)],
    [`sparse, DO ${late.delayMs} ms late`, "", ms(sparse.late.p50Ms), "", String(sparse.late.requests), String(sparse.late.non2xx), ""],
    ["added by the late DO (sparse)", "", signed(sparse.late.p50Ms - sparse.prompt.p50Ms, "ms"), "", "", "", ""],
  ]);
}

export function checksBlock(checks: TargetCheck[]): string {
  return table([["target", "wanted", "measured", "verdict"], ...checks.map((c) => [c.name, c.target, c.measured, c.holds ? "holds" : "MISSED"])]);
}

function quotaBlock(label: string, quota: QuotaResult): string {
  return table([
    [`${label}: ${quota.keys} keys, ${quota.perMinute}/${quota.windowMs} ms, ${quota.perDay}/day`, "sent", "served", "servable", "upstream 429", "teaching", "avoidable"],
    ...quota.bursts.map((b, i) => [`burst ${i + 1}`, String(b.sent), String(b.served), String(b.servable), String(b.upstream429s), String(b.teaching429s), String(b.avoidable429s)]),
    ["total", String(quota.sent), String(quota.served), String(quota.servable), String(quota.upstream429s), String(quota.teaching429s), String(quota.avoidable429s)],
    ["extra 429s: raced / late", "", "", "", `${quota.inFlight429s} / ${quota.late429s}`, "", ""],
  ]);
}

export function renderTable(m: Measurements, checks: TargetCheck[]): string {
  const { throughput: t, stream: s, memory, doCalls, quota } = m;
  const sections: string[] = [];
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  sections.push(
    table([
      ["generateContent, 16 conn", "proxy", "node", "floor", "direct", "proxy/floor", "node/floor", "node/proxy", "proxy-floor"],
      ["requests/s (median round)", t.proxy.rps.toFixed(0), t.node.rps.toFixed(0), t.floor.rps.toFixed(0), t.direct.rps.toFixed(0), ratio(t.proxy.rps, t.floor.rps), ratio(t.node.rps, t.floor.rps), ratio(t.node.rps, t.proxy.rps), ""],
      ...(["p50", "p99"] as const).map((p) => {
        const [proxy, node, floor] = [t.proxy[`${p}Ms`], t.node[`${p}Ms`], t.floor[`${p}Ms`]];
        return [`${p} latency`, ms(proxy), ms(node), ms(floor), ms(t.direct[`${p}Ms`]), ratio(proxy, floor), ratio(node, floor), ratio(node, proxy), signed(proxy - floor, "ms")];
      }),
      ...(["p50", "p99"] as const).map((p) => {
        const [proxy, node, floor] = [t.proxy.paced[`${p}Ms`], t.node.paced[`${p}Ms`], t.floor.paced[`${p}Ms`]];
        const label = `${p}, paced ${t.floor.paced.rate} req/s`;
        return [label, ms(proxy), ms(node), ms(floor), ms(t.direct.paced[`${p}Ms`]), ratio(proxy, floor), ratio(node, floor), ratio(node, proxy), signed(proxy - floor, "ms")];
      }),
      [
        "per-round proxy/floor",
        t.proxy.rounds.map((round, i) => (round.rps / (t.floor.rounds[i]?.rps ?? Number.NaN)).toFixed(2)).join(" "),
        t.node.rounds.map((round, i) => (round.rps / (t.floor.rounds[i]?.rps ?? Number.NaN)).toFixed(2)).join(" "),
        "",
        "",
        "",
        "",
        "",
        "",
      ],
      ["non-2xx / errors", ...(["proxy", "node", "floor", "direct"] as const).map((name) => `${t[name].non2xx}/${t[name].errors}`), "", "", "", ""],
    ]),
  );
  sections.push(
    table([
      ["stream, 10 chunks 50 ms apart", "proxy", "node", "floor", "proxy added", "node added"],
      ...(["first", "last"] as const).map((which) => {
        const at = (name: keyof typeof s): number => s[name][`${which}ChunkMs`];
        return [`${which} chunk (median)`, ms(at("proxy")), ms(at("node")), ms(at("floor")), signed(at("proxy") - at("floor"), "ms"), signed(at("node") - at("floor"), "ms")];
      }),
    ]),
  );
  const memoryRows = [["large SSE stream, VmRSS (workerd; node process)", "MB", "seconds", "start MiB", "peak MiB", "end MiB", "front start/peak/end MiB"]];
  const memoryRow = (label: string, run: MemoryRun): string[] => [
    label,
    (run.bytes / 1e6).toFixed(0),
    run.seconds.toFixed(1),
    run.startMiB.toFixed(0),
    run.peakMiB.toFixed(0),
    run.endMiB.toFixed(0),
    `${run.frontStartMiB.toFixed(0)}/${run.frontPeakMiB.toFixed(0)}/${run.frontEndMiB.toFixed(0)}`,
  ];
  for (const name of ["proxy", "node", "floor"] as const) {
    memory[name].forEach((run, index) => memoryRows.push(memoryRow(`${name} run ${index + 1}`, run)));
  }
  for (const name of ["proxy", "node", "floor"] as const) memoryRows.push(memoryRow(`${name}, slow client (40 MB/s)`, memory.slow[name]));
  sections.push(table(memoryRows));
  sections.push(
    table([
      ["Durable Object (counting build)", "requests", "attempts", "DO calls/req", "poolView/req", "recordFailure/req", "recordUsage/success", "reports/success", "rows written/req", "SQL stmts/req", "rows stored +/req"],
      ...(["plain", "retry"] as const).map((name) => {
        const p = doCalls[name];
        return [name, String(p.requests), String(p.upstreamAttempts), p.callsPerRequest.toFixed(3), p.poolViewPerRequest.toFixed(3), p.recordFailurePerRequest.toFixed(3), p.recordUsagePerSuccess.toFixed(3), p.reportsPerSuccess.toFixed(2), p.rowsWrittenPerRequest.toFixed(2), p.statementsPerRequest.toFixed(2), p.storedRowsAddedPerRequest.toFixed(3)];
      }),
      ["proxy (throughput rounds)", String(m.proxyRows.requests), "", "", "", "", "", "", "", "", ((m.proxyRows.after.total - m.proxyRows.before.total) / Math.max(1, m.proxyRows.requests)).toFixed(3)],
    ]),
  );
  sections.push(lateBlock(m.lateManager));
  sections.push(quotaBlock("quota (proxy)", quota), quotaBlock("quota (node)", m.quotaNode));
  sections.push(cpuBlock(m.cpu));
  sections.push(checksBlock(checks));
  return sections.join("\n\n");
}

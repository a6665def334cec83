// CPU time of the workerd processes behind a `wrangler dev` port, from /proc: the runtime
// (runs the worker) and wrangler's dev proxy in front of it, which every request crosses
// too. Linux only.
//
// Read from each thread's /proc/PID/task/TID/schedstat (its first field: nanoseconds on a
// CPU), not from utime + stime in /proc/PID/stat: those come in clock ticks of 10 ms, which
// over the few requests of a large case (8 of 15 MB) is an error of a millisecond or more
// per request. A thread that exits between two readings takes its time with it; workerd
// keeps its threads for its whole life, which the tick count below checks.

import { readdir, readFile } from "node:fs/promises";
import { findWorkerd } from "./process-memory.ts";

/** USER_HZ on Linux: /proc/PID/stat reports CPU time in hundredths of a second. */
const TICKS_PER_SECOND = 100;

async function threadNanoseconds(pid: number): Promise<number> {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    // A thread may end between the listing and the read: it has nothing more to add.
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => null);
    if (stat !== null) total += Number(stat.split(" ")[0]);
  }
  return total;
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces; count fields from its closing paren (field 2).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

export interface CpuReading {
  /** Milliseconds, to the nanosecond, summed over the processes' live threads. */
  ms: number;
  /** The runtime's share of `ms`: without wrangler's dev proxy, which production does not have. */
  runtimeMs: number;
  /** The same from the processes' own counters, in 10 ms ticks: includes threads that ended. */
  tickMs: number;
}

/** Reads the total CPU time of the workerd processes serving `origin`. */
export async function workerdCpuReader(origin: string): Promise<() => Promise<CpuReading>> {
  const { runtime, front } = await findWorkerd(Number(new URL(origin).port));
  return async () => {
    const runtimeNs = await threadNanoseconds(runtime);
    const frontNs = await threadNanoseconds(front);
    const ticks = (await cpuTicks(runtime)) + (await cpuTicks(front));
    return { ms: (runtimeNs + frontNs) / 1e6, runtimeMs: runtimeNs / 1e6, tickMs: ticks * (1000 / TICKS_PER_SECOND) };
  };
}

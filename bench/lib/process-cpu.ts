// CPU time of the workerd processes behind a `wrangler dev` port, from /proc: the sum of
// utime and stime (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s) of
// the runtime (runs the worker) and wrangler's dev proxy in front of it, which every
// request crosses too. Linux only.

import { readFile } from "node:fs/promises";
import { findWorkerd } from "./process-memory.ts";

/** USER_HZ on Linux: /proc reports CPU time in hundredths of a second. */
const TICKS_PER_SECOND = 100;

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces; count fields from its closing paren (field 2).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

/** Reads the total CPU time, in milliseconds, of the workerd processes serving `origin`. */
export async function workerdCpuReader(origin: string): Promise<() => Promise<number>> {
  const { runtime, front } = await findWorkerd(Number(new URL(origin).port));
  return async () => ((await cpuTicks(runtime)) + (await cpuTicks(front))) * (1000 / TICKS_PER_SECOND);
}

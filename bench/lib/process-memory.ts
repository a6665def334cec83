// Finds the workerd processes behind a `wrangler dev` port and reads their resident memory
// from /proc, so the benchmark needs no handle on the process it did not spawn itself.
// `wrangler dev` runs two workerd children: one listens on the public port (wrangler's dev
// proxy in front), the other runs the user's worker and its Durable Objects and is the
// only one started with --inspector-addr. Linux only.

import { readdir, readFile, readlink } from "node:fs/promises";

export interface WorkerdProcesses {
  /** Runs the worker under test (and its Durable Objects). */
  runtime: number;
  /** wrangler's dev proxy that owns the public port. */
  front: number;
}

async function listeningInode(port: number): Promise<string> {
  const table = await readFile("/proc/net/tcp", "utf8");
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is field 1 (IP:PORT in hex); state 0A is LISTEN; inode is field 9.
    if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9] !== undefined) return fields[9];
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

async function pids(): Promise<number[]> {
  return (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
}

async function ownsSocket(pid: number, inode: string): Promise<boolean> {
  try {
    for (const fd of await readdir(`/proc/${pid}/fd`)) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === `socket:[${inode}]`) return true;
    }
  } catch {
    // Gone, or not ours to read.
  }
  return false;
}

async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces; fields after its closing paren are fixed.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

async function commandLine(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ");
}

export async function findWorkerd(port: number): Promise<WorkerdProcesses> {
  const inode = await listeningInode(port);
  let front: number | undefined;
  for (const pid of await pids()) {
    if (await ownsSocket(pid, inode)) {
      front = pid;
      break;
    }
  }
  if (front === undefined) throw new Error(`no process owns the socket on port ${port}`);
  const parent = await parentOf(front);
  for (const pid of await pids()) {
    if (pid === front || (await parentOf(pid).catch(() => -1)) !== parent) continue;
    const command = await commandLine(pid);
    if (command.includes("workerd") && command.includes("--inspector-addr")) return { runtime: pid, front };
  }
  throw new Error(`no workerd runtime beside process ${front}`);
}

/** VmRSS in MiB. */
export async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

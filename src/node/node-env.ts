import { existsSync, readFileSync } from "node:fs";
// A namespace import: a named one of parseEnv (Node 20.12+) would fail an older Node while
// the bundle links, before main.ts can say which Node the proxy needs.
import * as util from "node:util";
import type { ProxyEnv } from "../core/config";
import { reasonOf, StartupFault } from "./startup-fault";

// The Node server reads the Worker's settings under the same names, from the process
// environment and, when present, a `.env` file in the working directory (the Workers
// `.dev.vars` format). A variable set in the real environment wins over the file.

export interface NodeSettings {
  env: ProxyEnv;
  host: string;
  port: number;
  dataDir: string;
}

const DEFAULT_PORT = 8787;

/** Loads `.env` into process.env without replacing what the environment already sets. */
export function loadEnvFile(path = ".env", target: Record<string, string | undefined> = process.env): void {
  if (!existsSync(path)) return;
  let parsed: NodeJS.Dict<string>;
  try {
    // Read here rather than with process.loadEnvFile: editors on Windows save a UTF-8 BOM,
    // which that reads as part of the first name, so the first variable was silently lost.
    parsed = util.parseEnv(readFileSync(path, "utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new StartupFault(`Cannot read ${path} (${reasonOf(error)}): fix its NAME=value lines or remove it.`);
  }
  for (const [name, value] of Object.entries(parsed)) if (target[name] === undefined) target[name] = value;
}

function portOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  // Digits only: Number() would also take "0x50", "1e3", " " or "8787.0".
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port <= 65_535)) throw new StartupFault(`PORT=${raw} is not a port number: set PORT to 1-65535 (default ${DEFAULT_PORT}; 0 picks a free one).`);
  return port;
}

export function readSettings(source: NodeJS.ProcessEnv = process.env): NodeSettings {
  return {
    env: source,
    host: source.HOST || "127.0.0.1",
    port: portOf(source.PORT),
    dataDir: source.DATA_DIR || "./data",
  };
}

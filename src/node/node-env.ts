import { existsSync } from "node:fs";
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
export function loadEnvFile(path = ".env"): void {
  if (!existsSync(path)) return;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new StartupFault(`Cannot read ${path} (${reasonOf(error)}): fix its NAME=value lines or remove it.`);
  }
}

function portOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new StartupFault(`PORT=${raw} is not a port number: set PORT to 1-65535 (default ${DEFAULT_PORT}; 0 picks a free one).`);
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

import { startNodeProxy } from "./node-proxy.ts";
import { startWranglerDev } from "./wrangler-dev.ts";

// Starts the proxy pointed at a local fake upstream, with its keys and token as settings
// (`--var` for `wrangler dev`, environment variables for the Node server) instead of a
// .dev.vars or .env file, on the runtime a suite runs against.

/** Where the proxy runs: `wrangler dev` (Workers, Durable Object) or the Node server (node:sqlite). */
export type Runtime = "workers" | "node";

export interface RunningProxy {
  runtime: Runtime;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** Its state directory (--persist-to or DATA_DIR): pass it again to restart on the same state. */
  persistTo: string;
  /** Everything the runtime printed so far (stdout and stderr), the proxy's log lines included. */
  output(): string;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  runtime: Runtime;
  upstreamOrigin: string;
  keys: readonly string[];
  proxyToken?: string;
  persistTo?: string;
  /** Extra settings by name, as the README's configuration table names them. */
  vars?: Record<string, string>;
}

/** The proxy's settings for these options, by name: the same on either runtime. */
export function proxyVars(options: Omit<ProxyOptions, "runtime" | "persistTo">): Record<string, string> {
  return {
    GEMINI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta/openai`,
    API_KEYS: options.keys.join(","),
    LOG_REQUESTS: "false",
    ...(options.proxyToken === undefined ? {} : { PROXY_API_KEY: options.proxyToken }),
    ...options.vars,
  };
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const vars = proxyVars(options);
  const persistTo = options.persistTo === undefined ? {} : { persistTo: options.persistTo };
  const started = options.runtime === "node" ? await startNodeProxy({ vars, ...persistTo }) : await startWranglerDev({ vars, ...persistTo });
  return { ...started, runtime: options.runtime };
}

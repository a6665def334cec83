import { startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

// Starts the proxy pointed at a local fake upstream, with its keys and token as --var
// settings instead of .dev.vars.

export type RunningProxy = WranglerDev;

export interface ProxyOptions {
  upstreamOrigin: string;
  keys: readonly string[];
  proxyToken?: string;
  persistTo?: string;
  /** Extra `--var NAME:VALUE` settings. */
  vars?: Record<string, string>;
}

export function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  return startWranglerDev({
    vars: {
      GEMINI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta`,
      OPENAI_UPSTREAM_URL: `${options.upstreamOrigin}/v1beta/openai`,
      API_KEYS: options.keys.join(","),
      LOG_REQUESTS: "false",
      ...(options.proxyToken === undefined ? {} : { PROXY_API_KEY: options.proxyToken }),
      ...options.vars,
    },
    ...(options.persistTo === undefined ? {} : { persistTo: options.persistTo }),
  });
}

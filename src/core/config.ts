import { parseProxyTokens } from "./client-auth";
import { API_VERSIONS } from "./route";

/** The settings the proxy reads from its environment, whatever runtime provides it. */
export interface ProxyEnv {
  GEMINI_UPSTREAM_URL?: string;
  OPENAI_UPSTREAM_URL?: string;
  API_KEYS?: string;
  PROXY_API_KEY?: string;
  LOG_REQUESTS?: string;
}

export interface ProxyConfig {
  /** Origin plus any path before the API version, e.g. `https://generativelanguage.googleapis.com`. */
  geminiBase: string;
  /** The version named at the end of GEMINI_UPSTREAM_URL, used when a client names none. */
  defaultVersion: string;
  /** OPENAI_UPSTREAM_URL without a trailing slash. */
  openaiBase: string;
  /** Accepted client tokens; empty means the proxy is open to anyone. */
  proxyTokens: string[];
  logRequests: boolean;
}

const GEMINI_DEFAULT = "https://generativelanguage.googleapis.com/v1beta";
const OPENAI_DEFAULT = "https://generativelanguage.googleapis.com/v1beta/openai";

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function readConfig(env: ProxyEnv): ProxyConfig {
  const gemini = new URL(withoutTrailingSlash(env.GEMINI_UPSTREAM_URL || GEMINI_DEFAULT));
  const segments = gemini.pathname.split("/").filter(Boolean);
  const last = segments.at(-1);
  const hasVersion = last !== undefined && API_VERSIONS.has(last);
  const prefix = (hasVersion ? segments.slice(0, -1) : segments).map((segment) => `/${segment}`).join("");
  return {
    geminiBase: gemini.origin + prefix,
    defaultVersion: hasVersion ? last : "v1beta",
    openaiBase: withoutTrailingSlash(env.OPENAI_UPSTREAM_URL || OPENAI_DEFAULT),
    proxyTokens: parseProxyTokens(env.PROXY_API_KEY),
    logRequests: env.LOG_REQUESTS !== "false",
  };
}

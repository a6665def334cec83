import { parseProxyTokens } from "./client-auth";
import { DEFAULT_SUBREQUEST_LIMIT } from "./proxy/subrequest-budget";
import { API_VERSIONS } from "./route";

/** The settings the proxy reads from its environment, whatever runtime provides it. */
export interface ProxyEnv {
  GEMINI_UPSTREAM_URL?: string;
  OPENAI_UPSTREAM_URL?: string;
  API_KEYS?: string;
  PROXY_API_KEY?: string;
  ADMIN_API_KEY?: string;
  LOG_REQUESTS?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  STREAM_IDLE_TIMEOUT_MS?: string;
  MAX_BODY_BYTES?: string;
  SUBREQUEST_LIMIT?: string;
  /** Node only: the reverse proxies whose X-Forwarded-For/-Proto count (on Workers Cloudflare sets the client's address). */
  TRUSTED_PROXIES?: string;
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
  /** Tokens that may change the pool; empty means every proxy token may (ADMIN_API_KEY unset). */
  adminTokens: string[];
  logRequests: boolean;
  /** How long an upstream attempt may take to answer with status and headers. */
  firstByteTimeoutMs: number;
  /** Longest silence allowed between two chunks of a streamed response. */
  streamIdleTimeoutMs: number;
  /** Larger request bodies are refused with 413 before anything goes upstream. */
  maxBodyBytes: number;
  /** Subrequests one request may make: the Workers plan's limit (Free: 50). */
  subrequestLimit: number;
}

const GEMINI_DEFAULT = "https://generativelanguage.googleapis.com/v1beta";
const OPENAI_DEFAULT = "https://generativelanguage.googleapis.com/v1beta/openai";

// A non-streaming answer of a thinking model can take minutes to start; a stream that
// has started and then says nothing for a minute is stuck.
const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 300_000;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;
// Inline media (images, audio, PDFs) travels base64-encoded in the JSON body; Google's
// inline limit is 20 MB of data, so this leaves room without letting a body exhaust memory.
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

function positiveNumber(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) && value > 0 ? value : fallback;
}

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
    adminTokens: parseProxyTokens(env.ADMIN_API_KEY),
    logRequests: env.LOG_REQUESTS !== "false",
    firstByteTimeoutMs: positiveNumber(env.UPSTREAM_TIMEOUT_MS, DEFAULT_FIRST_BYTE_TIMEOUT_MS),
    streamIdleTimeoutMs: positiveNumber(env.STREAM_IDLE_TIMEOUT_MS, DEFAULT_STREAM_IDLE_TIMEOUT_MS),
    maxBodyBytes: positiveNumber(env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
    subrequestLimit: Math.floor(positiveNumber(env.SUBREQUEST_LIMIT, DEFAULT_SUBREQUEST_LIMIT)),
  };
}

import type { ProxyConfig } from "./config";
import type { KeyManager, KeyPool, KeyPoolAdmin } from "./key-pool";
import type { KeyRing } from "./key-ring";
import type { LiveRuntime } from "./live/live-socket";
import type { StreamRuntime } from "./proxy/stream-runtime";
import type { SubrequestBudget } from "./proxy/subrequest-budget";
import type { StatSessions } from "./stats/session-store";

/** One line per proxied request: never a key, never prompt contents. */
export interface RequestLog {
  method: string;
  route: string;
  style: string;
  model: string | null;
  /** Positions of the keys tried, in order (`#3`), never the keys. */
  keys: string[];
  status: number;
  attempts: number;
  /** Upstream fetches and key manager calls so far, against SUBREQUEST_LIMIT. */
  subrequests: number;
  ms: number;
}

/** What the runtime adapter hands the runtime-neutral proxy for each request. */
export interface ProxyServices {
  config: ProxyConfig;
  keyRing: KeyRing;
  pool: KeyPool & KeyPoolAdmin & StatSessions;
  /** This request's subrequests (upstream fetches, key manager calls): the plan allows only so many. */
  budget: SubrequestBudget;
  /** Keeps work (usage accounting) alive after the response is returned. */
  waitUntil(promise: Promise<unknown>): void;
  log(entry: RequestLog): void;
  /** WebSocket support for the Live API, where the runtime has it. */
  live?: LiveRuntime;
  /** Native stream plumbing, where the runtime has it; standard streams otherwise. */
  streams?: StreamRuntime;
}

/**
 * What a runtime adapter hands the app: the key manager itself. The app adds the request's
 * subrequest budget and the pool the request sees (the isolate's view over the manager).
 */
export interface RuntimeServices extends Omit<ProxyServices, "pool" | "budget"> {
  keyManager: KeyManager & KeyPoolAdmin & StatSessions;
}

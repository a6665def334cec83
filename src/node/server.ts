import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { createApp } from "../core/app";
import { weakTokenProblem } from "../core/client-auth";
import { readConfig } from "../core/config";
import { keyRingFor, type KeyRing } from "../core/key-ring";
import type { SqlRunner } from "../core/key-store/sql";
import { PoolManager } from "../core/pool-manager";
import { standardStreams } from "../core/proxy/stream-runtime";
import { RefreshableKeyRing } from "../core/ring-refresh";
import type { RuntimeServices } from "../core/services";
import { BackgroundWork } from "./background-work";
import { scheduleDailyReset } from "./daily-reset";
import { listen } from "./listen";
import { LiveSockets } from "./live-runtime";
import type { NodeSettings } from "./node-env";
import { DATABASE_FILE, openDatabase } from "./open-database";
import { sqliteResetLedger } from "./reset-ledger";
import { sqliteRunner, sqliteTransaction } from "./sql-runner";
import { StartupFault } from "./startup-fault";
import { markClient, trustedProxies } from "./trusted-proxies";
import { upgradeHandler } from "./upgrade";
import { verificationRunner, type VerificationRunner } from "./verification-runner";

// The proxy as one Node process: the same app as on Workers, with the pool manager (the
// Durable Object there) in-process over node:sqlite. One process is the single source of
// truth: the store is synchronous and the process single-threaded, so every state change
// is atomic, as within the Durable Object. The app's isolate view (local-pool.ts) works
// unchanged: its calls to the manager are plain async calls instead of RPC.

/**
 * A whole shutdown stays under Docker's stop timeout (README: --stop-timeout 30 /
 * stop_grace_period: 30s), or the container is killed with work half done: Live sessions
 * get LIVE_CLOSE_MS, requests in flight up to SHUTDOWN_GRACE_MS, and background work left
 * after them (usage batches, failure reports, a verification batch, which resumes at the
 * next start) what remains of SHUTDOWN_TOTAL_MS, at least MIN_DRAIN_MS.
 */
const SHUTDOWN_TOTAL_MS = 28_000;
const SHUTDOWN_GRACE_MS = 20_000;
const MIN_DRAIN_MS = 3_000;
/** Work left when the server could not start listening: a verification run at most. */
const DRAIN_MS = 15_000;
const IDLE_SWEEP_MS = 50;
/** Live sessions are told to reconnect; they get this long to close cleanly. */
const LIVE_CLOSE_MS = 2_000;

export interface RunningServer {
  /** http://HOST:PORT */
  url: string;
  /** The startup line: URL, keys, whether the proxy is open. */
  banner: string;
  /** Masks every pool key in a text (API_KEYS and runtime keys), for lines logged outside a request. */
  redact(text: string): string;
  /** Stops accepting, finishes requests in flight and background work, closes the database. */
  stop(): Promise<void>;
}

const MISSING_KEYS =
  "API_KEYS is not set: set API_KEYS to your Gemini API keys, comma-separated, in the environment or in .env (a pool of keys added at runtime needs it only for its first start).";

function runtimeKeyCount(sql: SqlRunner): number {
  if (sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runtime_secrets'").length === 0) return 0;
  return sql<{ n: number }>("SELECT COUNT(*) AS n FROM runtime_secrets")[0]?.n ?? 0;
}

interface Pool {
  db: DatabaseSync;
  manager: PoolManager;
  runner: VerificationRunner;
}

/** Opens the database and the manager over it; refuses a pool without keys before writing anything. */
async function openPool(settings: NodeSettings, envRing: KeyRing, background: BackgroundWork, redact: (text: string) => string): Promise<Pool> {
  const { db } = openDatabase(settings.dataDir);
  let manager: PoolManager | undefined;
  const batch = (): Promise<number | null> => (manager === undefined ? Promise.resolve(null) : manager.verificationBatch());
  const runner = verificationRunner(batch, background.add, (message) => console.error(redact(message)));
  try {
    const sql = sqliteRunner(db);
    if (envRing.keys.length === 0 && runtimeKeyCount(sql) === 0) throw new StartupFault(MISSING_KEYS);
    manager = new PoolManager({ sql, transaction: sqliteTransaction(db), envRing, config: readConfig(settings.env), wake: runner.wake });
    // One run at start plays the Durable Object's stored alarm: a job the last run left
    // unfinished goes on, and the run says when the next is due (null: nothing to do).
    await runner.wake();
    return { db, manager, runner };
  } catch (error) {
    runner.stop();
    db.close();
    throw error;
  }
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function bannerOf(url: string, keys: number, open: boolean): string {
  const access = open
    ? "OPEN: PROXY_API_KEY is not set, so anyone who can reach it can spend your Gemini quota"
    : "clients must present PROXY_API_KEY";
  return `Ready on ${url} · ${keys} pool key${keys === 1 ? "" : "s"} · ${access}`;
}

export async function startServer(settings: NodeSettings): Promise<RunningServer> {
  const config = readConfig(settings.env);
  // A placeholder or short token protects nothing; on a server one line and exit 2 is the
  // safest answer (a Worker, which cannot refuse, logs a warning instead).
  const weak = weakTokenProblem(settings.env);
  if (weak !== null) throw new StartupFault(weak);
  const trusted = trustedProxies(settings.env.TRUSTED_PROXIES);
  const envRing = await keyRingFor(settings.env.API_KEYS);
  if (envRing.keys.length === 0 && !existsSync(join(resolve(settings.dataDir), DATABASE_FILE))) throw new StartupFault(MISSING_KEYS);

  const keyRing = new RefreshableKeyRing(envRing);
  const background = new BackgroundWork(keyRing.redact);
  const { db, manager, runner } = await openPool(settings, envRing, background, keyRing.redact);
  // The manager is in-process and synchronous: usage is written at once, not batched for
  // half a second as the Worker batches its Durable Object calls, so kill -9 loses none of it.
  const app = createApp({ usageDelayMs: 0, awaitAgedView: true });
  const live = new LiveSockets();
  const services: RuntimeServices = {
    config,
    keyRing,
    keyManager: manager,
    waitUntil: background.add,
    // Node's web streams run JavaScript per chunk whatever the proxy does, so it gets the
    // standard plumbing, with the inline meter (no tee, no copy of each chunk).
    streams: standardStreams,
    log: (entry) => {
      if (config.logRequests) console.log(JSON.stringify(entry));
    },
  };

  const server = createAdaptorServer({
    fetch: (request: Request, { incoming }: HttpBindings | Http2Bindings) => {
      // What the login limit counts per client: on Workers Cloudflare sets it, and a client cannot.
      markClient(request.headers, incoming, trusted);
      return app.fetch(request, { services });
    },
  }) as Server;
  // Node's default requestTimeout (300 s) would cut a long upload (a large file, slowly);
  // UPSTREAM_TIMEOUT_MS bounds the wait for Google, and headersTimeout still ends a client
  // that never finishes sending its headers (slowloris).
  server.requestTimeout = 0;
  server.on(
    "upgrade",
    upgradeHandler(live, trusted, (request, runtime) => app.fetch(request, { services: runtime === undefined ? services : { ...services, live: runtime } })),
  );

  let port: number;
  try {
    port = await listen(server, settings.host, settings.port);
  } catch (error) {
    runner.stop();
    await background.drain(DRAIN_MS);
    db.close();
    throw error;
  }
  const daily = scheduleDailyReset(() => background.add(manager.reset("day")), sqliteResetLedger(sqliteRunner(db)));
  const keys = envRing.keys.length + ((await manager.runtimeKeys())?.keys.length ?? 0);
  const url = urlOf(settings.host, port);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const deadline = Date.now() + SHUTDOWN_TOTAL_MS;
    const closed = new Promise<void>((done) => server.close(() => done()));
    // close() ends only the connections idle at that moment; a keep-alive connection whose
    // request finishes later would otherwise hold the shutdown for its idle timeout.
    const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    await live.closeAll(LIVE_CLOSE_MS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise<void>((done) => (timer = setTimeout(done, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(timer);
    clearInterval(sweeper);
    server.closeAllConnections();
    daily.stop();
    runner.stop();
    await background.drain(Math.max(MIN_DRAIN_MS, deadline - Date.now()));
    db.close();
  };
  return {
    url,
    banner: bannerOf(url, keys, config.proxyTokens.length === 0),
    redact: keyRing.redact,
    stop: () => (stopping ??= stop()),
  };
}

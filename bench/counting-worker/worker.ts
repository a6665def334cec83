// The production worker, unchanged, with its Durable Object class subclassed to count the
// RPC calls that reach it (every method, by name, so methods added later are counted too)
// and the SQLite rows they write (workerd's own cursor counters), and, on request, to
// answer every call late, as an object far from the isolate would. Production code has no
// test hooks; this wrapper exists only in the benchmark.

import { ApiKeyManager as ProductionManager } from "../../src/cloudflare/api-key-manager.ts";
import proxy from "../../src/cloudflare/worker.ts";

export interface DoCounts {
  /** Calls per Durable Object method name. */
  calls: Record<string, number>;
  /** Usage reports carried by the recordUsage calls (they come in batches). */
  usageReports: number;
  /** Sum of SqlStorageCursor.rowsWritten over every statement the object ran. */
  rowsWritten: number;
  rowsRead: number;
  statements: number;
}

// One pool object per isolate ("pool"), so module-level totals are that object's totals.
const counts: DoCounts = { calls: {}, usageReports: 0, rowsWritten: 0, rowsRead: 0, statements: 0 };
/** Every counted call answers this much later: a key manager far away from the isolate. */
let delayMs = 0;

/**
 * Counts rows via the cursors workerd returns. The key store reads each cursor to the end
 * before running the next statement, so a cursor's counters are final by the next exec;
 * the returned function folds in the last one.
 */
function meterSql(sql: SqlStorage): () => void {
  const exec = sql.exec.bind(sql);
  let pending: SqlStorageCursor<Record<string, SqlStorageValue>> | undefined;
  const settle = (): void => {
    if (pending === undefined) return;
    counts.rowsWritten += pending.rowsWritten;
    counts.rowsRead += pending.rowsRead;
    pending = undefined;
  };
  sql.exec = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> => {
    settle();
    counts.statements++;
    const cursor = exec<T>(query, ...bindings);
    pending = cursor;
    return cursor;
  };
  return settle;
}

export class ApiKeyManager extends ProductionManager {
  readonly #settle: () => void;

  constructor(ctx: DurableObjectState, env: Env) {
    // Before the production constructor runs, so its key store gets the metered exec.
    const settle = meterSql(ctx.storage.sql);
    super(ctx, env);
    this.#settle = settle;
  }

  /** Not counted itself: the benchmark reads the totals before and after a workload. */
  async benchCounts(): Promise<DoCounts> {
    this.#settle();
    return structuredClone(counts);
  }

  /** Not counted itself: sets the delay every counted call waits before it runs. */
  async benchDelay(ms: number): Promise<void> {
    delayMs = ms;
  }
}

// Every method of the production class, wrapped to count its calls.
for (const name of Object.getOwnPropertyNames(ProductionManager.prototype)) {
  const method: unknown = Object.getOwnPropertyDescriptor(ProductionManager.prototype, name)?.value;
  if (name === "constructor" || typeof method !== "function") continue;
  Object.defineProperty(ApiKeyManager.prototype, name, {
    value(this: ApiKeyManager, ...args: unknown[]): unknown {
      counts.calls[name] = (counts.calls[name] ?? 0) + 1;
      if (name === "recordUsage" && Array.isArray(args[0])) counts.usageReports += args[0].length;
      if (delayMs === 0) return Reflect.apply(method, this, args);
      return new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => Reflect.apply(method, this, args));
    },
  });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const stub = env.API_KEY_MANAGER.getByName("pool") as unknown as DurableObjectStub<ApiKeyManager>;
    if (url.pathname === "/__bench/do-counts") return Response.json(await stub.benchCounts());
    if (url.pathname === "/__bench/do-delay") {
      await stub.benchDelay(Number(url.searchParams.get("ms") ?? 0));
      return new Response(null, { status: 204 });
    }
    return proxy.fetch(request, env, ctx);
  },
  scheduled: proxy.scheduled,
} satisfies ExportedHandler<Env>;

// The production worker, unchanged, with its Durable Object class subclassed to count the
// RPC calls that reach it (every method, by name, so methods added later are counted too)
// and the SQLite rows they write (workerd's own cursor counters). Production code has no
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
}

// Every method of the production class, wrapped to count its calls.
for (const name of Object.getOwnPropertyNames(ProductionManager.prototype)) {
  const method: unknown = Object.getOwnPropertyDescriptor(ProductionManager.prototype, name)?.value;
  if (name === "constructor" || typeof method !== "function") continue;
  Object.defineProperty(ApiKeyManager.prototype, name, {
    value(this: ApiKeyManager, ...args: unknown[]): unknown {
      counts.calls[name] = (counts.calls[name] ?? 0) + 1;
      if (name === "recordUsage" && Array.isArray(args[0])) counts.usageReports += args[0].length;
      return Reflect.apply(method, this, args);
    },
  });
}

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/do-counts") {
      const stub = env.API_KEY_MANAGER.getByName("pool") as unknown as DurableObjectStub<ApiKeyManager>;
      return Response.json(await stub.benchCounts());
    }
    return proxy.fetch(request, env, ctx);
  },
  scheduled: proxy.scheduled,
} satisfies ExportedHandler<Env>;

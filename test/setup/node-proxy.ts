import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNodeServer } from "./node-process.ts";

// The Node server as the end-to-end suites and the bench use it: the same surface as a
// `wrangler dev` run (origin, everything printed, stop, a state directory to restart on),
// on the bundle the node-server project built once for the run (build-node-server.ts).

export interface NodeProxy {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** Its DATA_DIR; pass it again to restart on the same state. */
  persistTo: string;
  /** The node process, e.g. to read its memory from /proc. */
  pid: number;
  /** Everything it printed so far: stdout (the Ready line, the request log), then stderr. */
  output(): string;
  /** SIGTERM, as `docker stop` sends it; rejects unless the server exits 0 (a graceful stop). */
  stop(): Promise<void>;
}

export interface NodeProxyOptions {
  vars: Record<string, string>;
  /** Reuse this DATA_DIR (kept on stop); a fresh temporary one otherwise. */
  persistTo?: string;
}

export async function startNodeProxy(options: NodeProxyOptions): Promise<NodeProxy> {
  const persistTo = options.persistTo ?? (await mkdtemp(join(tmpdir(), "node-server-data-")));
  // Its working directory (where it would read a .env file) is its own data directory, so
  // no .env of the repository leaks into a test's settings.
  const server = await startNodeServer({ ...options.vars, DATA_DIR: persistTo }, persistTo);
  const output = (): string => server.stdout() + server.stderr();
  return {
    origin: server.origin,
    port: server.port,
    persistTo,
    pid: server.child.pid ?? 0,
    output,
    async stop() {
      const code = await server.stop();
      if (options.persistTo === undefined) await rm(persistTo, { recursive: true, force: true });
      if (code !== 0) throw new Error(`the Node server did not stop cleanly on SIGTERM (exit ${code}):\n${output()}`);
    },
  };
}

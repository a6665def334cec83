import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { buildNodeServer, startNodeServer, type RunningNodeServer } from "./node-process.ts";
import { poolKeys, proxyToken } from "./test-keys.ts";

// What a suite of bare Node server processes shares: one fake upstream, one scratch folder,
// the settings that point a server at both, and every server stopped at the end.

export interface NodeServerSuite {
  readonly upstream: FakeUpstream;
  /** The scratch folder; each server's data lives in a folder of its own below it. */
  readonly work: string;
  /** The settings of a server named `name` (its DATA_DIR), three pool keys and the test token, plus `extra`. */
  env(name: string, extra?: Record<string, string>): Record<string, string>;
  /** Starts a server with env(name, extra), stopped when the suite ends. */
  start(name: string, extra?: Record<string, string>): Promise<RunningNodeServer>;
}

/** Registers the suite's beforeAll/afterAll; call at the top of a test file. */
export function nodeServerSuite(prefix: string): NodeServerSuite {
  let upstream: FakeUpstream | undefined;
  let work = "";
  const running: RunningNodeServer[] = [];
  beforeAll(async () => {
    buildNodeServer();
    upstream = await startFakeUpstream();
    work = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
    await upstream?.close();
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });
  const suite: NodeServerSuite = {
    get upstream() {
      if (upstream === undefined) throw new Error("the suite's fake upstream starts in beforeAll");
      return upstream;
    },
    get work() {
      return work;
    },
    env: (name, extra = {}) => ({
      GEMINI_UPSTREAM_URL: `${suite.upstream.origin}/v1beta`,
      OPENAI_UPSTREAM_URL: `${suite.upstream.origin}/v1beta/openai`,
      API_KEYS: poolKeys.slice(0, 3).join(","),
      PROXY_API_KEY: proxyToken,
      DATA_DIR: join(work, name, "data"),
      LOG_REQUESTS: "false",
      ...extra,
    }),
    async start(name, extra = {}) {
      const server = await startNodeServer(suite.env(name, extra), work);
      running.push(server);
      return server;
    },
  };
  return suite;
}

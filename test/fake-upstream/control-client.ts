// The control surface over fetch, for tests that cannot hold the in-process FakeUpstream
// (workerd tests) — same operations, same shapes, just asynchronous. Uses only fetch.

import type { FakeConfig } from "./resource-types.ts";
import type { KeyConfig, LogFilter, LogSnapshot, ModelShape, QuotaConfig, ScriptConfig } from "./types.ts";

export interface FakeControlClient {
  reset(): Promise<void>;
  setKey(config: KeyConfig): Promise<void>;
  setQuota(config: QuotaConfig): Promise<void>;
  script(config: ScriptConfig): Promise<void>;
  setModel(shape: ModelShape): Promise<void>;
  configure(config: FakeConfig): Promise<void>;
  log(filter?: LogFilter): Promise<LogSnapshot>;
}

export function fakeControlClient(origin: string): FakeControlClient {
  const post = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${origin}/__fake/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`fake upstream /__fake/${path}: ${response.status} ${await response.text()}`);
    await response.body?.cancel();
  };
  return {
    reset: () => post("reset", {}),
    setKey: (config) => post("keys", config),
    setQuota: (config) => post("quota", config),
    script: (config) => post("script", config),
    setModel: (shape) => post("model", shape),
    configure: (config) => post("config", config),
    log: async (filter = {}) => {
      const query = new URLSearchParams();
      if (filter.model !== undefined) query.set("model", filter.model);
      if (filter.key !== undefined) query.set("key", filter.key);
      if (filter.tag !== undefined) query.set("tag", filter.tag);
      const response = await fetch(`${origin}/__fake/log?${query}`);
      if (!response.ok) throw new Error(`fake upstream /__fake/log: ${response.status}`);
      return (await response.json()) as LogSnapshot;
    },
  };
}

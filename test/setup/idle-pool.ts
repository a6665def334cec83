import type { KeyPool, KeyPoolAdmin } from "../../src/core/key-pool.ts";

// A pool whose every call fails: tests spread the few methods they exercise over it,
// so a stand-in pool stays short however many methods the real one has.

const unused = (name: string) => () => Promise.reject(new Error(`${name} is not used by this test`));

export function idlePool(): KeyPool & KeyPoolAdmin {
  return {
    acquire: unused("acquire"),
    recordUsage: unused("recordUsage"),
    recordOwnership: unused("recordOwnership"),
    forgetResources: unused("forgetResources"),
    usableKeys: unused("usableKeys"),
    recordEvents: async () => undefined,
    runtimeKeys: async () => null,
    snapshot: unused("snapshot"),
    reset: unused("reset"),
    listKeys: unused("listKeys"),
    addKeys: unused("addKeys"),
    deleteKey: unused("deleteKey"),
    disableKey: unused("disableKey"),
    enableKey: unused("enableKey"),
    verifyKey: unused("verifyKey"),
    startVerification: unused("startVerification"),
    verification: unused("verification"),
    bulk: unused("bulk"),
    events: unused("events"),
  };
}

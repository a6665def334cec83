import type { KeyManager, KeyPoolAdmin } from "../../src/core/key-pool.ts";

// A key manager whose every call fails: tests spread the few methods they exercise over
// it, so a stand-in manager stays short however many methods the real one has.

const unused = (name: string) => () => Promise.reject(new Error(`${name} is not used by this test`));

export function idlePool(): KeyManager & KeyPoolAdmin {
  return {
    poolView: unused("poolView"),
    recordFailure: unused("recordFailure"),
    recordUsage: unused("recordUsage"),
    ownersOf: unused("ownersOf"),
    recordOwnership: unused("recordOwnership"),
    forgetResources: unused("forgetResources"),
    setLimit: unused("setLimit"),
    recordEvents: async () => undefined,
    runtimeKeys: async () => null,
    snapshot: unused("snapshot"),
    reset: unused("reset"),
    listKeys: unused("listKeys"),
    addKeys: unused("addKeys"),
    deleteKey: unused("deleteKey"),
    disableKey: unused("disableKey"),
    enableKey: unused("enableKey"),
    groupKey: unused("groupKey"),
    verifyKey: unused("verifyKey"),
    startVerification: unused("startVerification"),
    verification: unused("verification"),
    bulk: unused("bulk"),
    events: unused("events"),
  };
}

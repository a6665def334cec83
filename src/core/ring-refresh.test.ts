import { describe, expect, it } from "vitest";
import type { RuntimeKeys } from "./admin-model";
import { createKeyRing, fingerprint, maskKey, type PoolKey } from "./key-ring";
import { RefreshableKeyRing } from "./ring-refresh";

// A process's ring learns runtime keys from the key manager: once per new version,
// shared by concurrent callers, and not more than once a second when nothing helps.

const ENV_KEY = "AIzaSyD4r9Kq2LmX7vB1nT8pW3zY6cH0jF5gE01";
const RUNTIME_KEY = "AIzaSyQ8sN2wR5tU1oP9aV4bM7kJ3hG6fL0xC02";

async function runtimeKey(secret: string, position: number): Promise<PoolKey> {
  return { id: await fingerprint(secret), secret, masked: maskKey(secret), position };
}

describe("RefreshableKeyRing", () => {
  it("adds the runtime keys to lookups and redaction, fetching only what changed", async () => {
    const ring = new RefreshableKeyRing(await createKeyRing(ENV_KEY));
    const added = await runtimeKey(RUNTIME_KEY, 2);
    const asked: (string | undefined)[] = [];
    const fetchKeys = async (known?: string): Promise<RuntimeKeys | null> => {
      asked.push(known);
      return known === "v1" ? null : { version: "v1", keys: [added] };
    };
    expect(ring.byId(added.id)).toBeUndefined();
    expect(ring.redact(`key=${RUNTIME_KEY}`)).toBe(`key=${RUNTIME_KEY}`);

    // Concurrent callers share one fetch.
    await Promise.all([ring.refresh(fetchKeys, 0), ring.refresh(fetchKeys, 0)]);
    expect(asked).toEqual([undefined]);
    expect(ring.byId(added.id)?.position).toBe(2);
    expect(ring.redact(`key=${RUNTIME_KEY} and ${ENV_KEY}`)).toBe("key=AIza…xC02 and AIza…gE01");
    // Bound, as callers pass it around.
    const { redact } = ring;
    expect(redact(RUNTIME_KEY)).toBe("AIza…xC02");

    // Within a second nothing is asked; after it, the known version is sent and an unchanged answer keeps the ring.
    await ring.refresh(fetchKeys, 500);
    expect(asked).toEqual([undefined]);
    await ring.refresh(fetchKeys, 1_500);
    expect(asked).toEqual([undefined, "v1"]);
    expect(ring.keys.map((key) => key.position)).toEqual([1, 2]);
  });
});

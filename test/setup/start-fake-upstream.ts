// vitest globalSetup: one fake Gemini upstream for the whole run; the workerd tests reach
// it over loopback at the injected origin and isolate themselves by model name.

import type { TestProject } from "vitest/node";
import { startFakeUpstream } from "../fake-upstream/index.ts";
import { poolKeys, proxyToken } from "./test-keys.ts";

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const upstream = await startFakeUpstream({ port: 0 });
  provide("upstreamOrigin", upstream.origin);
  provide("poolKeys", [...poolKeys]);
  provide("proxyToken", proxyToken);
  return () => upstream.close();
}

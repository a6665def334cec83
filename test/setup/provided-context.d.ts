// Values the globalSetup or the project's `provide` hands to tests via `inject()`.

import type { Runtime } from "./start-proxy.ts";

declare module "vitest" {
  interface ProvidedContext {
    upstreamOrigin: string;
    poolKeys: string[];
    proxyToken: string;
    /** The runtime the end-to-end suites start the proxy on: one per vitest project. */
    proxyRuntime: Runtime;
  }
}

export {};

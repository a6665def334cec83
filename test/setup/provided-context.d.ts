// Values the globalSetup hands to every test project via `inject()`.

declare module "vitest" {
  interface ProvidedContext {
    upstreamOrigin: string;
    poolKeys: string[];
    proxyToken: string;
  }
}

export {};

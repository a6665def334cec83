import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: code that runs inside workerd (the proxy, its Durable Object, real
// storage) and Node-side suites (the fake upstream itself, end-to-end runs of
// `wrangler dev` driven by the official SDKs, the browser test).
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                GEMINI_UPSTREAM_URL: `${inject("upstreamOrigin")}/v1beta`,
                OPENAI_UPSTREAM_URL: `${inject("upstreamOrigin")}/v1beta/openai`,
                API_KEYS: inject("poolKeys").join(","),
                PROXY_API_KEY: inject("proxyToken"),
                LOG_REQUESTS: "false",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["src/**/*.test.ts", "test/workers/**/*.test.ts"],
          globalSetup: ["./test/setup/start-fake-upstream.ts"],
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

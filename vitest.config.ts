import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The end-to-end suites that run on both runtimes: once in the `node` project against
// `wrangler dev`, once in the `node-server` project against the Node server. Each starts the
// proxy with `inject("proxyRuntime")`, which the project provides.
const BOTH_RUNTIMES = [
  "test/node/sdk-e2e.test.ts",
  "test/node/resources-e2e.test.ts",
  "test/node/openai-batches-e2e.test.ts",
  "test/node/shared-project-list.test.ts",
  "test/node/stat-page.browser.test.ts",
  "test/node/stat-page-open.browser.test.ts",
  "test/node/load-exactness.test.ts",
  "test/node/durability.test.ts",
  "test/node/runtime-keys-e2e.test.ts",
  "test/node/upstream-faults.test.ts",
  "test/node/stream-endings.test.ts",
  "test/node/large-body-timeout.test.ts",
  "test/node/subrequest-limits.test.ts",
  "test/node/request-log.test.ts",
];

// Suites about the Node server itself (start-up faults, its life and signals): they spawn
// the bundle too, so they run where it is built.
const NODE_SERVER_ONLY = ["test/node/node-server-faults.test.ts", "test/node/node-server-lifecycle.test.ts"];

// A page or a pool that catches up "at once" does so in well under a second on a quiet
// machine, but CI machines and a busy laptop are not quiet: polls wait up to 10 s.
const NODE_SIDE = { environment: "node", testTimeout: 60_000, hookTimeout: 120_000, expect: { poll: { timeout: 10_000 } } } as const;

// Three projects: code that runs inside workerd (the proxy, its Durable Object, real
// storage); Node-side suites (the fake upstream itself, end-to-end runs of `wrangler dev`
// driven by the official SDKs, the browser tests); and the same end-to-end suites against
// the Node server, with the Node server's own suites, whose bundle is built once for the run.
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
          exclude: NODE_SERVER_ONLY,
          ...NODE_SIDE,
          provide: { proxyRuntime: "workers" },
        },
      },
      {
        test: {
          name: "node-server",
          include: [...BOTH_RUNTIMES, ...NODE_SERVER_ONLY],
          ...NODE_SIDE,
          globalSetup: ["./test/setup/build-node-server.ts"],
          provide: { proxyRuntime: "node" },
        },
      },
    ],
  },
});

import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/.wrangler/", "dist/", "worker-configuration.d.ts", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    // The /stat page's browser modules (src/core/stats/client) run in browsers, not workerd.
    files: ["**/*.client.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        ["window", "document", "location", "fetch", "confirm", "prompt", "Node", "Intl", "setTimeout", "clearTimeout", "setInterval", "requestAnimationFrame", "cancelAnimationFrame", "URLSearchParams", "encodeURIComponent"].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The core runs on Workers and on Node alike: what a runtime provides reaches it through
    // an interface (services.ts) that src/cloudflare and src/node implement. node:buffer is
    // the exception: every runtime the core targets has it (Workers through nodejs_compat),
    // and bytes.ts uses its native search. Tests next to the code run in workerd.
    files: ["src/core/**/*.ts"],
    ignores: ["src/core/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*", "!node:buffer"], message: "src/core is runtime-neutral: give it an interface that src/node implements." },
            { group: ["cloudflare:*"], message: "src/core is runtime-neutral: give it an interface that src/cloudflare implements." },
            { group: ["ws", "@hono/node-server", "@hono/node-server/*"], message: "src/core is runtime-neutral: Node's servers and sockets belong in src/node." },
            { group: ["**/cloudflare/**", "**/node/**"], message: "src/core must not import a runtime adapter." },
          ],
        },
      ],
    },
  },
  {
    // A test that reads a value it just arranged may assert it is there.
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
);

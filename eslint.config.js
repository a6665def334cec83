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
        ["window", "document", "location", "fetch", "confirm", "Node", "Intl", "setTimeout", "clearTimeout", "setInterval", "requestAnimationFrame", "cancelAnimationFrame", "URLSearchParams", "encodeURIComponent"].map((name) => [name, "readonly"]),
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
    // A test that reads a value it just arranged may assert it is there.
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
);

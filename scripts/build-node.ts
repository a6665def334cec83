import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { build } from "esbuild";

// Bundles the Node server into one file, dependencies included, so the Docker image needs
// no node_modules: `node dist/node/server.mjs`. The /stat page's browser files are
// imported as text, as wrangler.jsonc's Text rule does for the Worker.

const result = await build({
  entryPoints: ["src/node/main.ts"],
  outfile: "dist/node/server.mjs",
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  loader: { ".client.js": "text", ".client.css": "text" },
  // ws loads these native speed-ups when installed and works without them.
  external: ["bufferutil", "utf-8-validate"],
  // Bundled CommonJS (ws) calls require() for Node's built-ins; an ES module has none.
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  sourcemap: "linked",
  legalComments: "external",
  logLevel: "warning",
  write: false,
});

// Each file is written beside its place and renamed into it: a server started while
// another build runs (test suites build too) reads the old bundle or the new, never half of one.
for (const file of result.outputFiles) {
  await mkdir(dirname(file.path), { recursive: true });
  const partial = `${file.path}.${process.pid}.partial`;
  await writeFile(partial, file.contents);
  await rename(partial, file.path);
}

import { execFile } from "node:child_process";
import { promisify } from "node:util";

// vitest globalSetup of the node-server project: builds dist/node/server.mjs once for the
// whole run with the command users run (`npm run build:node`), so every suite starts the
// same bundle and none pays for a build.

export default async function setup(): Promise<void> {
  try {
    await promisify(execFile)("npm", ["run", "--silent", "build:node"], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build:node failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvFile, readSettings } from "../../src/node/node-env.ts";

// The Node server's settings: PORT as an operator writes it, and a .env file as editors save it.

const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function envFile(text: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "node-settings-"));
  directories.push(directory);
  const path = join(directory, ".env");
  await writeFile(path, text);
  return path;
}

/** The settings from exactly these variables (the process environment's type lists the Worker's too). */
const settingsOf = (vars: Record<string, string>) => readSettings(vars as NodeJS.ProcessEnv);

describe("PORT", () => {
  it("takes decimal digits up to 65535, and 0 for a free port", () => {
    expect(settingsOf({ PORT: "8080" }).port).toBe(8080);
    expect(settingsOf({ PORT: "0" }).port).toBe(0);
    expect(settingsOf({ PORT: "65535" }).port).toBe(65_535);
    expect(settingsOf({}).port).toBe(8787);
  });

  it.each(["0x50", "1e3", " ", "8787.0", "-1", "65536", "123456", "80 ", "+80"])("refuses %j with one line naming it", (raw) => {
    expect(() => settingsOf({ PORT: raw })).toThrow(`PORT=${raw} is not a port number`);
  });
});

describe("the .env file", () => {
  it("keeps its first variable when the file starts with a UTF-8 byte order mark", async () => {
    const target: Record<string, string> = {};
    loadEnvFile(await envFile("\uFEFFAPI_KEYS=first\nPROXY_API_KEY=second\n"), target);
    expect(target).toEqual({ API_KEYS: "first", PROXY_API_KEY: "second" });
  });

  it("never replaces what the environment already sets", async () => {
    const target: Record<string, string> = { PORT: "9000" };
    loadEnvFile(await envFile('PORT=1234\nHOST="0.0.0.0"\n'), target);
    expect(target).toEqual({ PORT: "9000", HOST: "0.0.0.0" });
  });
});

describe(".env.example, which the README tells Node users to copy to .env", () => {
  it("sets the pool and the token, and its ADMIN_API_KEY line works once uncommented", async () => {
    const example = await readFile(".env.example", "utf8");
    const target: Record<string, string> = {};
    loadEnvFile(await envFile(example.replace(/^# (ADMIN_API_KEY=)/m, "$1")), target);
    expect(target.API_KEYS?.split(",")).toHaveLength(2);
    expect(target.PROXY_API_KEY).toBeTruthy();
    expect(target.ADMIN_API_KEY).toBeTruthy();
    // What .dev.vars.example says of wrangler is false here: no advice to pass it with --var.
    expect(example).not.toMatch(/--var|does NOT work/);
  });
});

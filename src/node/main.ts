import { loadEnvFile, readSettings } from "./node-env";
import { startServer } from "./server";
import { sqliteModule } from "./sqlite-module";
import { reasonOf, StartupFault } from "./startup-fault";

// `node dist/node/server.mjs`: the proxy as a plain Node server. A fault at start is one
// line on stderr saying what to fix, and a non-zero exit; SIGTERM or SIGINT stop it
// cleanly (requests in flight finish, usage lands, the database closes) with exit 0.

async function main(): Promise<void> {
  // Everything the server creates (DATA_DIR, the database and its journal, which hold
  // runtime pool keys) is for this user alone, whatever umask the shell or image set.
  process.umask(0o077);
  // Before anything else, so an old Node hears which Node to install and nothing more.
  sqliteModule();
  loadEnvFile();
  const server = await startServer(readSettings());
  // On Workers a promise nobody awaited fails only its request; Node would end the process
  // with every request in flight. Logged instead, with pool keys masked as in every log line.
  process.on("unhandledRejection", (reason) => console.error(server.redact(`Unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`)));
  const shutdown = (signal: string): void => {
    console.log(`${signal}: finishing requests in flight, then stopping.`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Shutdown failed: ${reasonOf(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  // Last: whoever waits for this line may signal the server at once.
  console.log(server.banner);
}

main().catch((error: unknown) => {
  console.error(error instanceof StartupFault ? error.message : `Cannot start the proxy: ${reasonOf(error)}`);
  process.exit(error instanceof StartupFault ? 2 : 1);
});

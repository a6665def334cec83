import type * as Sqlite from "node:sqlite";
import { StartupFault } from "./startup-fault";

// node:sqlite is loaded at run time, not imported: a static import fails while the bundle
// is being linked, before any code runs, so an older Node printed a stack trace about an
// unknown module instead of saying which Node the proxy needs.

/** The first release line with node:sqlite without a flag (22.13.0; 23.4.0 on 23). */
export const MIN_NODE = "22.13";

/** node:sqlite, or a start-up fault naming the Node this proxy needs. */
export function sqliteModule(): typeof Sqlite {
  // getBuiltinModule (Node 20.16+) answers undefined for a module this Node lacks or hides behind a flag.
  const sqlite = typeof process.getBuiltinModule === "function" ? process.getBuiltinModule("node:sqlite") : undefined;
  if (sqlite === undefined) {
    throw new StartupFault(`This proxy needs node:sqlite, built into Node ${MIN_NODE} and later; this Node (${process.version}) has none: install Node 24 LTS, or run the Docker image.`);
  }
  return sqlite;
}

// The ws library, loaded through Node's own require. Under vitest's workers project Vite
// resolves bare imports with browser/workerd conditions even for globalSetup, which hands
// out ws's browser stub (no WebSocketServer); Node's resolver always finds the real one.

import { createRequire } from "node:module";
import type * as Ws from "ws";

const ws = createRequire(import.meta.url)("ws") as typeof Ws;

export const WebSocketServer = ws.WebSocketServer;

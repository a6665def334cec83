// The Live API endpoint: WebSocket upgrades at
// /ws/google.ai.generativelanguage.{v}.GenerativeService.BidiGenerateContent?key=KEY
// (also with the leading `//` the SDK produces). Other upgrade paths get a plain 404.

import type { IncomingMessage, Server } from "node:http";
import { nativeApiKey } from "./auth.ts";
import type { FakeState } from "./control-state.ts";
import { runLiveSession } from "./live-session.ts";
import type { RequestLogEntry } from "./types.ts";
import { WebSocketServer } from "./ws-library.ts";

const LIVE_PATH = /^\/+ws\/google\.ai\.generativelanguage\.(v1beta|v1alpha|v1)\.GenerativeService\.BidiGenerateContent$/;

export interface LiveEndpoint {
  /** Terminates open sessions so the HTTP server can close. */
  close(): void;
}

export function attachLive(
  server: Server,
  state: FakeState,
  newEntry: (req: IncomingMessage, url: URL) => RequestLogEntry,
): LiveEndpoint {
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    // Not new URL(req.url, base): a path starting with `//` would be read as a host.
    const url = new URL(`http://127.0.0.1${req.url ?? "/"}`);
    const apiVersion = LIVE_PATH.exec(url.pathname)?.[1];
    if (apiVersion === undefined) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry = newEntry(req, url);
      Object.assign(entry, { dialect: "native", apiVersion, action: "bidiGenerateContent", status: 101 });
      const key = nativeApiKey(req, url);
      entry.apiKey = key ?? null;
      state.requests.add(entry);
      runLiveSession(ws, { state, entry, key, apiVersion });
    });
  });
  return {
    close: () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

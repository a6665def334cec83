import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TrustCheck } from "../core/client-address";
import type { LiveRuntime } from "../core/live/live-socket";
import type { LiveSockets } from "./live-runtime";
import { markClient } from "./trusted-proxies";

// Node hands a WebSocket upgrade to the server's `upgrade` event instead of its request
// handler. The request goes through the same app (authentication, routing, errors);
// when the app accepted the socket the handshake completes, and otherwise its answer (a
// 401 in the Gemini style, a 404, …) is written to the raw socket as a plain response.
// An Upgrade to anything but a WebSocket (h2c, …) is served as the plain request it also
// is, without Live support, as on Workers: the same 401 for a missing token.

export type UpgradeFetch = (request: Request, live: LiveRuntime | undefined) => Promise<Response>;

function upgradeRequest(incoming: IncomingMessage, trusted: TrustCheck): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i] ?? "", incoming.rawHeaders[i + 1] ?? "");
  markClient(headers, incoming, trusted);
  // Concatenated, not resolved: a path such as `//ws/…` (the Gemini SDK's, after a base URL) is no host.
  return new Request(`http://${incoming.headers.host ?? "localhost"}${incoming.url ?? "/"}`, { headers });
}

async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, "connection: close");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), body]));
}

/** The server's `upgrade` listener. */
export function upgradeHandler(live: LiveSockets, trusted: TrustCheck, fetch: UpgradeFetch) {
  return (incoming: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    if (incoming.headers.upgrade?.toLowerCase() !== "websocket") {
      fetch(upgradeRequest(incoming, trusted), undefined)
        .then((response) => writeResponse(socket, response))
        .catch(() => socket.destroy());
      return;
    }
    const { runtime, accepted } = live.forUpgrade();
    fetch(upgradeRequest(incoming, trusted), runtime)
      .then(async (response) => {
        const socketAccepted = accepted();
        if (socketAccepted !== undefined) live.complete(socketAccepted, incoming, socket, head);
        else await writeResponse(socket, response);
      })
      .catch(() => socket.destroy());
  };
}

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { LiveRuntime, LiveSocket } from "../core/live/live-socket";

// The Live API's WebSockets on Node, with `ws` both ways. On Workers the app accepts the
// client's socket (a WebSocketPair) and returns a 101 response that completes the
// upgrade. On Node the upgrade arrives as the server's `upgrade` event with the raw
// socket, and a Response cannot even carry status 101, so accept() hands the app a
// socket that comes alive once the handshake completes: what the app sends meanwhile is
// queued, its listeners are attached then. (ws delivers text frames as strings and, with
// binaryType "arraybuffer", binary frames as ArrayBuffer, as the relay expects.)

type EventName = "message" | "close" | "error";
/** Any of LiveSocket's listeners; ws calls each with the event its name promises. */
type Listener = (event: never) => void;

/** The client's socket, handed to the app before the handshake is done. */
class AcceptedSocket implements LiveSocket {
  #ws: WebSocket | undefined;
  #queued: (string | ArrayBuffer)[] = [];
  #listeners: [EventName, Listener][] = [];
  #closing: { code?: number; reason?: string } | undefined;
  #ended = false;

  send(data: string | ArrayBuffer): void {
    if (this.#ws !== undefined) this.#ws.send(data);
    else if (!this.#ended) this.#queued.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.#ws !== undefined) this.#ws.close(code, reason);
    else this.#closing = { code, reason };
  }

  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: unknown) => void): void;
  addEventListener(type: EventName, listener: Listener): void {
    if (this.#ws !== undefined) this.#ws.addEventListener(type, listener as (event: unknown) => void);
    else this.#listeners.push([type, listener]);
  }

  /** The handshake completed: everything the app did so far happens now. */
  attach(ws: WebSocket): void {
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    for (const [type, listener] of this.#listeners.splice(0)) ws.addEventListener(type, listener as (event: unknown) => void);
    for (const data of this.#queued.splice(0)) ws.send(data);
    if (this.#closing !== undefined) ws.close(this.#closing.code, this.#closing.reason);
  }

  /** The client left before the handshake completed: the app sees an abnormal close. */
  abandon(): void {
    this.#ended = true;
    this.#queued = [];
    for (const [type, listener] of this.#listeners.splice(0)) {
      if (type === "close") (listener as (event: { code: number; reason: string }) => void)({ code: 1006, reason: "" });
    }
  }
}

/**
 * ws emits `error` as an EventEmitter event, which throws (and ends the process) when
 * nobody listens; a peer's bad frame must not do that. ws closes the socket after every
 * error, and the session acts on the close.
 */
const ignoreError = (): void => undefined;

/** Opens the upstream socket; rejects (without the URL: it carries a pool key) when the handshake fails. */
function connect(url: string): Promise<LiveSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const refused = (error: Error): void => reject(new Error(`Could not reach the Live API: ${error.message.replaceAll(url, "…")}`));
    socket.once("open", () => {
      socket.off("error", refused);
      socket.on("error", ignoreError);
      resolve(socket);
    });
    socket.once("unexpected-response", (_request, response) => {
      response.resume();
      socket.terminate();
      reject(new Error(`The Live API refused the WebSocket upgrade with HTTP ${response.statusCode ?? "?"}`));
    });
    socket.once("error", refused);
  });
}

/** The server's client sockets: completes upgrades the app accepted, and closes them all on shutdown. */
export class LiveSockets {
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  readonly #open = new Set<WebSocket>();

  get count(): number {
    return this.#open.size;
  }

  /** A LiveRuntime for one upgrade request; `accepted()` says whether the app took the socket. */
  forUpgrade(): { runtime: LiveRuntime; accepted: () => AcceptedSocket | undefined } {
    let socket: AcceptedSocket | undefined;
    const runtime: LiveRuntime = {
      accept() {
        socket = new AcceptedSocket();
        // Never sent: the upgrade handler completes the handshake itself (see above).
        return { socket, response: new Response(null, { status: 200 }) };
      },
      connect,
    };
    return { runtime, accepted: () => socket };
  }

  complete(socket: AcceptedSocket, request: IncomingMessage, raw: Duplex, head: Buffer): void {
    const abandon = (): void => socket.abandon();
    if (raw.destroyed) return abandon();
    raw.once("close", abandon);
    this.#server.handleUpgrade(request, raw, head, (ws) => {
      raw.off("close", abandon);
      ws.on("error", ignoreError);
      this.#open.add(ws);
      ws.once("close", () => this.#open.delete(ws));
      socket.attach(ws);
    });
  }

  /** Closes every client socket with 1001 (going away) and waits until they are closed, at most `timeoutMs`. */
  async closeAll(timeoutMs: number): Promise<void> {
    const closed = [...this.#open].map((ws) => new Promise((resolve) => ws.once("close", resolve)));
    for (const ws of this.#open) ws.close(1001, "The proxy is shutting down; reconnect shortly.");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const ws of this.#open) ws.terminate();
    this.#server.close();
  }
}

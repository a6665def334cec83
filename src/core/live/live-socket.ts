// The Live API is a WebSocket session. The proxy needs only the standard WebSocket
// surface, which Workers, browsers and Node all offer; how a socket is accepted from
// a client or opened upstream is the runtime's business (LiveRuntime).

/** A socket the runtime set up to deliver binary frames as ArrayBuffer (not Blob). */
export interface LiveSocket {
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: unknown) => void): void;
}

export interface LiveRuntime {
  /** Accepts the client's upgrade: the socket to talk to it, and the 101 response to return. */
  accept(request: Request): { socket: LiveSocket; response: Response };
  /** Opens a WebSocket to the upstream (a `wss://` URL); rejects if the handshake fails. */
  connect(url: string): Promise<LiveSocket>;
}

/** Close codes a peer may not send itself (RFC 6455 §7.4.1): replaced by a plain one. */
export function sendableCloseCode(code: number): number {
  if (code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)) return code;
  return code >= 3000 && code <= 4999 ? code : 1011;
}

/** Close reasons are limited to 123 bytes of UTF-8. */
export function sendableReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, "") + "…";
}

/** What a message event carries, as the relay forwards it. */
export type Frame = string | ArrayBuffer;

export function asFrame(data: unknown): Frame {
  if (typeof data === "string" || data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
  throw new TypeError(`Unexpected WebSocket message type ${Object.prototype.toString.call(data)}`);
}

export function frameText(frame: Frame): string {
  return typeof frame === "string" ? frame : new TextDecoder().decode(frame);
}

import type { LiveRuntime } from "../core/live/live-socket";

// Since the 2026 compatibility dates Workers deliver binary frames as Blob, like browsers;
// the relay wants them as ArrayBuffer (Google sends its JSON in binary frames).
function binaryAsArrayBuffer(socket: WebSocket): WebSocket {
  socket.binaryType = "arraybuffer";
  return socket;
}

/** WebSockets the Workers way: a WebSocketPair for the client, an upgrading fetch upstream. */
export const workersLiveRuntime: LiveRuntime = {
  accept() {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    return { socket: binaryAsArrayBuffer(server), response: new Response(null, { status: 101, webSocket: client }) };
  },

  async connect(url) {
    const response = await fetch(url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });
    const socket = response.webSocket;
    if (socket === null) {
      await response.body?.cancel();
      throw new Error(`The Live API refused the WebSocket upgrade with HTTP ${response.status}`);
    }
    socket.accept();
    return binaryAsArrayBuffer(socket);
  },
};

// The fake Gemini upstream: one node:http server on 127.0.0.1 serving Google's native and
// OpenAI-compatible routes, the project-owned resources (uploads, files, caches, batches),
// the Live API WebSocket, plus the /__fake/* control surface.

import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { FakeState } from "./control-state.ts";
import { CONTROL_PREFIX, handleControl } from "./control-routes.ts";
import { internalError, routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { readRawBody } from "./http-io.ts";
import { attachLive } from "./live-server.ts";
import { handleNative, isNativePath } from "./native-routes.ts";
import { handleOperation, isOperationPath } from "./operation-routes.ts";
import { handleOpenAi, OPENAI_PREFIX } from "./openai-routes.ts";
import { handleResource, isResourcePath } from "./resource-routes.ts";
import { redactedHeaders, redactedQuery, TAG_HEADER } from "./request-log.ts";
import { sendError } from "./respond.ts";
import { handleUpload, isUploadPath } from "./upload-routes.ts";
import type { FakeControl, RequestLogEntry } from "./types.ts";

export interface FakeUpstreamOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface FakeUpstream extends FakeControl {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  close(): Promise<void>;
}

function newEntry(state: FakeState, req: IncomingMessage, url: URL, body: Buffer): RequestLogEntry {
  return {
    id: state.requests.nextId(),
    at: Date.now(),
    method: req.method ?? "GET",
    path: url.pathname,
    ...redactedQuery(url),
    dialect: null,
    apiVersion: null,
    action: null,
    apiKey: null,
    model: null,
    status: null,
    authorizationHeaderPresent: req.headers.authorization !== undefined,
    googApiKeyHeaderPresent: req.headers["x-goog-api-key"] !== undefined,
    headers: redactedHeaders(req),
    bodyBytes: body.length,
    bodySha256: createHash("sha256").update(body).digest("hex"),
    streamed: false,
    clientAborted: false,
    serverReset: false,
    endedAt: null,
  };
}

async function route(state: FakeState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const tag = req.headers[TAG_HEADER];
  if (typeof tag === "string") res.once("close", state.requests.opened(tag));
  const raw = await readRawBody(req);
  const body = raw.toString("utf8");
  const entry = newEntry(state, req, url, raw);
  const aborter = new AbortController();
  res.on("close", () => {
    entry.endedAt = Date.now();
    if (!res.writableFinished && !entry.serverReset) {
      entry.clientAborted = true;
      aborter.abort();
    }
  });
  const ex: Exchange = { req, res, url, body, raw, entry, signal: aborter.signal, state };

  if (url.pathname.startsWith(CONTROL_PREFIX)) return handleControl(ex);
  state.requests.add(entry);
  if (url.pathname.startsWith(OPENAI_PREFIX)) return handleOpenAi(ex);
  if (isUploadPath(url.pathname)) return handleUpload(ex);
  if (isResourcePath(url.pathname)) return handleResource(ex);
  if (isOperationPath(url.pathname)) return handleOperation(ex);
  if (isNativePath(url.pathname)) return handleNative(ex);
  sendError(ex, routeNotFound(url.pathname));
}

function handler(state: FakeState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    route(state, req, res).catch((error: unknown) => {
      console.error("fake upstream: handler failed", error);
      if (res.headersSent) res.destroy();
      else {
        const { status, body } = internalError();
        res.writeHead(status, { "content-type": "application/json; charset=UTF-8" }).end(JSON.stringify(body));
      }
    });
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("fake upstream: no TCP address"));
      else resolve(address.port);
    });
  });
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const state = new FakeState();
  const server = createServer(handler(state));
  // Longer than client pools keep idle sockets, so a reused socket is never closed under a
  // request in flight (Node's 5 s default makes benchmarks see spurious resets).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const live = attachLive(server, state, (req, url) => newEntry(state, req, url, Buffer.alloc(0)));
  const port = await listen(server, options.port ?? 0);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hanging and keep-alive connections (and Live sockets) would otherwise hold close() open.
        live.close();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
    reset: () => state.reset(),
    setKey: (config) => state.setKey(config),
    setQuota: (config) => state.setQuota(config),
    script: (config) => state.script(config),
    setModel: (shape) => state.setModel(shape),
    configure: (config) => state.configure(config),
    log: (filter) => state.log(filter),
  };
}

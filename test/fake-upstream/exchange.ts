// One request/response pair as the route handlers see it.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeState } from "./control-state.ts";
import type { RequestLogEntry } from "./types.ts";

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The whole request body, read before routing. */
  body: string;
  /** The same body as bytes, for uploads (binary data does not survive a UTF-8 round trip). */
  raw: Buffer;
  /** Live log entry: handlers fill in what they learn (key, model, status, ...). */
  entry: RequestLogEntry;
  /** Aborted when the client closes the connection before the response ended. */
  signal: AbortSignal;
  state: FakeState;
}

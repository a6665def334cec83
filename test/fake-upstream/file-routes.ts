// Files API: get, list, delete and download (alt=media) of the caller's project's files.

import { routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { fileJson } from "./file-records.ts";
import { markStatus, sendError, sendJson } from "./respond.ts";
import { fileDenied, invalidPageToken } from "./resource-errors.ts";
import { pageOf } from "./resource-pages.ts";
import type { ResourceRoute } from "./resource-routes.ts";

function download(ex: Exchange, bytes: Buffer, mimeType: string): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  ex.res.writeHead(200, { "content-type": mimeType, "content-length": bytes.length });
  ex.res.end(bytes);
  markStatus(ex, 200);
}

export function handleFiles(ex: Exchange, route: ResourceRoute): void {
  const { files, config } = ex.state.resources;
  const { method, id, verb, caller } = route;
  if (id === undefined) {
    if (method !== "GET") return sendError(ex, routeNotFound(ex.url.pathname));
    const page = pageOf(files.list(caller.project), ex.url.searchParams, config.listPageSize);
    if (!page.ok) return sendError(ex, invalidPageToken());
    const body: { files: unknown[]; nextPageToken?: string } = { files: page.items.map(fileJson) };
    if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
    return sendJson(ex, 200, body);
  }
  const file = files.owned(id, caller.project);
  if (file === undefined) return sendError(ex, fileDenied(id));
  if (verb === "download" && method === "GET") return download(ex, file.bytes, file.mimeType);
  if (verb !== undefined) return sendError(ex, routeNotFound(ex.url.pathname));
  if (method === "GET") return sendJson(ex, 200, fileJson(file));
  if (method === "DELETE") {
    files.delete(id);
    return sendJson(ex, 200, {});
  }
  sendError(ex, routeNotFound(ex.url.pathname));
}

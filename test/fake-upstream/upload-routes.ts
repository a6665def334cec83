// Google's resumable upload protocol for POST /upload/{v}/files, as @google/genai speaks
// it: a `start` answered with a session URL on the fake's own host, then `upload` chunks
// (the last one `upload, finalize`) at that URL, each carrying an API key of the project
// that started the session, each at the offset the session has reached.

import { badRequest, routeNotFound } from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { FILE_LIFETIME_MS, fileJson, fileUri } from "./file-records.ts";
import type { StoredFile } from "./file-records.ts";
import { parseJson } from "./http-io.ts";
import { field } from "./json-access.ts";
import { markStatus, sendError } from "./respond.ts";
import { authorize } from "./resource-gate.ts";
import type { Caller } from "./resource-gate.ts";
import { alreadyExists, uploadDenied, uploadOffsetMismatch, uploadSessionNotFound, uploadSizeMismatch } from "./resource-errors.ts";
import { newResourceId } from "./resource-ids.ts";
import { requestOrigin } from "./request-origin.ts";
import type { UploadSession } from "./upload-sessions.ts";

const UPLOAD_PATH = /^\/upload\/(v1beta|v1|v1alpha)\/files\/?$/;
/** Google's chunk granularity; the SDK sends 8 MiB chunks. */
const CHUNK_GRANULARITY = 8 * 1024 * 1024;

export function isUploadPath(path: string): boolean {
  return UPLOAD_PATH.test(path);
}

function header(ex: Exchange, name: string): string | undefined {
  const value = ex.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(ex: Exchange, status: "active" | "final" | "cancelled", headers: Record<string, string> = {}, body?: unknown): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  const text = body === undefined ? "" : JSON.stringify(body);
  ex.res.writeHead(200, {
    "x-goog-upload-status": status,
    ...headers,
    ...(body === undefined ? {} : { "content-type": "application/json; charset=UTF-8" }),
    "content-length": Buffer.byteLength(text),
  });
  ex.res.end(text);
  markStatus(ex, 200);
}

function start(ex: Exchange, caller: Caller, apiVersion: string): void {
  const parsed = parseJson(ex.body);
  if (!parsed.ok) return sendError(ex, badRequest("Invalid JSON payload received."));
  const file = field(parsed.value, "file");
  const displayName = field(file, "displayName");
  const name = field(file, "name");
  const requestedId = typeof name === "string" && name !== "" ? name.replace(/^files\//, "") : undefined;
  if (requestedId !== undefined && ex.state.resources.files.has(requestedId)) return sendError(ex, alreadyExists(`files/${requestedId}`));
  const declared = Number(header(ex, "x-goog-upload-header-content-length"));
  const mimeType = header(ex, "x-goog-upload-header-content-type") ?? field(file, "mimeType");
  const session: UploadSession = {
    id: newResourceId(32),
    project: caller.project,
    ownerKey: caller.key,
    apiVersion,
    origin: requestOrigin(ex.req),
    declaredSize: Number.isInteger(declared) && declared >= 0 ? declared : null,
    mimeType: typeof mimeType === "string" && mimeType !== "" ? mimeType : "application/octet-stream",
    chunks: [],
    received: 0,
  };
  if (typeof displayName === "string") session.displayName = displayName;
  if (requestedId !== undefined) session.requestedId = requestedId;
  ex.state.resources.uploads.set(session.id, session);
  const url = `${session.origin}/upload/${apiVersion}/files?upload_id=${session.id}&upload_protocol=resumable`;
  reply(ex, "active", {
    "x-goog-upload-url": url,
    "x-goog-upload-control-url": url,
    "x-goog-upload-chunk-granularity": String(CHUNK_GRANULARITY),
  });
}

function finalize(ex: Exchange, session: UploadSession): ErrorReply | null {
  const { resources } = ex.state;
  if (session.declaredSize !== null && session.declaredSize !== session.received) {
    return uploadSizeMismatch(session.declaredSize, session.received);
  }
  const id = session.requestedId ?? newResourceId();
  if (resources.files.has(id)) return alreadyExists(`files/${id}`);
  const now = Date.now();
  const file: StoredFile = {
    id,
    project: session.project,
    ownerKey: session.ownerKey,
    createdAt: now,
    expiresAt: now + FILE_LIFETIME_MS,
    mimeType: session.mimeType,
    bytes: Buffer.concat(session.chunks),
    uri: fileUri(session.origin, session.apiVersion, id),
    source: "UPLOADED",
  };
  if (session.displayName !== undefined) file.displayName = session.displayName;
  resources.files.add(file);
  resources.uploads.delete(session.id);
  reply(ex, "final", {}, { file: fileJson(file) });
  return null;
}

/** One request at the session URL: `upload`, `upload, finalize`, `finalize`, `query` or `cancel`. */
function chunk(ex: Exchange, caller: Caller, uploadId: string): void {
  const { entry, state } = ex;
  const session = state.resources.uploads.get(uploadId);
  if (session === undefined) return sendError(ex, uploadSessionNotFound());
  if (session.project !== caller.project) return sendError(ex, uploadDenied());
  const commands = (header(ex, "x-goog-upload-command") ?? "").split(",").map((command) => command.trim().toLowerCase());
  const sizeReceived = (): Record<string, string> => ({ "x-goog-upload-size-received": String(session.received) });
  if (commands.includes("query")) {
    entry.action = "upload.query";
    return reply(ex, "active", sizeReceived());
  }
  if (commands.includes("cancel")) {
    entry.action = "upload.cancel";
    state.resources.uploads.delete(uploadId);
    return reply(ex, "cancelled");
  }
  const uploading = commands.includes("upload");
  const finalizing = commands.includes("finalize");
  if (!uploading && !finalizing) return sendError(ex, badRequest("Unknown X-Goog-Upload-Command."));
  entry.action = finalizing ? "upload.finalize" : "upload.chunk";
  if (uploading) {
    const offset = header(ex, "x-goog-upload-offset") ?? "";
    if (Number(offset) !== session.received || offset.trim() === "") return sendError(ex, uploadOffsetMismatch(session.received, offset));
    session.chunks.push(ex.raw);
    session.received += ex.raw.length;
  }
  if (!finalizing) return reply(ex, "active", sizeReceived());
  const failure = finalize(ex, session);
  if (failure !== null) sendError(ex, failure);
}

export function handleUpload(ex: Exchange): void {
  const { entry, req, url } = ex;
  entry.dialect = "native";
  const apiVersion = UPLOAD_PATH.exec(url.pathname)?.[1] ?? "v1beta";
  entry.apiVersion = apiVersion;
  if (req.method !== "POST") return sendError(ex, routeNotFound(url.pathname));
  const uploadId = url.searchParams.get("upload_id");
  entry.action = uploadId === null ? "upload.start" : "upload.chunk";
  const caller = authorize(ex);
  if (caller === null) return;
  if (uploadId !== null) return chunk(ex, caller, uploadId);
  const protocol = header(ex, "x-goog-upload-protocol");
  const command = header(ex, "x-goog-upload-command");
  if (protocol?.toLowerCase() !== "resumable" || command?.trim().toLowerCase() !== "start") {
    // @google/genai only ever uses the resumable protocol; multipart and raw uploads are not faked.
    return sendError(ex, badRequest("The fake upstream implements only resumable uploads (X-Goog-Upload-Protocol: resumable, Command: start)."));
  }
  start(ex, caller, apiVersion);
}

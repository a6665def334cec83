// Errors of the project-owned resources (files, caches, batches, upload sessions), worded
// as Google words them. Google does not tell "another project's" from "does not exist".

import { envelope } from "./error-bodies.ts";
import type { ErrorReply } from "./error-bodies.ts";

export function fileDenied(id: string): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", `You do not have permission to access the File ${id} or it may not exist.`);
}

export function cacheDenied(): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)");
}

/** Google's wording for batches is not documented; this follows its wording for files. */
export function batchDenied(id: string): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", `You do not have permission to access the Batch ${id} or it may not exist.`);
}

/** A chunk sent with a key of another project than the one that started the session. */
export function uploadDenied(): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", "The caller does not have permission");
}

export function uploadSessionNotFound(): ErrorReply {
  return envelope(404, "NOT_FOUND", "Upload session not found or already finished.");
}

export function uploadOffsetMismatch(expected: number, got: string): ErrorReply {
  return envelope(400, "INVALID_ARGUMENT", `Invalid X-Goog-Upload-Offset ${got}: ${expected} bytes were received so far.`);
}

export function uploadSizeMismatch(declared: number, received: number): ErrorReply {
  return envelope(400, "INVALID_ARGUMENT", `Upload finalized with ${received} bytes, but X-Goog-Upload-Header-Content-Length said ${declared}.`);
}

export function alreadyExists(name: string): ErrorReply {
  return envelope(409, "ALREADY_EXISTS", `Resource ${name} already exists.`);
}

export function cacheModelMismatch(requestModel: string, cacheModel: string): ErrorReply {
  return envelope(
    400,
    "INVALID_ARGUMENT",
    `Model used by GenerateContent request (models/${requestModel}) and CachedContent (models/${cacheModel}) has to be the same.`,
  );
}

export function invalidPageToken(): ErrorReply {
  return envelope(400, "INVALID_ARGUMENT", "Invalid page token.");
}

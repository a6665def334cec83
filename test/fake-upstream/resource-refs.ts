// Requests that use a file or a cache (fileData.fileUri, a batch's inputConfig.fileName,
// cachedContent) are refused unless the caller's project owns it, as Google refuses them.
// This is the 403 a rotating proxy provokes when it sends such a request with another key.

import type { ErrorReply } from "./error-bodies.ts";
import { isRecord } from "./json-access.ts";
import { bareModelName } from "./model-name.ts";
import { cacheDenied, cacheModelMismatch, fileDenied } from "./resource-errors.ts";
import type { FakeResources } from "./resources.ts";

/** Both casings, as Google accepts both. */
const FILE_FIELDS = new Set(["fileUri", "file_uri", "fileName", "file_name"]);
const CACHE_FIELDS = new Set(["cachedContent", "cached_content"]);
/** `files/abc` or a Files API URI `https://host/v1beta/files/abc`; other URIs (YouTube, gs://) are not files. */
const FILE_REF = /^(?:[a-z]+:\/\/[^/]+\/(?:v1beta|v1|v1alpha)\/)?files\/([^/?#:]+)$/;
const CACHE_REF = /^cachedContents\/([^/?#:]+)$/;

export interface References {
  files: string[];
  caches: string[];
}

function collect(value: unknown, found: References): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, found);
    return;
  }
  if (!isRecord(value)) return;
  for (const [name, field] of Object.entries(value)) {
    if (typeof field === "string" && FILE_FIELDS.has(name)) {
      const id = FILE_REF.exec(field.split("?")[0] ?? "")?.[1];
      if (id !== undefined) found.files.push(id);
    } else if (typeof field === "string" && CACHE_FIELDS.has(name)) {
      const id = CACHE_REF.exec(field)?.[1];
      if (id !== undefined) found.caches.push(id);
    } else {
      collect(field, found);
    }
  }
}

/** File and cache ids a request body names, anywhere in it. */
export function referencesIn(body: unknown): References {
  const found: References = { files: [], caches: [] };
  collect(body, found);
  return found;
}

/**
 * The error Google gives when the body uses a file or cache the project does not own (or
 * that does not exist), or a cache made for another model; null when all is in order.
 */
export function referenceFault(resources: FakeResources, project: string, model: string | null, body: unknown): ErrorReply | null {
  const { files, caches } = referencesIn(body);
  for (const id of files) {
    if (resources.files.owned(id, project) === undefined) return fileDenied(id);
  }
  for (const id of caches) {
    const cache = resources.caches.owned(id, project);
    if (cache === undefined) return cacheDenied();
    if (model !== null && bareModelName(model) !== cache.model) return cacheModelMismatch(bareModelName(model), cache.model);
  }
  return null;
}

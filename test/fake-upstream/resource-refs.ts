// Requests that use a file or a cache (fileData.fileUri, a batch's inputConfig.fileName,
// cachedContent) are refused unless the caller's project owns it, as Google refuses them.
// This is the 403 a rotating proxy provokes when it sends such a request with another key.

import type { ErrorReply } from "./error-bodies.ts";
import { isRecord } from "./json-access.ts";
import { bareModelName } from "./model-name.ts";
import { cacheDenied, cacheModelMismatch, fileDenied } from "./resource-errors.ts";
import type { FakeResources } from "./resources.ts";

/**
 * Both casings, as Google accepts both; each only inside the object Google reads it from.
 * A Map, not an object literal: a client's field named `toString` must find nothing here.
 */
const FILE_FIELDS = new Map<string, Set<string>>([
  ["fileData", new Set(["fileUri", "file_uri"])],
  ["file_data", new Set(["fileUri", "file_uri"])],
  ["inputConfig", new Set(["fileName", "file_name"])],
  ["input_config", new Set(["fileName", "file_name"])],
]);
const CACHE_FIELDS = new Set(["cachedContent", "cached_content"]);
/** Free-form JSON (a function's arguments or response, a tool's schema): Google reads no references there. */
const OPAQUE_FIELDS = new Set(["functionResponse", "function_response", "functionCall", "function_call", "tools", "generationConfig", "generation_config"]);
/** `files/abc` or a Files API URI `https://host/v1beta/files/abc`; other URIs (YouTube, gs://) are not files. */
const FILE_REF = /^(?:[a-z]+:\/\/[^/]+\/(?:v1beta|v1|v1alpha)\/)?files\/([^/?#:]+)$/;
const CACHE_REF = /^cachedContents\/([^/?#:]+)$/;

export interface References {
  files: string[];
  caches: string[];
}

function collect(value: unknown, found: References, parent: string | null): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, found, parent);
    return;
  }
  if (!isRecord(value)) return;
  const fileFields = parent === null ? undefined : FILE_FIELDS.get(parent);
  for (const [name, field] of Object.entries(value)) {
    if (OPAQUE_FIELDS.has(name)) continue;
    if (typeof field === "string" && fileFields?.has(name)) {
      const id = FILE_REF.exec(field.split("?")[0] ?? "")?.[1];
      if (id !== undefined) found.files.push(id);
    } else if (typeof field === "string" && CACHE_FIELDS.has(name)) {
      const id = CACHE_REF.exec(field)?.[1];
      if (id !== undefined) found.caches.push(id);
    } else {
      collect(field, found, name);
    }
  }
}

/** File and cache ids a request body uses where Google checks them (not in free-form JSON). */
export function referencesIn(body: unknown): References {
  const found: References = { files: [], caches: [] };
  collect(body, found, null);
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

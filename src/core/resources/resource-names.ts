// Files, caches, batches and tuned models live in the Google project of the key that
// created them; these find which of them a request uses, from its path and its body.

/** Collections whose members belong to one project. */
const OWNED_COLLECTIONS = new Set(["files", "cachedContents", "batches", "tunedModels", "operations"]);

/** Collections a client lists; the proxy merges the lists of every key. */
export const LISTABLE_COLLECTIONS = new Set(["files", "cachedContents", "batches"]);

/** A model's long-running operation, `models/veo-…/operations/abc`: its project's, like a batch. */
const MODEL_OPERATION = /^models\/[^/:]+\/operations\/[A-Za-z0-9_-]+$/;

/** `files/abc` for the paths `files/abc` and `files/abc:download`; null for anything else. */
export function pathResource(resource: string): string | null {
  if (MODEL_OPERATION.test(resource)) return resource;
  const [collection, member, ...rest] = resource.split("/");
  if (collection === undefined || member === undefined || rest.length > 0 || !OWNED_COLLECTIONS.has(collection)) {
    return null;
  }
  const id = member.split(":")[0] ?? "";
  return id === "" ? null : `${collection}/${id}`;
}

// The JSON fields through which a request uses another resource: fileData.fileUri (a
// file's uri or name) in contents, system instructions and tools; a batch's
// inputConfig.fileName; a generate request's cachedContent. Both casings are accepted by Google.
const REFERENCE = /"(?:fileUri|file_uri|fileName|file_name|cachedContent|cached_content)"\s*:\s*"([^"\\]{1,1000})"/g;
const NAME = /(?:^|\/)(files|cachedContents)\/([A-Za-z0-9_-]+)$/;

/** Distinct resource names a JSON request body refers to, without parsing the (maybe huge) JSON. */
export function bodyResources(body: ArrayBuffer | null): string[] {
  if (body === null || body.byteLength === 0) return [];
  const text = new TextDecoder().decode(body);
  const names = new Set<string>();
  for (const [, value] of text.matchAll(REFERENCE)) {
    const match = value?.split("?")[0]?.match(NAME);
    if (match) names.add(`${match[1]}/${match[2]}`);
  }
  return [...names];
}

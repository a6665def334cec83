import { indexOfBytes, marker } from "../bytes";
import { field } from "../json-field";
import { hasKey } from "../json-members";
import { withoutInlineData } from "./inline-data";

// Files, caches, batches and tuned models live in the Google project of the key that
// created them; these find which of them a request uses, from its path and its body.

/** Collections whose members belong to one project. */
const OWNED_COLLECTIONS = new Set(["files", "cachedContents", "batches", "tunedModels", "operations"]);

/** Collections a client lists; the proxy merges the lists of every key. */
export const LISTABLE_COLLECTIONS = new Set(["files", "cachedContents", "batches"]);

/** A model's long-running operation, `models/veo-…/operations/abc`: its project's, like a batch. */
const MODEL_OPERATION = /^models\/[^/:]+\/operations\/[A-Za-z0-9_-]+$/;

/**
 * Most resources one request may name. Every name costs a lookup in the key manager and,
 * after a success, a stored row; real requests use a handful.
 */
export const MAX_REQUEST_RESOURCES = 32;

/** The request names more resources than MAX_REQUEST_RESOURCES. */
export class TooManyResources extends Error {}

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

// Only references Google checks against the caller's project count: a part's
// fileData.fileUri, a request's cachedContent, a batch's inputConfig.fileName. The same
// word anywhere else (a function's response, a tool's schema) is the client's free text,
// and must neither pin the request nor become a stored owner. Both casings are Google's.
const REFERENCE_FIELDS = ["fileUri", "file_uri", "fileName", "file_name", "cachedContent", "cached_content"];
const REFERENCE_STEMS = ['"file', '"cached'];
const NAME = /(?:^|\/)(files|cachedContents)\/([A-Za-z0-9_-]{1,128})$/;

function either(value: unknown, camel: string, snake: string): unknown {
  return field(value, camel) ?? field(value, snake);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Collects distinct names, refusing the request once it names too many. */
class Names {
  readonly found = new Set<string>();

  add(reference: unknown): void {
    if (typeof reference !== "string" || reference.length > 1000) return;
    const match = reference.split("?")[0]?.match(NAME);
    if (!match) return;
    this.found.add(`${match[1]}/${match[2]}`);
    if (this.found.size > MAX_REQUEST_RESOURCES) {
      throw new TooManyResources(`The request refers to more than ${MAX_REQUEST_RESOURCES} files and caches; split it.`);
    }
  }

  content(content: unknown): void {
    for (const part of list(field(content, "parts"))) this.add(either(either(part, "fileData", "file_data"), "fileUri", "file_uri"));
  }

  /** A generate, countTokens, embed or cache-creation request, or one inside a batch. */
  request(request: unknown): void {
    for (const content of list(field(request, "contents"))) this.content(content);
    this.content(either(request, "systemInstruction", "system_instruction"));
    this.content(field(request, "content"));
    this.add(either(request, "cachedContent", "cached_content"));
    const nested = either(request, "generateContentRequest", "generate_content_request");
    if (nested !== undefined) this.request(nested);
    // batchEmbedContents: requests[]; an inline batch: inputConfig.requests.requests[].request.
    for (const item of list(field(request, "requests"))) this.request(field(item, "request") ?? item);
  }

  batch(batch: unknown): void {
    const input = either(batch, "inputConfig", "input_config");
    this.add(either(input, "fileName", "file_name"));
    for (const item of list(field(field(input, "requests"), "requests"))) this.request(field(item, "request"));
  }
}

/**
 * Whether a body may name a file or cache where Google checks it: a reference field
 * appears as a key. Most bodies have none. Decided by native byte search (a quote inside
 * a JSON string is escaped, so `"fileUri"` followed by a colon is a key), so a body with
 * a large inline image and no reference is never decoded or parsed.
 */
export function mayNameResources(bytes: Uint8Array): boolean {
  // Every reference field starts with one of two stems: a body with neither, nearly every
  // body, is settled by two searches instead of one per field.
  if (!REFERENCE_STEMS.some((stem) => indexOfBytes(bytes, marker(stem)) >= 0)) return false;
  return REFERENCE_FIELDS.some((name) => hasKey(bytes, name));
}

/** The parsed body, only when it may name resources at all. */
function parsedWithReferences(body: Uint8Array | null): unknown {
  if (body === null || body.byteLength === 0 || !mayNameResources(body)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(withoutInlineData(body)));
  } catch {
    return undefined;
  }
}

/** Distinct files and caches a native JSON request body uses where Google validates them. */
export function bodyResources(body: Uint8Array | null): string[] {
  const parsed = parsedWithReferences(body);
  if (parsed === undefined) return [];
  const names = new Names();
  names.request(parsed);
  names.batch(field(parsed, "batch"));
  return [...names.found];
}

/** The cache an OpenAI-style chat uses, the compat way: `extra_body.google.cached_content`. */
export function openAIChatResources(body: Uint8Array | null): string[] {
  const parsed = parsedWithReferences(body);
  if (parsed === undefined) return [];
  const names = new Names();
  const google = field(field(parsed, "extra_body"), "google") ?? field(parsed, "google");
  names.add(either(google, "cachedContent", "cached_content"));
  return [...names.found];
}

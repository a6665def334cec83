import type { OpenAIRoute } from "./route";

// Google's OpenAI-compatible Batch API uses the batch's resource name (`batches/abc`) as
// the OpenAI `id`, so the id itself holds a slash. The openai SDK for JavaScript puts it
// into the path percent-encoded (`/batches/batches%2Fabc`), the Python SDK as it is
// (`/batches/batches/abc`, the form Google's own example produces), and a client may
// strip the prefix (`/batches/abc`). All three name one batch here.

/** Batch ids as Google issues them: no dots, colons, slashes or escapes, so nothing can leave the path. */
const BATCH_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The only percent-encoded slashes the proxy accepts, under an OpenAI prefix: between
 * `batches/batches` and a batch id, and between `models/models` and a model id (Google's
 * OpenAI model list names models `models/gemini-…`, which the JavaScript SDK encodes
 * the same way in `models.retrieve`). Anything else with `%2f` is still a path trick.
 */
const ENCODED_NAMES = [
  /^(\/(?:v1\/|v1beta\/openai\/)?batches\/batches)%2[fF]([A-Za-z0-9_-]{1,200}(?:\/cancel)?)$/,
  /^(\/(?:v1\/|v1beta\/openai\/)?models\/models)%2[fF]([A-Za-z0-9_.-]{1,200})$/,
];

/** The path with an SDK-encoded batch or model name decoded; every other path comes back unchanged. */
export function decodeSdkName(pathname: string): string {
  for (const pattern of ENCODED_NAMES) {
    const match = pattern.exec(pathname);
    if (match !== null) return `${match[1]}/${match[2]}`;
  }
  return pathname;
}

/**
 * `batches`, `batches/{id}` and `batches/{id}/cancel` after an OpenAI prefix, with `{id}`
 * as `batches/abc` or `abc`. The upstream path is rebuilt from the validated id, in the
 * unencoded form Google's documented (Python) flow sends.
 */
export function recognizeOpenAIBatch(rest: readonly string[]): OpenAIRoute | null {
  if (rest[0] !== "batches") return null;
  if (rest.length === 1) return { style: "openai", endpoint: "batches", modelInBody: false, model: null };
  const named = rest[1] === "batches" && rest.length >= 3;
  const id = named ? rest[2] : rest[1];
  const tail = rest.slice(named ? 3 : 2);
  if (id === undefined || !BATCH_ID.test(id)) return null;
  if (tail.length > 1 || (tail.length === 1 && tail[0] !== "cancel")) return null;
  const name = `batches/${id}`;
  const member = named ? `batches/${name}` : name;
  return {
    style: "openai",
    endpoint: tail.length === 1 ? `${member}/cancel` : member,
    modelInBody: false,
    model: null,
    resource: name,
  };
}

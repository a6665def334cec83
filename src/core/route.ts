import type { ApiStyle } from "./api-style";
import type { CredentialSource } from "./client-auth";
import { parseModelId } from "./model-name";
import { decodeSdkName, recognizeOpenAIBatch } from "./openai-sdk-paths";
import { OPENAI_FILES_UNSUPPORTED } from "./resources/openai-unsupported";

// Recognises what a request asks for from its path alone, and rebuilds the upstream
// path from the recognised, validated parts: nothing the client wrote is ever copied
// into the upstream path verbatim, so it cannot escape the API prefix.

export const API_VERSIONS = new Set(["v1beta", "v1", "v1alpha"]);

export const MODEL_ACTIONS = new Set([
  "generateContent",
  "streamGenerateContent",
  "countTokens",
  "embedContent",
  "batchEmbedContents",
  "batchGenerateContent",
  "asyncBatchEmbedContent",
  "predict",
  "predictLongRunning",
  "generateAnswer",
  "countTextTokens",
  "generateText",
  "embedText",
]);

/** Native resources that are not a model action; they are forwarded as they are. */
const NATIVE_RESOURCES = new Set(["files", "cachedContents", "batches", "tunedModels", "operations", "generatedFiles"]);

const OPENAI_ENDPOINTS_WITH_MODEL_IN_BODY = new Set(["chat/completions", "embeddings", "images/generations"]);

const RESOURCE_SEGMENT = /^[A-Za-z0-9._-]+(:[A-Za-z]+)?$/;
const OPERATION_ID = /^[A-Za-z0-9_-]{1,200}$/;

export interface NativeRoute {
  style: "gemini";
  /** API version to use upstream; null means the default version of GEMINI_UPSTREAM_URL. */
  version: string | null;
  /** The path after the version, rebuilt from validated segments: `models/x:generateContent`. */
  resource: string;
  /** True for `/upload/{v}/files`. */
  upload: boolean;
  model: string | null;
  action: string | null;
}

export interface OpenAIRoute {
  style: "openai";
  /** The path after the OpenAI base: `chat/completions`, `models/gemini-2.5-flash`, ... */
  endpoint: string;
  /** The model is named in the JSON body and must be read from there. */
  modelInBody: boolean;
  model: string | null;
  /** The batch a `batches/{id}` path names (`batches/abc`), which pins the request to its owner's key. */
  resource?: string;
}

export interface RouteError {
  style: ApiStyle;
  status: 400 | 404;
  message: string;
}

export type Route = NativeRoute | OpenAIRoute;

export type Recognition = { route: Route } | { error: RouteError };

// Percent-encoded dots, slashes, backslashes and NULs only ever serve to smuggle a
// path past a prefix check; Google's API never needs them.
const PATH_TRICKS = /%2e|%2f|%5c|%00|\\|\/\/|(^|\/)\.\.?(\/|$)/i;

function styleGuess(segments: string[], credential: CredentialSource | null): ApiStyle {
  return segments.includes("openai") || credential === "bearer" ? "openai" : "gemini";
}

function recognizeOpenAI(rest: string[]): Route | null {
  const batch = recognizeOpenAIBatch(rest);
  if (batch !== null) return batch;
  const endpoint = rest.join("/");
  if (OPENAI_ENDPOINTS_WITH_MODEL_IN_BODY.has(endpoint)) {
    return { style: "openai", endpoint, modelInBody: true, model: null };
  }
  if (endpoint === "models") return { style: "openai", endpoint, modelInBody: false, model: null };
  // `models/{id}`, or `models/models/{id}` with an id as the model list spells it.
  const modelId = rest[0] === "models" && rest.length === 3 && rest[1] === "models" ? rest[2] : rest.length === 2 ? rest[1] : undefined;
  if (rest[0] === "models" && modelId !== undefined) {
    const model = parseModelId(modelId);
    if (model === null) return null;
    return { style: "openai", endpoint: `models/${model}`, modelInBody: false, model: null };
  }
  return null;
}

function recognizeNative(version: string | null, rest: string[], upload: boolean): Route | RouteError | null {
  const [head, second, ...more] = rest;
  if (head === undefined) return null;
  if (upload) {
    if (head !== "files" || second !== undefined) return null;
    return { style: "gemini", version, resource: "files", upload: true, model: null, action: null };
  }
  if (head === "models") {
    if (second === undefined) return { style: "gemini", version, resource: "models", upload: false, model: null, action: null };
    if (more.length > 0) return modelOperation(version, second, more);
    const colon = second.lastIndexOf(":");
    const rawModel = colon === -1 ? second : second.slice(0, colon);
    const action = colon === -1 ? null : second.slice(colon + 1);
    const model = parseModelId(rawModel);
    if (model === null) {
      return { style: "gemini", status: 400, message: `"${rawModel.slice(0, 100)}" is not a valid model name.` };
    }
    if (action !== null && !MODEL_ACTIONS.has(action)) return null;
    return {
      style: "gemini",
      version,
      resource: action === null ? `models/${model}` : `models/${model}:${action}`,
      upload: false,
      model: action === null ? null : model,
      action,
    };
  }
  if (NATIVE_RESOURCES.has(head) && rest.every((segment) => RESOURCE_SEGMENT.test(segment))) {
    return { style: "gemini", version, resource: rest.join("/"), upload: false, model: null, action: null };
  }
  return null;
}

/** `models/{m}/operations/{id}`: polling a long-running operation (Veo) a model started. */
function modelOperation(version: string | null, rawModel: string, more: string[]): NativeRoute | null {
  const [kind, id, ...extra] = more;
  const model = parseModelId(rawModel);
  if (kind !== "operations" || id === undefined || extra.length > 0 || model === null || !OPERATION_ID.test(id)) return null;
  return { style: "gemini", version, resource: `models/${model}/operations/${id}`, upload: false, model: null, action: null };
}

function isRoute(value: Route | RouteError | null): value is Route {
  return value !== null && !("status" in value);
}

/**
 * Finds the API style and target of a request. `/v1/models` and `/models` exist in both
 * styles; the credential decides (Bearer means an OpenAI client, as the openai SDK only
 * sends that), and native wins when there is none.
 */
export function recognizeRoute(rawPathname: string, credential: CredentialSource | null): Recognition {
  // The only encoded slash allowed is an SDK's in a batch or model id; the trick check runs after it.
  const pathname = decodeSdkName(rawPathname);
  const segments = pathname.split("/").filter((segment, index) => index > 0 || segment !== "");
  if (PATH_TRICKS.test(pathname)) {
    // A double slash is most often a base URL entered with a trailing slash; say so.
    const hint = pathname.includes("//") ? " It contains '//': remove the trailing slash from the base URL your client uses." : "";
    return { error: { style: styleGuess(segments, credential), status: 400, message: `Invalid request path.${hint}` } };
  }
  const [first, second, ...rest] = segments;
  const notFound: RouteError = {
    style: styleGuess(segments, credential),
    status: 404,
    message: `No API route matches ${pathname.slice(0, 200)}. Use /v1beta/models/{model}:generateContent (Gemini) or /v1/chat/completions (OpenAI style).`,
  };
  const found = (candidate: Route | RouteError | null): Recognition | null => {
    if (candidate === null) return null;
    return isRoute(candidate) ? { route: candidate } : { error: candidate };
  };

  if (first === undefined) return { error: notFound };
  if (first === "v1beta" && second === "openai") {
    const filesError: RouteError = { style: "openai", status: 404, message: OPENAI_FILES_UNSUPPORTED };
    return found(recognizeOpenAI(rest)) ?? { error: rest[0] === "files" ? filesError : notFound };
  }
  if (first === "upload" && second !== undefined && API_VERSIONS.has(second)) {
    return found(recognizeNative(second, rest, true)) ?? { error: notFound };
  }

  const preferOpenAI = credential === "bearer";
  if (API_VERSIONS.has(first)) {
    const afterVersion = second === undefined ? [] : [second, ...rest];
    const openai = first === "v1" ? recognizeOpenAI(afterVersion) : null;
    const native = recognizeNative(first, afterVersion, false);
    const ambiguous = openai !== null && native !== null;
    if (openai !== null && (!ambiguous || preferOpenAI)) return { route: openai };
    return found(native) ?? { error: notFound };
  }

  // No version prefix: an OpenAI client whose base URL is the bare host, or a native
  // client that left the version out (the default version applies).
  const openai = recognizeOpenAI(segments);
  const native = recognizeNative(null, segments, false);
  if (openai !== null && (native === null || preferOpenAI)) return { route: openai };
  return found(native) ?? { error: notFound };
}

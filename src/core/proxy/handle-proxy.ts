import type { ApiStyle } from "../api-style";
import { isAcceptedToken, readClientCredential } from "../client-auth";
import { errorResponse } from "../error-response";
import { stringMembers, topLevelString } from "../json-members";
import { parseModelId } from "../model-name";
import { handleLive, matchLivePath } from "../live/live-session";
import { withoutInlineData } from "../resources/inline-data";
import { mergedList } from "../resources/merged-list";
import { createsBatch, openAIResources } from "../resources/openai-batch-resources";
import { unsupportedOpenAIRequest } from "../resources/openai-unsupported";
import { bodyResources, LISTABLE_COLLECTIONS, mayNameResources, openAIChatResources, pathResource, TooManyResources } from "../resources/resource-names";
import { isSignedUploadChunk, sessionChunkHeaders, uploadOwner } from "../resources/upload-session";
import { resolveKey } from "../ring-refresh";
import { recognizeRoute, type NativeRoute, type OpenAIRoute, type Route } from "../route";
import type { ProxyServices } from "../services";
import { forward } from "./forward";
import { KeyManagerUnavailable, keyManagerUnavailableResponse } from "./guarded-pool";
import { BodyTooLarge } from "./read-body";
import { ReplayableBody } from "./replayable-body";
import { takeRequestBody } from "./request-body";
import { LongerThanDeclared, standardStreams } from "./stream-runtime";

type ModelLookup = { model: string | null } | { error: Response };

/** `"model"` keys looked at before settling for a full parse. */
const MAX_MODEL_KEYS = 16;

/**
 * OpenAI-style requests name their model in the JSON body; native ones in the path. The
 * body's `"model"` is found by byte search, so a request with a large image costs no
 * more than a small one; only when that finds no single answer (no such key, or keys
 * that disagree, e.g. one nested in a tool's schema) is the body parsed.
 */
function modelOf(route: Route, body: Uint8Array | null): ModelLookup {
  if (route.style === "gemini" || !route.modelInBody) return { model: route.model };
  const only = singleModel(body ?? new Uint8Array(0));
  if (only !== null) return checkedModel(only);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(withoutInlineData(body ?? new Uint8Array(0))));
  } catch {
    return { error: errorResponse("openai", 400, "The request body is not valid JSON.", { code: "invalid_json" }) };
  }
  const raw = typeof parsed === "object" && parsed !== null && "model" in parsed ? parsed.model : undefined;
  if (typeof raw !== "string" || raw === "") {
    return { error: errorResponse("openai", 400, "The request body must name a model, e.g. \"gemini-2.5-flash\".", { code: "missing_model" }) };
  }
  return checkedModel(raw);
}

/** The one model the body's `"model"` keys name; null when they name none or disagree. */
function singleModel(body: Uint8Array): string | null {
  const named = new Set(stringMembers(body, "model", MAX_MODEL_KEYS).map((member) => member.value));
  const [only] = named;
  return named.size === 1 && only !== undefined && only !== "" ? only : null;
}

/**
 * Whether the start of a large body settles what the proxy must know before choosing a
 * key: the model of an OpenAI-style request, and that no file or cache is named (names
 * are parsed out of a whole body only). A body it does not settle is read whole.
 */
function startSettles(route: Route, method: string, start: Uint8Array): boolean {
  if (mayNameResources(start)) return false;
  if (route.style === "gemini") return true;
  if (createsBatch(route, method)) return false;
  // The one model named in the start must be the top-level one: a "model" nested in a
  // schema or an example before a large image is not, and the real one may come after.
  return !route.modelInBody || (singleModel(start) !== null && topLevelString(start, "model", MAX_MODEL_KEYS) !== null);
}

function checkedModel(raw: string): ModelLookup {
  const model = parseModelId(raw);
  if (model === null) {
    return { error: errorResponse("openai", 400, `"${raw.slice(0, 100)}" is not a valid model name.`, { code: "invalid_model" }) };
  }
  return { model };
}

/** Resources named in the path (`files/abc`) and in the body (file URIs, cachedContent). */
function resourcesOf(route: NativeRoute, body: Uint8Array | null): string[] {
  const named = pathResource(route.resource);
  const used = bodyResources(body);
  return named === null || used.includes(named) ? used : [named, ...used];
}

function unexpected(style: ApiStyle, error: unknown, services: ProxyServices): Response {
  // Authenticated callers get the details: they run this proxy and debug it. Keys are masked.
  const detail = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
  return errorResponse(style, 500, services.keyRing.redact(`Unexpected proxy error: ${detail}`), {
    code: "proxy_error",
  });
}

/**
 * What an OpenAI-style request uses: a batch or its input file, or in a chat a cache
 * named the compat way (`extra_body.google.cached_content`), found as in native bodies.
 */
function openAIResourcesOf(route: OpenAIRoute, method: string, body: Uint8Array | null): string[] {
  return route.endpoint === "chat/completions" ? openAIChatResources(body) : openAIResources(route, method, body);
}

/** Everything that is an API call: authenticate, recognise, forward with a pool key. */
export async function handleProxy(request: Request, services: ProxyServices): Promise<Response> {
  const url = new URL(request.url);
  const live = matchLivePath(url.pathname);
  if (live !== null && services.live && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    return handleLive(request, url, live, services, services.live);
  }
  const credential = readClientCredential(request.headers, url);
  const recognition = recognizeRoute(url.pathname, credential?.source ?? null);
  const style = "route" in recognition ? recognition.route.style : recognition.error.style;

  const tokens = services.config.proxyTokens;
  // Without a token, only a chunk for an upload session URL the proxy signed may pass.
  const sessionUrlOnly =
    tokens.length > 0 &&
    credential === null &&
    (await isSignedUploadChunk(request.method, url, request.headers, (id) => resolveKey(services, id), Date.now()));
  const authorized =
    tokens.length === 0 || sessionUrlOnly || (credential !== null && isAcceptedToken(credential.token, tokens));
  if (!authorized) {
    const message =
      credential === null
        ? "Missing proxy API key: send it as Authorization: Bearer, x-goog-api-key or ?key=."
        : "Invalid proxy API key: use the PROXY_API_KEY of this proxy, not a Gemini API key.";
    return errorResponse(style, 401, message, { code: "invalid_api_key" });
  }
  if ("error" in recognition) {
    return errorResponse(style, recognition.error.status, recognition.error.message);
  }

  try {
    const { route } = recognition;
    const unsupported = unsupportedOpenAIRequest(route, request.method, request.headers, credential?.source ?? null);
    if (unsupported !== null) return unsupported;
    if (route.style === "gemini" && request.method === "GET" && LISTABLE_COLLECTIONS.has(route.resource)) {
      return await mergedList(route, url, request.headers, services);
    }
    const owner = route.style === "gemini" && route.upload ? uploadOwner(url) : undefined;
    // Upload chunks go to the session's one key and are never replayed: stream them through.
    const streamed = owner !== undefined;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const body = hasBody && !streamed ? await takeRequestBody(request, services.config.maxBodyBytes, services.streams ?? standardStreams) : null;
    let searched = body instanceof ReplayableBody ? body.start : body === null ? null : new Uint8Array(body);
    if (body instanceof ReplayableBody && !startSettles(route, request.method, body.start)) searched = await body.whole();
    const lookup = modelOf(route, searched);
    if ("error" in lookup) return lookup.error;
    const namedIn = (bytes: Uint8Array | null): string[] =>
      route.style === "gemini" ? resourcesOf(route, bytes) : openAIResourcesOf(route, request.method, bytes);
    const resources = namedIn(searched);
    return await forward(
      {
        method: request.method,
        url,
        headers: sessionUrlOnly ? sessionChunkHeaders(request.headers) : request.headers,
        body: streamed ? request.body : body,
        signal: request.signal,
        route,
        model: lookup.model,
        resources,
        ...(owner !== undefined && { owner }),
        ...(sessionUrlOnly && { sessionUrlOnly }),
        // Only the start was searched: names after it are looked for if a key refuses the request.
        ...(body instanceof ReplayableBody && !body.complete && { resourcesInRest: async () => namedIn(await body.whole()) }),
      },
      services,
    );
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return errorResponse(style, 413, `The request body is larger than this proxy's limit of ${services.config.maxBodyBytes} bytes (MAX_BODY_BYTES).`, {
        code: "request_too_large",
      });
    }
    if (error instanceof LongerThanDeclared) {
      return errorResponse(style, 400, "The request body is longer than its Content-Length header says.", { code: "invalid_content_length" });
    }
    if (error instanceof TooManyResources) return errorResponse(style, 400, error.message, { code: "too_many_resources" });
    if (error instanceof KeyManagerUnavailable) return keyManagerUnavailableResponse(style, error.message);
    return unexpected(style, error, services);
  }
}

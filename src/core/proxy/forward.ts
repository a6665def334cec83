import type { AttemptFailure, Lease } from "../key-pool";
import type { Route } from "../route";
import type { ProxyServices } from "../services";
import { classifyUpstream } from "../upstream-outcome";
import { errorResponse } from "../error-response";
import type { TokenUsage } from "../usage-scanner";
import { meteredBody } from "./metered-body";
import { noKeyResponse } from "./no-key-response";
import { clientHeaders, upstreamHeaders, upstreamUrl } from "./upstream-request";

/** 5xx and network failures are worth a few other keys, not the whole pool. */
const MAX_TRANSIENT_FAILURES = 3;

export interface ForwardRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** Read once so every attempt can replay it; null for bodiless methods. */
  body: ArrayBuffer | null;
  signal: AbortSignal | undefined;
  route: Route;
  /** The model the pool tracks quota for; null when the request is not about one. */
  model: string | null;
}

/** A response whose body, if any, has been redacted; used when an error goes back as it came. */
function redactedResponse(status: number, headers: Headers, body: string, services: ProxyServices): Response {
  return new Response(services.keyRing.redact(body), { status, headers: clientHeaders(headers) });
}

/** Streams a successful body through and counts it, with its tokens, once it has ended. */
function metered(body: ReadableStream<Uint8Array>, keyId: string, model: string, services: ProxyServices) {
  let ended: (usage: TokenUsage | null) => void = () => undefined;
  // Registered now, while the request is surely alive; settled when the body ends.
  services.waitUntil(
    new Promise<TokenUsage | null>((resolve) => (ended = resolve)).then((usage) =>
      services.pool.recordUsage({
        keyId,
        model,
        promptTokens: usage?.promptTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
      }),
    ),
  );
  return meteredBody(body, (usage) => ended(usage));
}

/**
 * Sends a request upstream with the least recently used key that can serve its model,
 * moving on to another key on quota, key and transient faults, until one answers or no
 * key is left. The client sees either the upstream's answer or one error of ours.
 */
export async function forward(request: ForwardRequest, services: ProxyServices): Promise<Response> {
  const { route, model } = request;
  const started = Date.now();
  const tried: string[] = [];
  let failure: AttemptFailure | undefined;
  let lastTransient: Response | undefined;
  let transientFailures = 0;

  const finish = (response: Response): Response => {
    services.log({
      method: request.method,
      route: route.style === "openai" ? route.endpoint : route.resource,
      style: route.style,
      model,
      keys: tried.map((id) => `#${services.keyRing.byId(id)?.position ?? "?"}`),
      status: response.status,
      attempts: tried.length,
      ms: Date.now() - started,
    });
    return response;
  };

  for (;;) {
    const lease: Lease = await services.pool.acquire({ model, exclude: tried, ...(failure && { failure }) });
    failure = undefined;
    if (lease.keyId === null) return finish(lastTransient ?? noKeyResponse(route.style, model, lease, Date.now()));
    tried.push(lease.keyId);
    const key = services.keyRing.byId(lease.keyId);
    // The pool and this process disagree on API_KEYS only during a deploy; skip the stranger.
    if (key === undefined) continue;

    let upstream: Response;
    try {
      upstream = await fetch(upstreamUrl(route, services.config, request.url), {
        method: request.method,
        headers: upstreamHeaders(route, request.headers, key.secret),
        body: request.body,
        redirect: "manual",
        ...(request.signal && { signal: request.signal }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      const message = services.keyRing.redact(error instanceof Error ? error.message : String(error));
      lastTransient = errorResponse(route.style, 502, `Could not reach the Gemini API: ${message}`, {
        code: "upstream_unreachable",
      });
      if (++transientFailures >= MAX_TRANSIENT_FAILURES) return finish(lastTransient);
      continue;
    }

    if (upstream.ok) {
      const body = upstream.body === null || model === null ? upstream.body : metered(upstream.body, key.id, model, services);
      return finish(new Response(body, { status: upstream.status, headers: clientHeaders(upstream.headers) }));
    }

    const text = await upstream.text();
    const outcome = classifyUpstream(upstream.status, text);
    if (outcome.kind === "client-error") return finish(redactedResponse(upstream.status, upstream.headers, text, services));
    if (outcome.kind === "transient") {
      lastTransient = redactedResponse(upstream.status, upstream.headers, text, services);
      if (++transientFailures >= MAX_TRANSIENT_FAILURES) return finish(lastTransient);
      continue;
    }
    lastTransient = undefined;
    failure = { keyId: key.id, model, fault: { ...outcome, reason: services.keyRing.redact(outcome.reason) } };
  }
}

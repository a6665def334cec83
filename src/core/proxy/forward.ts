import { errorResponse } from "../error-response";
import type { AcquireRequest, AttemptFailure, Lease } from "../key-pool";
import type { Route } from "../route";
import type { ProxyServices } from "../services";
import { claimOpenAIResources } from "../resources/claim-openai-resources";
import { claimResources } from "../resources/claim-resources";
import { createsResource } from "../resources/created-resources";
import { createsBatch } from "../resources/openai-batch-resources";
import { resolveKey } from "../ring-refresh";
import type { EventInput } from "../admin-model";
import { classifyUpstream, googleMessage, isForeignResource } from "../upstream-outcome";
import { answered } from "./answer";
import { Deadline } from "./deadline";
import { KeyManagerUnavailable, keyManagerUnavailableResponse } from "./guarded-pool";
import { outgoingBody } from "./outgoing-body";
import { ReplayableBody } from "./replayable-body";
import { noKeyResponse, ownerQuotaResponse, subrequestLimitResponse } from "./no-key-response";
import { standardStreams } from "./stream-runtime";
import { clientHeaders, upstreamHeaders, upstreamUrl } from "./upstream-request";

/** 5xx, timeouts and network failures are worth a few other keys, not the whole pool. */
const MAX_TRANSIENT_FAILURES = 3;
/** Keys asked whether they can see a resource nobody recorded an owner for. */
const MAX_OWNER_SEARCH = 10;
/**
 * Subrequests an attempt must leave for what follows it: the key manager call that
 * reports its verdict (or the ownership record after a success), and either the usage
 * report or, when no key is left, the fresh view asked for before the client is told so
 * (with a view past REFRESH_AFTER_MS, a background refresh may come before it too).
 */
const ATTEMPT_RESERVE = 3;
/**
 * The Fetch standard's word for a request body that is a stream (an upload's chunks):
 * sent while it is read, the answer not awaited first. Node's fetch refuses a stream body
 * without it; Workers' fetch accepts it (their types do not list it yet).
 */
const STREAMED_BODY = { duplex: "half" } as const;

export interface ForwardRequest {
  method: string;
  url: URL;
  headers: Headers;
  /**
   * Read once so every attempt can replay it, or kept replayable without being read (a
   * large body); a stream only where no retry can happen.
   */
  body: ArrayBuffer | ReplayableBody | ReadableStream<Uint8Array> | null;
  signal: AbortSignal | undefined;
  route: Route;
  /** The model the pool tracks quota for; null when the request is not about one. */
  model: string | null;
  /** Files, caches and batches the request uses: they pin it to their owner's key. */
  resources: string[];
  /** The key an upload session belongs to. */
  owner?: string;
  /** Admitted by a signed session URL alone, without a proxy token: nothing it gets back is signed anew. */
  sessionUrlOnly?: true;
  /**
   * For a body searched only at its start: the resources named anywhere in it (read
   * whole). Asked once, when a key refuses the request as if a resource were foreign.
   */
  resourcesInRest?: () => Promise<string[]>;
}

class Timeout extends Error {}

/** Rejects with Timeout when `promise` has not settled `ms` after `from` (the request sent) settled. */
function within<T>(promise: Promise<T>, ms: number, from: Promise<void>, deadline: Deadline, onTimeout?: () => void): Promise<T> {
  let settled = false;
  const timeout = new Promise<never>((_, reject) => {
    void from.then(() => {
      if (settled) return;
      deadline.set(ms, () => {
        onTimeout?.();
        reject(new Timeout());
      });
    });
  });
  return Promise.race([promise, timeout]).finally(() => {
    settled = true;
    deadline.pause();
  });
}

/**
 * The upstream's answer, or null when `confirmed` said no before it came: the fresh view
 * that arrived meanwhile says the attempt's key can no longer serve the request. The
 * caller then aborts the attempt; the failure that follows is expected and dropped here.
 * An answer that came first stands, whatever the check says later.
 */
async function unlessWithdrawn(sending: Promise<Response>, confirmed: Promise<boolean>): Promise<Response | null> {
  const answer = await Promise.race([sending, confirmed.then((usable) => (usable ? sending : null))]);
  if (answer === null) sending.catch(() => undefined);
  return answer;
}

/**
 * Whether Google creates something as soon as it gets the request (a cache, a batch, a long
 * operation, an upload session): an attempt abandoned after it was sent would leave that in
 * the abandoned key's project and create it again with the next key.
 */
function creates(route: Route, method: string): boolean {
  return route.style === "gemini" ? createsResource(route, method) : createsBatch(route, method);
}

/** The upstream request's headers, with the declared length of a streamed upload. */
function attemptHeaders(route: Route, request: ForwardRequest, secret: string, length: number | undefined): Headers {
  const headers = upstreamHeaders(route, request.headers, secret);
  if (length !== undefined) headers.set("content-length", String(length));
  return headers;
}

/** A response whose body, if any, has been redacted; used when an error goes back as it came. */
function redactedResponse(status: number, headers: Headers, body: string, services: ProxyServices): Response {
  return new Response(services.keyRing.redact(body), { status, headers: clientHeaders(headers, services.keyRing.redact) });
}

/**
 * Aborts `attempt` when the client's signal aborts. Its own function, so the listener holds
 * the signal and the controller and nothing else of the request: a runtime may keep a
 * signal's listeners past the request (Node's Request does, until a finalizer runs), and a
 * listener made inside forward() would keep the whole request and its body with it.
 */
function follow(client: AbortSignal, attempt: AbortController): void {
  if (client.aborted) attempt.abort(client.reason);
  else client.addEventListener("abort", () => attempt.abort(client.reason), { once: true });
}

/**
 * Sends a request upstream with the least recently used key that can serve its model,
 * moving on to another key on quota, key and transient faults, until one answers or no
 * key is left. The client sees either the upstream's answer or one error of ours.
 */
export async function forward(request: ForwardRequest, services: ProxyServices): Promise<Response> {
  const { route, model } = request;
  const { style } = route;
  const started = Date.now();
  const tried: string[] = [];
  /** Keys not to hand out again: every key tried, except an owner that may retry a replayable body. */
  const exclude: string[] = [];
  let failure: AttemptFailure | undefined;
  /** The key of an attempt abandoned unanswered because its lease was withdrawn. */
  let withdrawn: string | undefined;
  /** The upstream's own answer to give if no key can do better (a 5xx, a foreign-resource 403). */
  let fallback: Response | undefined;
  let transientFailures = 0;
  let ownerSearches = 0;
  /** Set once a key pinned by an inferred owner refused the resource: search instead. */
  let searchInferred = false;
  let { resources } = request;
  let resourcesInRest = request.resourcesInRest;
  // Every wait of every attempt: the answer's headers, then a small answer's body.
  const deadline = new Deadline(services.config.streamIdleTimeoutMs);

  const finish = (response: Response): Response => {
    deadline.clear();
    if (request.body instanceof ReplayableBody) request.body.release();
    services.log({
      method: request.method,
      route: route.style === "openai" ? route.endpoint : route.resource,
      style,
      model,
      keys: tried.map((id) => `#${services.keyRing.byId(id)?.position ?? "?"}`),
      status: response.status,
      attempts: tried.length,
      subrequests: services.budget.used,
      ms: Date.now() - started,
    });
    return response;
  };
  // 5xx and timeouts mark nothing, but belong in the key's history; recorded off the critical path.
  const incident = (event: EventInput): void =>
    services.waitUntil(services.pool.recordEvents([event]).catch(() => undefined));
  const transient = (response: Response): Response | undefined => {
    fallback = response;
    return ++transientFailures >= MAX_TRANSIENT_FAILURES ? finish(response) : undefined;
  };

  for (;;) {
    const acquire: AcquireRequest = {
      model,
      exclude,
      ...(failure && { failure }),
      ...(withdrawn !== undefined && { withdrawn }),
      ...(resources.length > 0 && { resources }),
      ...(request.owner !== undefined && { owner: request.owner }),
      ...(searchInferred && { searchInferred }),
    };
    let lease: Lease;
    try {
      // The pool is guarded (guarded-pool.ts): it fails with a safe message rather than hang.
      lease = await services.pool.acquire(acquire);
    } catch (error) {
      const detail = error instanceof KeyManagerUnavailable ? error.message : services.keyRing.redact(String(error));
      return finish(keyManagerUnavailableResponse(style, detail));
    }
    failure = undefined;
    withdrawn = undefined;
    if (lease.keyId === null) {
      return finish(fallback ?? noKeyResponse(style, model, resources, lease, Date.now()));
    }
    tried.push(lease.keyId);
    // A request pinned to its resources' owner has no other key to try: a 5xx or timeout is
    // worth another go with the same one, unless its body was streamed and cannot be replayed.
    if (!lease.pinned || request.body instanceof ReadableStream) exclude.push(lease.keyId);
    // A key added at runtime since this process last looked is fetched; one still unknown
    // (the pool and this process disagree on API_KEYS only during a deploy) is skipped.
    const key = await resolveKey(services, lease.keyId);
    if (key === undefined) {
      services.pool.uncounted(lease.keyId, model);
      continue;
    }
    // A streamed body cannot be sent again, so its one attempt goes on whatever the check
    // says; a creation waits for the check before it is sent (creates() says why); any other
    // attempt is sent at once and raced against the check.
    let check = request.body instanceof ReadableStream ? undefined : lease.confirmed;
    if (check !== undefined && creates(route, request.method)) {
      if (!(await check)) {
        // Nothing was sent: nothing to record.
        withdrawn = key.id;
        continue;
      }
      check = undefined;
    }
    if (!services.budget.take(1, ATTEMPT_RESERVE)) {
      return finish(fallback ?? subrequestLimitResponse(style, tried.length - 1, services.budget.limit));
    }

    // One controller per attempt: it ends a stalled attempt and, through the client's
    // signal, an attempt whose client has gone away. Its own signal goes to fetch, not
    // AbortSignal.any(...): with a composite signal every chunk of a streamed answer cost
    // measurably more CPU (bench, CPU block).
    const attempt = new AbortController();
    const signal = attempt.signal;
    if (request.signal !== undefined) follow(request.signal, attempt);
    // A retry of a large body reads it whole first: a failure there is the client's upload, not the key's.
    const body = request.body instanceof ReplayableBody ? await request.body.next() : request.body;
    const sentAt = Date.now();
    // A large body's first attempt cannot tell when its upload ended: its wait includes the upload's time.
    const upload = outgoingBody(body, request.body instanceof ReplayableBody, request.headers, services.streams ?? standardStreams);
    const timeoutMs = services.config.firstByteTimeoutMs + upload.uploadMs;
    let upstream: Response;
    try {
      const sending = within(
        fetch(upstreamUrl(route, services.config, request.url), {
          method: request.method,
          headers: attemptHeaders(route, request, key.secret, upload.length),
          body: upload.body,
          redirect: "manual",
          signal,
          ...(upload.body instanceof ReadableStream && STREAMED_BODY),
        }),
        timeoutMs,
        upload.sent,
        deadline,
        () => attempt.abort(),
      );
      // Only a key chosen from an aged view carries a check (local-pool.ts).
      const answer = check === undefined ? await sending : await unlessWithdrawn(sending, check);
      if (answer === null) {
        // Unanswered, so nothing happened to the key: no failure, incident or usage.
        attempt.abort();
        withdrawn = key.id;
        continue;
      }
      upstream = answer;
    } catch (error) {
      // No answer: nothing the manager will count (the client left, or the upstream failed).
      services.pool.uncounted(key.id, model);
      if (request.signal?.aborted) throw error;
      incident(
        error instanceof Timeout
          ? { kind: "timeout", keyId: key.id, ...(model !== null && { model }), message: `No answer within ${timeoutMs} ms.` }
          : {
              kind: "upstream-error",
              keyId: key.id,
              ...(model !== null && { model }),
              message: services.keyRing.redact(error instanceof Error ? error.message : String(error)),
            },
      );
      const message =
        error instanceof Timeout
          ? errorResponse(style, 504, `The Gemini API did not answer within ${timeoutMs} ms.`, {
              code: "upstream_timeout",
            })
          : errorResponse(
              style,
              502,
              `Could not reach the Gemini API: ${services.keyRing.redact(error instanceof Error ? error.message : String(error))}`,
              { code: "upstream_unreachable" },
            );
      const done = transient(message);
      if (done) return done;
      continue;
    }

    if (upstream.ok) {
      const headers = clientHeaders(upstream.headers, services.keyRing.redact);
      const { method, url } = request;
      const claim = { method, resources, pinned: lease.pinned, keyId: key.id, upstream, headers, services };
      const read =
        route.style === "gemini"
          ? await claimResources({ ...claim, route, url, signsUploads: request.sessionUrlOnly !== true })
          : await claimOpenAIResources({ ...claim, route });
      if (read !== null) return finish(read);
      return finish(await answered({ upstream, headers, attempt, deadline, keyId: key.id, route, model, sentAt, services }));
    }

    const text = await upstream.text();
    const outcome = classifyUpstream(upstream.status, text);
    // Refused as the client's mistake or failed: not counted by the manager either. A quota
    // or key fault leaves the send to the failure's report (LocalView.learn).
    if (outcome.kind === "client-error" || outcome.kind === "transient") services.pool.uncounted(key.id, model);
    const answer = redactedResponse(upstream.status, upstream.headers, text, services);
    if (outcome.kind === "client-error") {
      // The body was searched only at its start: a name further on may be why. Read it whole once.
      if (resourcesInRest !== undefined && isForeignResource(upstream.status, text)) {
        const search = resourcesInRest;
        resourcesInRest = undefined;
        const named = await search();
        if (named.some((name) => !resources.includes(name))) {
          resources = [...new Set([...resources, ...named])];
          fallback = answer;
          continue;
        }
      }
      // A resource nobody recorded may belong to another key's project: ask a few more.
      // So may one whose owner was only inferred from an earlier use, if that key refuses it.
      const searchable = !lease.pinned || lease.inferred === true;
      const searchOn = searchable && resources.length > 0 && isForeignResource(upstream.status, text);
      if (searchOn && ++ownerSearches < MAX_OWNER_SEARCH) {
        if (lease.pinned && !exclude.includes(key.id)) exclude.push(key.id);
        searchInferred = true;
        fallback = answer;
        continue;
      }
      return finish(answer);
    }
    if (outcome.kind === "transient") {
      const message = googleMessage(text);
      incident({
        kind: "upstream-error",
        keyId: key.id,
        ...(model !== null && { model }),
        status: upstream.status,
        ...(message !== null && { message: services.keyRing.redact(message) }),
      });
      const done = transient(answer);
      if (done) return done;
      continue;
    }
    fallback = undefined;
    failure = { keyId: key.id, model, status: upstream.status, fault: { ...outcome, reason: services.keyRing.redact(outcome.reason) } };
    // Only the owner may send this, and with no model there is no mark to wait out: the
    // next round would find no key and answer 503. The owner's wait, as a 429, is the truth.
    if (lease.pinned && model === null && outcome.kind !== "key-disabled") {
      return finish(ownerQuotaResponse(style, resources, outcome, Date.now()));
    }
  }
}

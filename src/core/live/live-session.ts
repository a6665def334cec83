import { isAcceptedToken, readClientCredential } from "../client-auth";
import { errorResponse } from "../error-response";
import type { AttemptFailure, Lease } from "../key-pool";
import type { PoolKey } from "../key-ring";
import { parseModelId } from "../model-name";
import { resolveKey } from "../ring-refresh";
import type { ProxyServices } from "../services";
import type { UpstreamOutcome } from "../upstream-outcome";
import { UsageScanner } from "../usage-scanner";
import { asFrame, frameText, sendableCloseCode, sendableReason, type Frame, type LiveRuntime, type LiveSocket } from "./live-socket";

// The Live API (BidiGenerateContent over WebSocket). The client names its model only in
// its first message, so the proxy accepts the client's socket, reads that `setup`, then
// opens the upstream socket with a key that can serve the model. A key Google refuses
// during setup (quota, invalid) is marked and the next one tried before the client's
// session starts; after that, frames are relayed both ways untouched.

const LIVE_PATH = /^\/+ws\/google\.ai\.generativelanguage\.(v1beta|v1alpha|v1)\.GenerativeService\.(BidiGenerateContent(?:Constrained)?)$/;
const MAX_TRANSIENT_FAILURES = 3;

export interface LivePath {
  version: string;
  method: string;
}

export function matchLivePath(pathname: string): LivePath | null {
  const match = pathname.match(LIVE_PATH);
  return match?.[1] && match[2] ? { version: match[1], method: match[2] } : null;
}

type SetupResult = { socket: LiveSocket; first: Frame } | { closed: { code: number; reason: string } };

/** Google refuses a Live key by closing the socket; its close reason carries the usual message. */
function closeOutcome(reason: string): UpstreamOutcome {
  if (/RESOURCE_EXHAUSTED|exceeded your current quota/i.test(reason)) {
    return /per ?day/i.test(reason) ? { kind: "quota-day", reason } : { kind: "quota-unknown", reason };
  }
  if (/API key not valid|API_KEY_INVALID|suspended|denied access/i.test(reason)) return { kind: "key-disabled", reason };
  return { kind: "client-error" };
}

/** The model a `{"setup":{"model":"models/..."}}` message names, if it is a valid one. */
function setupModel(text: string): string | null {
  try {
    const setup = JSON.parse(text) as { setup?: { model?: unknown } };
    return typeof setup.setup?.model === "string" ? parseModelId(setup.setup.model) : null;
  } catch {
    return null;
  }
}

function upstreamLiveUrl(services: ProxyServices, path: LivePath, key: PoolKey): string {
  const base = services.config.geminiBase.replace(/^http/, "ws");
  const query = new URLSearchParams({ key: key.secret });
  return `${base}/ws/google.ai.generativelanguage.${path.version}.GenerativeService.${path.method}?${query}`;
}

/** Opens the upstream socket, sends the setup, and waits for Google's first answer or refusal. */
async function openUpstream(runtime: LiveRuntime, url: string, setup: Frame): Promise<SetupResult> {
  const socket = await runtime.connect(url);
  return new Promise<SetupResult>((resolve) => {
    socket.addEventListener("message", (event) => {
      resolve({ socket, first: asFrame(event.data) });
    });
    socket.addEventListener("close", (event) => resolve({ closed: { code: event.code, reason: event.reason } }));
    socket.addEventListener("error", () => resolve({ closed: { code: 1011, reason: "Upstream connection failed" } }));
    socket.send(setup);
  });
}

async function runSession(client: LiveSocket, path: LivePath, services: ProxyServices, runtime: LiveRuntime): Promise<void> {
  const redact = (text: string) => services.keyRing.redact(text);
  const pending: Frame[] = [];
  let upstream: LiveSocket | null = null;
  let clientGone = false;
  let wake: () => void = () => undefined;
  client.addEventListener("message", (event) => {
    const frame = asFrame(event.data);
    if (upstream !== null) upstream.send(frame);
    else {
      pending.push(frame);
      wake();
    }
  });
  client.addEventListener("close", (event) => {
    clientGone = true;
    wake();
    upstream?.close(sendableCloseCode(event.code), sendableReason(event.reason));
  });

  if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  const setupFrame = pending.shift();
  if (clientGone || setupFrame === undefined) return;
  const model = setupModel(frameText(setupFrame));
  if (model === null) {
    client.close(1007, "The first message must be a setup naming a valid model.");
    return;
  }

  const tried: string[] = [];
  let failure: AttemptFailure | undefined;
  /** A key the check refused before its session was opened. */
  let withdrawn: string | undefined;
  let transientFailures = 0;
  for (;;) {
    if (clientGone) return;
    const lease: Lease = await services.pool.acquire({
      model,
      exclude: tried,
      ...(failure && { failure }),
      ...(withdrawn !== undefined && { withdrawn }),
    });
    failure = undefined;
    withdrawn = undefined;
    if (lease.keyId === null) {
      const reason =
        lease.cause === "exhausted" ? `RESOURCE_EXHAUSTED: all API keys of this proxy are out of quota for ${model}.` : `No API key can serve ${model} right now (${lease.cause}).`;
      client.close(1011, sendableReason(reason));
      return;
    }
    tried.push(lease.keyId);
    // A key chosen from a view past a second old (local-pool.ts) is confirmed before the
    // session opens: a session keeps its key for minutes, so one it was refused (disabled or
    // removed elsewhere, marked, out of quota) must not get it. Only an idle isolate waits.
    if (lease.confirmed !== undefined && !(await lease.confirmed)) {
      withdrawn = lease.keyId;
      continue;
    }
    const key = await resolveKey(services, lease.keyId);
    if (key === undefined) continue;

    let result: SetupResult;
    try {
      result = await openUpstream(runtime, upstreamLiveUrl(services, path, key), setupFrame);
    } catch {
      if (++transientFailures >= MAX_TRANSIENT_FAILURES) {
        client.close(1011, "Could not reach the Gemini Live API.");
        return;
      }
      continue;
    }
    if ("closed" in result) {
      const reason = redact(result.closed.reason);
      const outcome = closeOutcome(reason);
      if (outcome.kind === "transient" || outcome.kind === "client-error") {
        client.close(sendableCloseCode(result.closed.code), sendableReason(reason));
        return;
      }
      failure = { keyId: key.id, model, fault: { ...outcome, reason } };
      continue;
    }

    relay(client, result, key, model, services, pending);
    upstream = result.socket;
    return;
  }
}

/** From here on the session is Google's and the client's: frames pass both ways untouched. */
function relay(client: LiveSocket, opened: { socket: LiveSocket; first: Frame }, key: PoolKey, model: string, services: ProxyServices, pending: Frame[]): void {
  const scanner = new UsageScanner();
  const encoder = new TextEncoder();
  const note = (frame: Frame) => scanner.push(typeof frame === "string" ? encoder.encode(frame) : new Uint8Array(frame));
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    const usage = scanner.usage;
    services.waitUntil(
      services.pool.recordUsage([
        { keyId: key.id, model, promptTokens: usage?.promptTokens ?? 0, outputTokens: usage?.outputTokens ?? 0, at: Date.now() },
      ]),
    );
  };
  const upstream = opened.socket;
  upstream.addEventListener("message", (event) => {
    const frame = asFrame(event.data);
    note(frame);
    client.send(frame);
  });
  upstream.addEventListener("close", (event) => {
    record();
    client.close(sendableCloseCode(event.code), sendableReason(services.keyRing.redact(event.reason)));
  });
  client.addEventListener("close", record);
  note(opened.first);
  client.send(opened.first);
  for (const frame of pending.splice(0)) upstream.send(frame);
}

/** Authenticates a Live API upgrade (the token comes as `?key=`) and bridges the session. */
export async function handleLive(request: Request, url: URL, path: LivePath, services: ProxyServices, runtime: LiveRuntime): Promise<Response> {
  const tokens = services.config.proxyTokens;
  const credential = readClientCredential(request.headers, url);
  if (tokens.length > 0 && (credential === null || !isAcceptedToken(credential.token, tokens))) {
    return errorResponse("gemini", 401, "Missing or invalid proxy API key: pass the proxy's PROXY_API_KEY as ?key=.");
  }
  const { socket, response } = runtime.accept(request);
  services.waitUntil(
    runSession(socket, path, services, runtime).catch((error: unknown) => {
      socket.close(1011, sendableReason(services.keyRing.redact(`Proxy error: ${String(error)}`)));
    }),
  );
  return response;
}

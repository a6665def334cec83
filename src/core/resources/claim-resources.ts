import type { NativeRoute } from "../route";
import type { ProxyServices } from "../services";
import { createdResource, createsResource, describedResource } from "./created-resources";
import { pathResource } from "./resource-names";
import { proxiedUploadUrl } from "./upload-session";

export interface SuccessContext {
  route: NativeRoute;
  method: string;
  url: URL;
  /** Resources the request used, and whether the key was chosen because it owns them. */
  resources: readonly string[];
  pinned: boolean;
  keyId: string;
  upstream: Response;
  /** The headers the client will get; the upload session URL is rewritten in place. */
  headers: Headers;
  services: ProxyServices;
  /** False for a request admitted by a session URL alone: one leaked URL must not mint new ones. */
  signsUploads: boolean;
}

/**
 * What a successful native answer means for resource ownership. Returns the response to
 * send when the body had to be read (a creation: its owner is recorded before the client
 * can use the new name), or null when the body can stream through untouched.
 */
export async function claimResources(context: SuccessContext): Promise<Response | null> {
  const { route, method, url, resources, pinned, keyId, upstream, headers, services, signsUploads } = context;
  const now = Date.now();

  const sessionUrl = upstream.headers.get("x-goog-upload-url");
  if (sessionUrl !== null) {
    const key = services.keyRing.byId(keyId);
    const proxied = key === undefined || !signsUploads ? null : await proxiedUploadUrl(sessionUrl, url.origin, key, now);
    if (proxied !== null) headers.set("x-goog-upload-url", proxied);
    else headers.delete("x-goog-upload-url");
  }

  const uploadInProgress = route.upload && upstream.headers.get("x-goog-upload-status") !== "final";
  if (createsResource(route, method) && !uploadInProgress) {
    const text = await upstream.text();
    let created = null;
    try {
      created = createdResource(JSON.parse(text), now);
    } catch {
      // Not JSON: nothing to remember, the client gets the body as it came.
    }
    // Awaited on purpose: the client's very next request may use the new name, and
    // must find its owner. Creations are rare next to generate calls.
    if (created !== null) await services.pool.recordOwnership([{ ...created, keyId }]);
    // Read whole anyway, so masked like an error body (README: what is masked where).
    return new Response(services.keyRing.redact(text), { status: upstream.status, headers });
  }

  const own = pathResource(route.resource);
  if (method === "DELETE" && own !== null) {
    services.waitUntil(services.pool.forgetResources([own]));
  } else if (!pinned && resources.length > 0) {
    // The key could use resources nobody had recorded (in places Google checks against
    // its project, see resource-names.ts): it is their owner, as far as the proxy can tell.
    const entries = resources.flatMap((name) => {
      const described = describedResource({ name }, now);
      return described === null ? [] : [{ ...described, keyId, inferred: true }];
    });
    services.waitUntil(services.pool.recordOwnership(entries));
  }
  return null;
}

import type { OpenAIRoute } from "../route";
import type { SuccessContext } from "./claim-resources";
import { describedResource } from "./created-resources";
import { batchNames, createsBatch, isBatchRoute } from "./openai-batch-resources";

export type OpenAISuccessContext = Omit<SuccessContext, "route" | "url" | "signsUploads"> & { route: OpenAIRoute };

/**
 * What a successful OpenAI-style batch answer means for ownership. A batch object is a
 * few hundred bytes, so it is read whole: the new batch (and later its results file) is
 * recorded for the key that answered. Returns the response to send, or null for every
 * other endpoint, whose body streams through untouched.
 */
export async function claimOpenAIResources(context: OpenAISuccessContext): Promise<Response | null> {
  const { route, method, resources, pinned, keyId, upstream, headers, services } = context;
  if (!isBatchRoute(route)) return null;
  const text = await upstream.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: nothing to remember, the client gets the body as it came.
  }
  const { own, produced } = batchNames(body);
  const creation = createsBatch(route, method);
  // A pinned request only confirms what is known, except for files the batch has produced;
  // an unpinned one has just found the owner of everything it names.
  // Google's answer vouches for the batch it names and the files it produced; the
  // resources the request used are only inferred to be the key's from the success.
  const vouched = new Set([...(creation || !pinned ? own : []), ...produced]);
  const used = creation || !pinned ? resources.filter((name) => !vouched.has(name)) : [];
  const now = Date.now();
  const entries = [...[...vouched].map((name) => ({ name, inferred: false })), ...used.map((name) => ({ name, inferred: true }))].flatMap(
    ({ name, inferred }) => {
      const described = describedResource({ name }, now);
      return described === null ? [] : [{ ...described, keyId, inferred }];
    },
  );
  if (entries.length > 0) {
    // Awaited for a creation: the client's very next request names the new batch.
    if (creation) await services.pool.recordOwnership(entries);
    else services.waitUntil(services.pool.recordOwnership(entries));
  }
  // Read whole anyway, so masked like an error body (README: what is masked where).
  return new Response(services.keyRing.redact(text), { status: upstream.status, headers });
}

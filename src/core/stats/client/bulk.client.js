// A bulk action on every key a filter matches, however many: POST /api/keys/bulk takes at
// most MAX_IDS ids (413 beyond), so a bigger selection goes in parts of that size, one
// after the other, and their answers are added up.

import { send } from "./api.client.js";

/** MAX_IDS_PER_REQUEST of the admin API (stats/key-routes.ts). */
export const MAX_IDS = 2_000;

/**
 * Sends `ids` in parts; `onProgress(done, total)` after each. A verification's later parts
 * join the job the first one started. Resolves to the summed `{ done, skipped }`, or for a
 * verification to the first part's answer body (with its `job`).
 */
export async function bulkInChunks(action, ids, extra, onProgress) {
  let done = 0;
  const skipped = [];
  let first = null;
  for (let start = 0; start < ids.length; start += MAX_IDS) {
    const part = ids.slice(start, start + MAX_IDS);
    const join = action === "verify" && start > 0;
    const { body } = await send("POST", "/api/keys/bulk", { action, ids: part, ...extra, ...(join && { join: true }) });
    first ??= body;
    done += body?.done ?? 0;
    skipped.push(...(body?.skipped ?? []));
    onProgress(Math.min(start + part.length, ids.length), ids.length);
  }
  return action === "verify" ? first : { done, skipped };
}

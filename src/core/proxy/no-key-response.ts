import type { ApiStyle } from "../api-style";
import { errorResponse } from "../error-response";
import type { DisabledCounts, Lease } from "../key-pool";
import { markFor } from "../key-store/cooldown";
import { nextQuotaReset } from "../pacific-time";
import type { KeyFault } from "../upstream-outcome";

type Refusal = Exclude<Lease, { keyId: string }>;

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Which disables hold every key back, largest first, and where to act on them. */
function disabledMessage(counts: DisabledCounts): string {
  const kinds: [number, string][] = [
    [counts.operator ?? 0, "disabled by an operator"],
    [counts.awaiting ?? 0, "waiting for their first verification"],
    [counts.verification ?? 0, "refused by Google when verified (invalid, suspended or restricted)"],
    [counts.google ?? 0, "refused by Google on a request (invalid or suspended)"],
  ];
  const parts = kinds.filter(([count]) => count > 0).sort((a, b) => b[0] - a[0]).map(([count, what]) => `${count} ${what}`);
  const why = parts.length === 0 ? "" : `: ${parts.join(", ")}`;
  return (
    `Every API key of this proxy is disabled${why}. /stat or GET /api/keys?status=disabled shows each key's reason; ` +
    "an admin can enable or verify keys there, or add keys with POST /api/keys."
  );
}

/** The answer when no key can take the request: what happened, and when to come back. */
export function noKeyResponse(
  style: ApiStyle,
  model: string | null,
  resources: readonly string[],
  lease: Refusal,
  now: number,
): Response {
  const subject = model === null ? "this request" : `model ${model}`;
  const used = resources.join(", ");
  switch (lease.cause) {
    case "mixed-owners":
      return errorResponse(
        style,
        400,
        `This request uses ${used}, which were created with different API keys of the pool. Google lets only ` +
          "the key (project) that created a file or cache use it, so one request cannot use both: create them in one place.",
        { code: "mixed_resource_owners" },
      );
    case "owner-unavailable":
      return errorResponse(
        style,
        403,
        `${used} belongs to a pool key that is disabled or no longer in API_KEYS; no other key can access it.`,
        { code: "resource_owner_unavailable" },
      );
    case "no-keys":
      return errorResponse(style, 503, "The proxy has no Gemini API keys: set API_KEYS (the Worker's secret, or the Node server's environment), or add keys with POST /api/keys (or on /stat).", {
        headers: { "x-should-retry": "false" },
        code: "no_api_keys",
      });
    case "disabled":
      return errorResponse(
        style,
        503,
        disabledMessage(lease.disabled ?? {}),
        { headers: { "x-should-retry": "false" }, code: "api_keys_disabled" },
      );
    case "all-tried":
      return errorResponse(style, 503, `Every available API key failed for ${subject}; try again shortly.`, {
        code: "upstream_unavailable",
      });
    case "exhausted": {
      const freeAt = lease.freeAt ?? lease.resetAt;
      const seconds = Math.max(1, Math.ceil((freeAt - now) / 1000));
      // When the first key frees only at the daily reset, an SDK retrying now would just burn time.
      const today = freeAt < lease.resetAt;
      const when = today
        ? `the first key frees up in ${describeWait(seconds)}`
        : `quotas reset at midnight Pacific time, in ${describeWait(seconds)}`;
      const who = lease.pinned ? `The API key that owns ${used} is` : "All API keys of this proxy are";
      // Gemini clients read Google's own signals, not our headers: RetryInfo and the
      // "Please retry in" text for when to come back, a per-day QuotaFailure for "not
      // today" (the Gemini CLI then stops retrying and offers another model).
      return errorResponse(style, 429, `${who} out of quota for ${subject}; ${when}. Please retry in ${seconds}s.`, {
        headers: {
          "retry-after": String(seconds),
          "retry-after-ms": String(seconds * 1000),
          "x-should-retry": String(today),
        },
        code: "all_keys_exhausted",
        details: quotaDetails(model, seconds, today),
      });
    }
  }
}

/** The `google.rpc` details Google puts in its own quota 429s. */
function quotaDetails(model: string | null, seconds: number, today: boolean): object[] {
  const retry = { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${seconds}s` };
  if (today) return [retry];
  const violation = {
    quotaId: "GenerateRequestsPerDayPerProjectPerModel",
    ...(model !== null && { quotaDimensions: { model } }),
  };
  return [{ "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [violation] }, retry];
}

/**
 * A request about no model (a batch, a file) that only its owner's key may send, and that
 * key answered with a quota 429. Nothing can be marked for a model, and no other key may
 * take it: the client gets the proxy's 429, waiting as long as a model mark would.
 */
export function ownerQuotaResponse(
  style: ApiStyle,
  resources: readonly string[],
  fault: Exclude<KeyFault, { kind: "key-disabled" }>,
  now: number,
): Response {
  const freeAt = markFor(fault, undefined, now).until;
  return noKeyResponse(style, null, resources, { keyId: null, cause: "exhausted", freeAt, resetAt: nextQuotaReset(now), pinned: true }, now);
}

/**
 * The request asked as many keys as one Worker invocation may (SUBREQUEST_LIMIT, 50 on
 * the Free plan) without an answer worth giving. The keys it tried were marked as their
 * answers said, so the same request sent again goes to keys not tried yet.
 */
export function subrequestLimitResponse(style: ApiStyle, sent: number, limit: number): Response {
  return errorResponse(
    style,
    503,
    `The proxy tried ${sent} API keys for this request without success and stopped at the Workers limit of ${limit} ` +
      "subrequests per request (SUBREQUEST_LIMIT). The keys that refused it are marked; send the request again to try the others.",
    { headers: { "retry-after": "1" }, code: "subrequest_limit" },
  );
}

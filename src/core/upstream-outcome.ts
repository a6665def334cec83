import { violatedLimits, type QuotaLimit, type QuotaViolation } from "./quota-limits";

// What an upstream error means for the key that got it. Google's bodies are
// google.rpc.Status envelopes (wrapped in a JSON array on the OpenAI-compatible path);
// the quota kind sits in a QuotaFailure detail whose order and completeness vary.

export type KeyFault =
  /** Per-day quota spent: the key is out for this model until the next Pacific midnight. */
  | { kind: "quota-day"; reason: string; limits?: QuotaLimit[] }
  /** Per-minute quota (requests or tokens): cool down for Google's retryDelay. */
  | { kind: "quota-minute"; reason: string; retryAfterMs: number; limits?: QuotaLimit[] }
  /** A 429 without details: a short cooldown that grows when it repeats. */
  | { kind: "quota-unknown"; reason: string }
  /** The key itself is unusable (invalid, suspended, project denied): disabled for all models. */
  | { kind: "key-disabled"; reason: string };

export type UpstreamOutcome =
  | KeyFault
  /** Worth another key, not worth marking this one (overload, 5xx, network). */
  | { kind: "transient" }
  /** The request itself is at fault: the client gets the answer unchanged. */
  | { kind: "client-error" };

interface GoogleDetail {
  "@type"?: string;
  reason?: string;
  retryDelay?: string;
  violations?: (QuotaViolation & { quotaId?: string; quotaMetric?: string })[];
}

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: GoogleDetail[];
}

const DEFAULT_MINUTE_COOLDOWN_MS = 60_000;

function parseGoogleError(body: string): GoogleError | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const envelope: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
    if (typeof envelope !== "object" || envelope === null || !("error" in envelope)) return null;
    const error = envelope.error;
    return typeof error === "object" && error !== null ? (error as GoogleError) : null;
  } catch {
    return null;
  }
}

/** Google's message in an error body, if it is one of Google's envelopes. */
export function googleMessage(body: string): string | null {
  const message = parseGoogleError(body)?.message?.trim();
  return message === undefined || message === "" ? null : message;
}

/** Parses a protobuf Duration such as "26s" or "45.837906927s" into milliseconds. */
export function parseDuration(value: string | undefined): number | null {
  const match = value?.match(/^(\d+(?:\.\d+)?)s$/);
  return match?.[1] === undefined ? null : Math.ceil(Number(match[1]) * 1000);
}

function classifyQuota(error: GoogleError, reason: string): KeyFault {
  const details = Array.isArray(error.details) ? error.details.filter((detail) => typeof detail === "object" && detail !== null) : [];
  const violations = details
    .flatMap((detail) => (Array.isArray(detail.violations) ? detail.violations : []))
    .filter((violation) => typeof violation === "object" && violation !== null);
  const quotaIds = violations.map((violation) => `${String(violation.quotaId ?? "")} ${String(violation.quotaMetric ?? "")}`);
  const limits = violatedLimits(violations);
  const taught = limits.length > 0 ? { limits } : {};
  // A limit of 0: the model is not available to this key's project today, whatever the window.
  if (quotaIds.some((id) => /PerDay/i.test(id)) || limits.some((limit) => limit.value === 0)) {
    return { kind: "quota-day", reason, ...taught };
  }
  const retryDelay = details.map((detail) => parseDuration(typeof detail.retryDelay === "string" ? detail.retryDelay : undefined)).find((ms) => ms !== null);
  if (quotaIds.length > 0 || retryDelay != null) {
    return { kind: "quota-minute", reason, retryAfterMs: retryDelay ?? DEFAULT_MINUTE_COOLDOWN_MS, ...taught };
  }
  return { kind: "quota-unknown", reason };
}

// Reasons (google.rpc.ErrorInfo) that say the key itself cannot be used from here: invalid,
// suspended, or restricted to websites or apps the proxy is not (a key restricted that
// way answers 403 "Requests from referer <empty> are blocked." on every request).
const KEY_REASONS = new Set([
  "API_KEY_INVALID",
  "CONSUMER_SUSPENDED",
  "API_KEY_SERVICE_BLOCKED",
  "SERVICE_DISABLED",
  "API_KEY_HTTP_REFERRER_BLOCKED",
  "API_KEY_IP_ADDRESS_BLOCKED",
  "API_KEY_ANDROID_APP_BLOCKED",
  "API_KEY_IOS_APP_BLOCKED",
]);

function isKeyProblem(status: number, error: GoogleError | null): boolean {
  const reasons = (error?.details ?? []).map((detail) => detail.reason ?? "");
  if (reasons.some((reason) => KEY_REASONS.has(reason))) return true;
  const message = error?.message ?? "";
  if (status === 400) return /API key not valid|API key expired/i.test(message);
  if (status === 401) return true;
  // A 403 about a file or cache another project created is the request's problem, not the key's.
  if (status === 403) return /suspended|denied access|API key|has not been used in project/i.test(message);
  return false;
}

/** Classifies a non-2xx upstream answer; `body` is its text (already read). */
export function classifyUpstream(status: number, body: string): UpstreamOutcome {
  const error = parseGoogleError(body);
  const reason = error?.message?.trim() || `HTTP ${status}`;
  if (status === 429) return error === null ? { kind: "quota-unknown", reason } : classifyQuota(error, reason);
  if (isKeyProblem(status, error)) return { kind: "key-disabled", reason };
  if (status >= 500 || status === 408) return { kind: "transient" };
  return { kind: "client-error" };
}

/**
 * Google's answer to a key whose project cannot see a file, cache or batch: 403 (or 404)
 * "You do not have permission to access the File ...", "CachedContent not found (or
 * permission denied)". For a request that uses such a resource another key may succeed.
 */
export function isForeignResource(status: number, body: string): boolean {
  if (status !== 403 && status !== 404) return false;
  const message = parseGoogleError(body)?.message ?? "";
  return /do not have permission to access|not found \(or permission denied\)|permission denied/i.test(message);
}

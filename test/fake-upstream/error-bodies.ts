// Google's google.rpc.Status error envelopes, worded as the live API words them so the
// proxy's classifier is tested against realistic input rather than our own guesses.

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

export interface ErrorReply {
  status: number;
  body: GoogleErrorBody;
  headers?: Record<string, string>;
}

const SERVICE = "generativelanguage.googleapis.com";

/** Exported for the resource errors (resource-errors.ts), which share the envelope. */
export function envelope(code: number, status: string, message: string, details?: unknown[]): ErrorReply {
  const error: GoogleErrorBody["error"] = { code, message, status };
  if (details !== undefined) error.details = details;
  return { status: code, body: { error } };
}

function errorInfo(reason: string, metadata: Record<string, string> = {}): unknown {
  return {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason,
    domain: "googleapis.com",
    metadata: { service: SERVICE, ...metadata },
  };
}

export function missingKey(): ErrorReply {
  return envelope(
    403,
    "PERMISSION_DENIED",
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );
}

/** What Google answers when a native route gets `Authorization: Bearer <api key>` only. */
export function bearerOnNativeRoute(): ErrorReply {
  return envelope(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    [errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED", { method: "google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent" })],
  );
}

export function missingBearer(): ErrorReply {
  return envelope(401, "UNAUTHENTICATED", "Missing or invalid Authorization header.");
}

export function apiKeyInvalid(): ErrorReply {
  return envelope(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
    errorInfo("API_KEY_INVALID"),
  ]);
}

/** Realistically embeds the full key in the message: the proxy must redact it. */
export function consumerSuspended(key: string): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", `Permission denied: Consumer 'api_key:${key}' has been suspended.`, [
    errorInfo("CONSUMER_SUSPENDED", { consumer: "projects/123456789012" }),
  ]);
}

/** A key restricted to websites: a server-side caller sends no Referer, so Google names it <empty>. */
export function referrerBlocked(): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", "Requests from referer <empty> are blocked.", [
    errorInfo("API_KEY_HTTP_REFERRER_BLOCKED", { consumer: "projects/123456789012" }),
  ]);
}

/** A key restricted to IP addresses the caller is not among. */
export function ipAddressBlocked(): ErrorReply {
  return envelope(
    403,
    "PERMISSION_DENIED",
    "The provided API key has an IP address restriction. The originating IP address of the call (203.0.113.7) violates this restriction.",
    [errorInfo("API_KEY_IP_ADDRESS_BLOCKED", { consumer: "projects/123456789012" })],
  );
}

export function projectDenied(): ErrorReply {
  return envelope(403, "PERMISSION_DENIED", "Your project has been denied access. Please contact support.");
}

export function internalError(): ErrorReply {
  return envelope(
    500,
    "INTERNAL",
    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  );
}

export function overloaded(): ErrorReply {
  return envelope(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
}

export function locationUnsupported(): ErrorReply {
  return envelope(400, "FAILED_PRECONDITION", "User location is not supported for the API use.");
}

export function badRequest(message = "Request contains an invalid argument."): ErrorReply {
  return envelope(400, "INVALID_ARGUMENT", message);
}

export function invalidJson(): ErrorReply {
  return badRequest("Invalid JSON payload received. Unexpected token.");
}

export function modelNotFound(model: string, apiVersion: string, action: string): ErrorReply {
  return envelope(
    404,
    "NOT_FOUND",
    `models/${model} is not found for API version ${apiVersion}, or is not supported for ${action}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

export function routeNotFound(path: string): ErrorReply {
  return envelope(404, "NOT_FOUND", `Method not found: ${path}`);
}

export function bareQuotaExhausted(): ErrorReply {
  return envelope(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).");
}

export type QuotaKind = "day" | "minute" | "tokens";

const QUOTA_IDS: Record<QuotaKind, { quotaId: string; metric: string }> = {
  day: {
    quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    metric: `${SERVICE}/generate_content_free_tier_requests`,
  },
  minute: {
    quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    metric: `${SERVICE}/generate_content_free_tier_requests`,
  },
  tokens: {
    quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    metric: `${SERVICE}/generate_content_free_tier_input_token_count`,
  },
};

export interface QuotaErrorInput {
  kind: QuotaKind;
  model: string;
  limit: number;
  retryDelay: string;
}

export function quotaExceeded({ kind, model, limit, retryDelay }: QuotaErrorInput): ErrorReply {
  const { quotaId, metric } = QUOTA_IDS[kind];
  const message =
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
    "head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: " +
    `https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: ${metric}, limit: ${limit}, model: ${model}\n` +
    `Please retry in ${retryDelay}.`;
  return envelope(429, "RESOURCE_EXHAUSTED", message, [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: metric,
          quotaId,
          quotaDimensions: { location: "global", model },
          quotaValue: String(limit),
        },
      ],
    },
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [{ description: "Learn more about Gemini API quotas", url: "https://ai.google.dev/gemini-api/docs/rate-limits" }],
    },
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay },
  ]);
}

/** Formats milliseconds as a protobuf Duration string ("0.8s", "26.04s"). */
export function formatDuration(ms: number): string {
  return `${Number((Math.max(0, ms) / 1000).toFixed(3))}s`;
}

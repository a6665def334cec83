import type { ApiStyle } from "./api-style";

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

// The `type` values the openai SDK and OpenAI-style clients recognise.
const OPENAI_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

export interface ProxyErrorOptions {
  /** Extra response headers (Retry-After and friends). */
  headers?: ResponseInit["headers"];
  /** A short machine-readable code for OpenAI-style bodies; Gemini bodies use the status name. */
  code?: string;
  /** `google.rpc` detail objects for Gemini-style bodies (RetryInfo, QuotaFailure, …), as Google sends them. */
  details?: readonly object[];
}

/** The error object the caller's SDK parses, for a response body or an SSE `data:` event. */
export function errorBody(style: ApiStyle, status: number, message: string, code?: string, details?: readonly object[]): object {
  return style === "openai"
    ? {
        error: {
          message,
          type: OPENAI_TYPE[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"),
          code: code ?? null,
        },
      }
    : {
        error: {
          code: status,
          message,
          status: GOOGLE_STATUS[status] ?? "UNKNOWN",
          ...(details !== undefined && details.length > 0 && { details }),
        },
      };
}

/** A JSON error produced by the proxy itself, shaped the way the caller's SDK parses errors. */
export function errorResponse(
  style: ApiStyle,
  status: number,
  message: string,
  options: ProxyErrorOptions = {},
): Response {
  const headers = new Headers(options.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(errorBody(style, status, message, options.code, options.details)), { status, headers });
}

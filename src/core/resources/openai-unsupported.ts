import type { CredentialSource } from "../client-auth";
import { errorResponse } from "../error-response";
import type { Route } from "../route";

// What Google's OpenAI compatibility layer does not offer, answered by the proxy in the
// OpenAI style with the way round, rather than sent upstream to fail in a confusing way.
// Google's page (ai.google.dev/gemini-api/docs/openai#batch) says batch creation, status
// and results work through the openai library, but "compatibility for upload and download
// is currently not supported": files go through the Gemini Files API instead.

export const OPENAI_FILES_UNSUPPORTED =
  "Google's OpenAI compatibility layer has no Files API (upload and download are not supported there). " +
  "Upload through this proxy with the Gemini Files API (POST /upload/v1beta/files, what @google/genai's files.upload does), " +
  "pass the file's name (files/...) as input_file_id, and download results with GET /v1beta/{output_file_id}:download?alt=media.";

const BATCH_LIST_UNSUPPORTED =
  "Google's OpenAI compatibility layer documents no batch list, and one key would only list its own project's batches. " +
  "Keep the id from batches.create, or list every key's batches at once with the Gemini API: GET /v1beta/batches through this proxy.";

/** An openai SDK's files.create on a base URL shared with the Gemini Files API (`/v1`, the bare host). */
function isOpenAIFileUpload(route: Route, method: string, headers: Headers, credential: CredentialSource | null): boolean {
  if (route.style !== "gemini" || route.upload || route.resource !== "files" || method !== "POST") return false;
  // The Gemini API never takes multipart/form-data there; the openai SDK always sends it, with Bearer.
  return credential === "bearer" && (headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

/** The proxy's own answer to a request Google's OpenAI layer cannot serve; null for everything else. */
export function unsupportedOpenAIRequest(
  route: Route,
  method: string,
  headers: Headers,
  credential: CredentialSource | null,
): Response | null {
  if (isOpenAIFileUpload(route, method, headers, credential)) {
    return errorResponse("openai", 404, OPENAI_FILES_UNSUPPORTED, { code: "unsupported_endpoint" });
  }
  if (route.style === "openai" && route.endpoint === "batches" && method === "GET") {
    return errorResponse("openai", 404, BATCH_LIST_UNSUPPORTED, { code: "unsupported_endpoint" });
  }
  return null;
}

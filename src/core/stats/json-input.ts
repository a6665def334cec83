import type { Context } from "hono";
import type { AppEnv } from "../app";
import { BodyTooLarge, readBody } from "../proxy/read-body";

// Request bodies of the admin API: JSON objects, small. Anything else gets a JSON error
// that says what was wrong, before anything changes.

/** 2,000 keys of 256 characters with quoting fit well inside this. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

export function apiError(c: Context<AppEnv>, status: 400 | 403 | 404 | 409 | 413 | 415, message: string, extra: object = {}): Response {
  const names = { 400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ABORTED", 413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT" };
  c.header("Cache-Control", "no-store");
  return c.json({ error: { code: status, message, status: names[status] }, ...extra }, status);
}

export type JsonInput = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/** The body as a JSON object; an empty body counts as `{}` when `optional`. */
export async function readJsonObject(c: Context<AppEnv>, optional = false): Promise<JsonInput> {
  let bytes: ArrayBuffer | null;
  try {
    bytes = await readBody(c.req.raw, MAX_ADMIN_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return { ok: false, response: apiError(c, 413, `The request body is over the limit of ${MAX_ADMIN_BODY_BYTES} bytes (1 MiB).`) };
    }
    throw error;
  }
  const text = bytes === null ? "" : new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    return optional ? { ok: true, value: {} } : { ok: false, response: apiError(c, 400, "The request needs a JSON object as its body.") };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, response: apiError(c, 400, "The body is not valid JSON.") };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, response: apiError(c, 400, "The body must be a JSON object.") };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** An optional array of strings field; an error message when it has another type. */
export function stringList(value: unknown, name: string): string[] | undefined | { error: string } {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value as string[];
  return { error: `"${name}" must be an array of strings.` };
}

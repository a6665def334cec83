import { Hono } from "hono";
import type { AppEnv } from "../app";
import { errorResponse } from "../error-response";
import type { LimitSetting } from "../key-pool";
import { parseModelId } from "../model-name";
import { QUOTA_WINDOWS, type QuotaWindow } from "../quota-limits";
import { requireAdmin, sameOriginUnlessBearer } from "./access";
import { noStore, statSecurityHeaders } from "./security-headers";

// PUT /api/limits: an operator sets a quota limit they know, so even the first request
// over it is not sent. Body: {"model", "window": "rpm" | "rpd" | "tpm", "value": n | null,
// "key"?: key id, "group"?: group name}; null removes the operator's limit.

const GROUP_NAME = /^[^\s,;:]{1,100}$/;
const KEY_ID = /^[0-9a-f]{16}$/;

function parseSetting(body: unknown): LimitSetting | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return 'The body must be a JSON object: {"model", "window", "value"}.';
  const { model, window, value, key, group } = body as Record<string, unknown>;
  const modelId = typeof model === "string" ? parseModelId(model) : null;
  if (modelId === null) return '"model" must be a model name, e.g. "gemini-2.5-flash".';
  if (typeof window !== "string" || !QUOTA_WINDOWS.includes(window as QuotaWindow)) return '"window" must be "rpm", "rpd" or "tpm".';
  if (value !== null && !(typeof value === "number" && Number.isSafeInteger(value) && value >= 0)) {
    return '"value" must be a whole number of requests (rpm, rpd) or input tokens (tpm), 0 or more, or null to remove the limit.';
  }
  if (key !== undefined && group !== undefined) return 'Name either "key" or "group", not both.';
  if (key !== undefined && (typeof key !== "string" || !KEY_ID.test(key))) return '"key" must be a key id as /api/stats shows it.';
  if (group !== undefined && (typeof group !== "string" || !GROUP_NAME.test(group))) return '"group" must be a group name as written in API_KEYS (group:key).';
  return { model: modelId, window: window as QuotaWindow, value, ...(key !== undefined && { key }), ...(group !== undefined && { group }) };
}

export function limitRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.use("/api/limits", statSecurityHeaders);
  routes.put("/api/limits", requireAdmin, sameOriginUnlessBearer, async (c) => {
    noStore(c);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorResponse("gemini", 400, "The body is not valid JSON.");
    }
    const setting = parseSetting(body);
    if (typeof setting === "string") return errorResponse("gemini", 400, setting);
    if (setting.key !== undefined && c.env.services.keyRing.byId(setting.key) === undefined) {
      return errorResponse("gemini", 404, `No key with id ${setting.key} is in the pool.`);
    }
    await c.env.services.pool.setLimit(setting);
    return c.json({ limit: setting });
  });
  return routes;
}

import { CHANGE_IN_API_KEYS, REMOVE_FROM_API_KEYS } from "../api-keys-removal";
import { Hono, type Context } from "hono";
import type { BulkAction, KeyChangeRefusal } from "../admin-model";
import type { AppEnv } from "../app";
import type { VerificationStart } from "../key-pool";
import { groupNameProblem } from "../key-admin/group-name";
import { parseNewKeys } from "../key-admin/parse-new-keys";
import { requireAdmin, requireViewer, sameOriginUnlessBearer } from "./access";
import { apiError, readJsonObject, stringList } from "./json-input";
import { parseEventQuery, parseKeyListQuery } from "./key-query";
import { noStore, statSecurityHeaders } from "./security-headers";

// The pool's admin API: runtime keys, disables, verification, the event log. Reading
// needs a viewer, changing needs an admin (stats/access.ts); changes from a browser must
// be same-origin. Keys travel in only (POST /api/keys): every answer names them masked.

const BULK_ACTIONS: readonly BulkAction[] = ["disable", "enable", "delete", "verify", "group"];

/** Ids one bulk or verify call takes: the page's largest pool, and a bounded answer. */
export const MAX_IDS_PER_REQUEST = 2_000;

/** The "ids" member: a list of at most MAX_IDS_PER_REQUEST strings, or the error answer. */
function idList(c: Context<AppEnv>, value: unknown): string[] | undefined | Response {
  const ids = stringList(value, "ids");
  if (ids !== undefined && "error" in ids) return apiError(c, 400, '"ids" must be an array of key ids.');
  if (ids !== undefined && ids.length > MAX_IDS_PER_REQUEST) {
    return apiError(c, 413, `At most ${MAX_IDS_PER_REQUEST} ids per request; this one has ${ids.length}. Send them in several requests.`);
  }
  return ids;
}

/**
 * The "group" member: a group name, or null (out of any group); undefined when absent and
 * not `required`. An answer when it is neither.
 */
function groupField(c: Context<AppEnv>, value: unknown, required: boolean): string | null | undefined | Response {
  if (value === undefined && !required) return undefined;
  if (value === null) return null;
  const problem = typeof value === "string" ? groupNameProblem(value) : "it must be a string";
  if (problem === null) return value as string;
  return apiError(c, 400, `"group": ${problem}, or null to take the key out of its group.`);
}

/** The "join" member of a verification: add to the running one rather than answer 409. */
function joinField(c: Context<AppEnv>, value: unknown): boolean | Response {
  if (value === undefined) return false;
  return typeof value === "boolean" ? value : apiError(c, 400, '"join" must be true or false.');
}

const RUNNING = "A verification is already running; wait for it to finish (GET /api/keys/verify).";

/** The answer to a verification asked for by id: 404 when none is a key, 409 while another runs. */
function verificationAnswer(c: Context<AppEnv>, result: VerificationStart): Response {
  if (result.job === null) return apiError(c, 404, "None of the given ids is a key of the pool (GET /api/keys lists them).", { unknown: result.unknown });
  if (!result.started) return apiError(c, 409, RUNNING, { job: result.job });
  return c.json({ job: result.job, ...(result.unknown.length > 0 && { unknown: result.unknown }) }, 202);
}

function refusal(c: Context<AppEnv>, result: KeyChangeRefusal, what: "delete" | "group" = "delete"): Response {
  if (result.refused === "unknown") return apiError(c, 404, `No key has the id "${c.req.param("id") ?? ""}".`);
  const message =
    what === "group"
      ? `${result.masked} comes from API_KEYS, where its group is written (group:key): ${CHANGE_IN_API_KEYS}.`
      : `${result.masked} comes from API_KEYS: to delete it, ${REMOVE_FROM_API_KEYS}. It can be disabled here.`;
  return apiError(c, 409, message);
}

export function keyRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.use("/api/*", statSecurityHeaders, async (c, next) => {
    noStore(c);
    await next();
  });
  const change = [requireAdmin, sameOriginUnlessBearer] as const;

  routes.get("/api/keys", requireViewer, async (c) => {
    const query = parseKeyListQuery(new URL(c.req.url).searchParams);
    if (!query.ok) return apiError(c, 400, query.message);
    return c.json(await c.env.services.pool.listKeys(query.value));
  });

  routes.post("/api/keys", ...change, async (c) => {
    const body = await readJsonObject(c);
    if (!body.ok) return body.response;
    const verify = body.value.verify ?? true;
    if (typeof verify !== "boolean") return apiError(c, 400, '"verify" must be true or false.');
    const group = groupField(c, body.value.group, false);
    if (group instanceof Response) return group;
    const parsed = parseNewKeys(body.value.keys, group ?? undefined);
    if ("error" in parsed) return apiError(c, parsed.status, parsed.error);
    const result =
      parsed.keys.length === 0
        ? { added: [], duplicates: 0 }
        : await c.env.services.pool.addKeys(parsed.keys, verify, c.get("role"));
    return c.json({ ...result, duplicates: result.duplicates + parsed.duplicates, rejected: parsed.rejected });
  });

  routes.get("/api/keys/verify", requireViewer, async (c) => c.json({ job: await c.env.services.pool.verification() }));

  routes.post("/api/keys/verify", ...change, async (c) => {
    const body = await readJsonObject(c, true);
    if (!body.ok) return body.response;
    const ids = idList(c, body.value.ids);
    if (ids instanceof Response) return ids;
    const join = joinField(c, body.value.join);
    if (join instanceof Response) return join;
    return verificationAnswer(c, await c.env.services.pool.startVerification(ids ?? null, c.get("role"), join));
  });

  routes.post("/api/keys/bulk", ...change, async (c) => {
    const body = await readJsonObject(c);
    if (!body.ok) return body.response;
    const action = BULK_ACTIONS.find((candidate) => candidate === body.value.action);
    if (action === undefined) return apiError(c, 400, `"action" must be one of ${BULK_ACTIONS.join(", ")}.`);
    const ids = idList(c, body.value.ids);
    if (ids instanceof Response) return ids;
    if (ids === undefined) return apiError(c, 400, '"ids" must be an array of key ids.');
    const group = action === "group" ? groupField(c, body.value.group, true) : null;
    if (group instanceof Response) return group;
    const join = joinField(c, body.value.join);
    if (join instanceof Response) return join;
    const result = await c.env.services.pool.bulk(action, ids, c.get("role"), { group: group ?? null, join });
    return "job" in result ? verificationAnswer(c, result) : c.json(result);
  });

  routes.delete("/api/keys/:id", ...change, async (c) => {
    const result = await c.env.services.pool.deleteKey(c.req.param("id"), c.get("role"));
    return "refused" in result ? refusal(c, result) : c.json({ deleted: result });
  });

  routes.post("/api/keys/:id/disable", ...change, async (c) => {
    const body = await readJsonObject(c, true);
    if (!body.ok) return body.response;
    const reason = body.value.reason ?? "Disabled by an operator.";
    if (typeof reason !== "string" || reason.length > 500) return apiError(c, 400, '"reason" must be a string of at most 500 characters.');
    // An operator may paste anything here: the key manager masks it with every key it
    // holds before storing it (this process's ring may not know a runtime key yet).
    const text = reason.trim() || "Disabled by an operator.";
    const result = await c.env.services.pool.disableKey(c.req.param("id"), text, c.get("role"));
    return "refused" in result ? refusal(c, result) : c.json(result);
  });

  routes.post("/api/keys/:id/enable", ...change, async (c) => {
    const result = await c.env.services.pool.enableKey(c.req.param("id"), c.get("role"));
    return "refused" in result ? refusal(c, result) : c.json(result);
  });

  routes.post("/api/keys/:id/group", ...change, async (c) => {
    const body = await readJsonObject(c);
    if (!body.ok) return body.response;
    const group = groupField(c, body.value.group, true);
    if (group instanceof Response) return group;
    const result = await c.env.services.pool.groupKey(c.req.param("id"), group ?? null, c.get("role"));
    return "refused" in result ? refusal(c, result, "group") : c.json(result);
  });

  routes.post("/api/keys/:id/verify", ...change, async (c) => {
    const result = await c.env.services.pool.verifyKey(c.req.param("id"), c.get("role"));
    return "refused" in result ? refusal(c, result) : c.json(result);
  });

  routes.get("/api/events", requireViewer, async (c) => {
    const query = parseEventQuery(new URL(c.req.url).searchParams);
    if (!query.ok) return apiError(c, 400, query.message);
    return c.json(await c.env.services.pool.events(query.value));
  });

  return routes;
}

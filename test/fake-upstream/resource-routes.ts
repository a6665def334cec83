// Dispatch for /{v}/files, /{v}/cachedContents and /{v}/batches (with /{id} and :verb),
// after the caller's key is checked. Batch creation lives on the model routes instead.

import { routeNotFound } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { handleBatches } from "./batch-routes.ts";
import { handleCaches } from "./cache-routes.ts";
import { handleFiles } from "./file-routes.ts";
import type { Caller } from "./resource-gate.ts";
import { authorize } from "./resource-gate.ts";
import { sendError } from "./respond.ts";

const RESOURCE_PATH = /^\/(v1beta|v1|v1alpha)\/(files|cachedContents|batches)(?:\/([^/:]+)(?::([A-Za-z]+))?)?\/?$/;

export interface ResourceRoute {
  apiVersion: string;
  method: string;
  /** Member id, or undefined for the collection. */
  id: string | undefined;
  /** `download`, `cancel`, ... after the colon. */
  verb: string | undefined;
  caller: Caller;
}

export function isResourcePath(path: string): boolean {
  return RESOURCE_PATH.test(path);
}

/** Google's method names, so the log reads like the API reference. */
function actionName(collection: string, method: string, id: string | undefined, verb: string | undefined): string {
  if (verb !== undefined) return `${collection}.${verb}`;
  if (id === undefined) return `${collection}.${method === "POST" ? "create" : "list"}`;
  return `${collection}.${method === "DELETE" ? "delete" : method === "PATCH" ? "patch" : "get"}`;
}

export function handleResource(ex: Exchange): void {
  const { entry, req, url } = ex;
  entry.dialect = "native";
  const [, apiVersion = "v1beta", collection = "", rawId, verb] = RESOURCE_PATH.exec(url.pathname) ?? [];
  const method = req.method ?? "GET";
  const id = rawId === undefined ? undefined : decodeURIComponent(rawId);
  entry.apiVersion = apiVersion;
  entry.action = actionName(collection, method, id, verb);
  const caller = authorize(ex);
  if (caller === null) return;
  const route: ResourceRoute = { apiVersion, method, id, verb, caller };
  switch (collection) {
    case "files":
      return handleFiles(ex, route);
    case "cachedContents":
      return handleCaches(ex, route);
    case "batches":
      return handleBatches(ex, route);
    default:
      return sendError(ex, routeNotFound(url.pathname));
  }
}

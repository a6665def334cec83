// Authentication for the resource routes (files, caches, batches, uploads): the same key
// checks as model requests, then the caller's project, which decides what it may see.

import { nativeApiKey } from "./auth.ts";
import { bearerOnNativeRoute, missingKey } from "./error-bodies.ts";
import type { Exchange } from "./exchange.ts";
import { keyFault } from "./key-fault.ts";
import { sendError } from "./respond.ts";

export interface Caller {
  key: string;
  project: string;
}

/** Answers the request itself and returns null when the key is missing or refused. */
export function authorize(ex: Exchange, model: string | null = null): Caller | null {
  const { entry, req, url } = ex;
  const key = nativeApiKey(req, url);
  if (key === undefined) {
    sendError(ex, entry.authorizationHeaderPresent ? bearerOnNativeRoute() : missingKey());
    return null;
  }
  entry.apiKey = key;
  const fault = keyFault(ex.state, key, model);
  if (fault !== null) {
    sendError(ex, fault);
    return null;
  }
  return { key, project: ex.state.projectOf(key) };
}

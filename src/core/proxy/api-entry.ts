import { readClientCredential } from "../client-auth";
import { recognizeRoute } from "../route";
import type { ProxyServices, RequestLog } from "../services";
import { handleProxy } from "./handle-proxy";

// What the app runs for every API request, around handleProxy: the log's promise of one
// line per request. forward() writes the line for everything it sends upstream; requests
// answered without it (wrong token, invalid path, oversized body, merged lists, live
// sessions) get theirs here. Only what the path says is logged, never the path itself:
// a client may have put anything there.

function lineFor(request: Request, status: number, subrequests: number, ms: number): RequestLog {
  const url = new URL(request.url);
  const recognition = recognizeRoute(url.pathname, readClientCredential(request.headers, url)?.source ?? null);
  const route = "route" in recognition ? recognition.route : null;
  return {
    method: request.method,
    route: route === null ? "-" : route.style === "openai" ? route.endpoint : route.resource,
    style: route?.style ?? ("error" in recognition ? recognition.error.style : "gemini"),
    model: route?.style === "gemini" ? route.model : null,
    keys: [],
    status,
    attempts: 0,
    subrequests,
    ms,
  };
}

export async function handleApiRequest(request: Request, services: ProxyServices): Promise<Response> {
  const started = Date.now();
  let logged = false;
  const watched: ProxyServices = {
    ...services,
    log: (entry) => {
      logged = true;
      services.log(entry);
    },
  };
  const response = await handleProxy(request, watched);
  if (!logged) services.log(lineFor(request, response.status, services.budget.used, Date.now() - started));
  return response;
}

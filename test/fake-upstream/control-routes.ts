// /__fake/* — the control surface over HTTP, for tests running inside workerd that can
// only reach the fake by fetch. Mirrors the in-process FakeControl methods one to one.

import type { Exchange } from "./exchange.ts";
import {
  ControlInputError,
  parseFakeConfig,
  parseKeyConfig,
  parseModelShape,
  parseQuotaConfig,
  parseScriptConfig,
} from "./control-parse.ts";
import { parseJson } from "./http-io.ts";

export const CONTROL_PREFIX = "/__fake/";

function reply(ex: Exchange, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  ex.res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  ex.res.end(text);
}

/** Accepts one configuration object or an array of them. */
function each(body: unknown, apply: (item: unknown) => void): void {
  for (const item of Array.isArray(body) ? body : [body]) apply(item);
}

export function handleControl(ex: Exchange): void {
  const { state, url } = ex;
  const route = `${ex.req.method ?? "GET"} ${url.pathname.slice(CONTROL_PREFIX.length)}`;
  if (route === "GET log") {
    const model = url.searchParams.get("model") ?? undefined;
    const key = url.searchParams.get("key") ?? undefined;
    const tag = url.searchParams.get("tag") ?? undefined;
    return reply(ex, 200, state.log({ model, key, tag }));
  }
  const parsed = parseJson(ex.body);
  if (!parsed.ok) return reply(ex, 400, { error: "body is not JSON" });
  try {
    switch (route) {
      case "POST reset":
        state.reset();
        break;
      case "POST keys":
        each(parsed.value, (item) => state.setKey(parseKeyConfig(item)));
        break;
      case "POST quota":
        each(parsed.value, (item) => state.setQuota(parseQuotaConfig(item)));
        break;
      case "POST script":
        each(parsed.value, (item) => state.script(parseScriptConfig(item)));
        break;
      case "POST model":
        each(parsed.value, (item) => state.setModel(parseModelShape(item)));
        break;
      case "POST config":
        state.configure(parseFakeConfig(parsed.value));
        break;
      default:
        return reply(ex, 404, { error: `unknown control route ${route}` });
    }
  } catch (error) {
    if (error instanceof ControlInputError) return reply(ex, 400, { error: error.message });
    throw error;
  }
  reply(ex, 200, { ok: true });
}

import { createApp } from "../core/app";
import { weakTokenProblem } from "../core/client-auth";
import { readConfig, type ProxyConfig } from "../core/config";
import { keyRingFor, type KeyRing } from "../core/key-ring";
import { RefreshableKeyRing } from "../core/ring-refresh";
import type { RuntimeServices } from "../core/services";

import { workersLiveRuntime } from "./live-runtime";
import { workersStreams } from "./native-streams";

export { ApiKeyManager } from "./api-key-manager";

const app = createApp();

// Deriving an object's id from its name hashes it; profiled under load that was ~5% of
// the proxy's CPU, so the id is derived once per namespace and only the stub made per request.
const poolIds = new WeakMap<DurableObjectNamespace, DurableObjectId>();

/** The one pool every request shares. */
function keyManager(env: Env) {
  const namespace = env.API_KEY_MANAGER;
  let id = poolIds.get(namespace);
  if (id === undefined) {
    id = namespace.idFromName("pool");
    poolIds.set(namespace, id);
  }
  return namespace.get(id);
}

let cachedConfig: { env: Env; config: ProxyConfig } | undefined;
let warnedOpen = false;
let warnedWeak = false;

function configFor(env: Env): ProxyConfig {
  if (cachedConfig?.env !== env) {
    cachedConfig = { env, config: readConfig(env) };
    if (cachedConfig.config.proxyTokens.length === 0 && !warnedOpen) {
      warnedOpen = true;
      console.warn(
        "WARNING: PROXY_API_KEY is not set, so anyone who can reach this proxy can spend your Gemini quota. " +
          "Set it with `npx wrangler secret put PROXY_API_KEY`.",
      );
    }
    // A deployed Worker cannot refuse to start as the Node server does; it says so once per isolate.
    const weak = weakTokenProblem(env);
    if (weak !== null && !warnedWeak) {
      warnedWeak = true;
      console.warn(`WARNING: ${weak} Until then anyone who guesses it can spend your Gemini quota.`);
    }
  }
  return cachedConfig.config;
}

// One ring per process and API_KEYS value, so the runtime keys it learns stay learned.
const rings = new WeakMap<KeyRing, RefreshableKeyRing>();

async function keyRing(env: Env): Promise<RefreshableKeyRing> {
  const envRing = await keyRingFor(env.API_KEYS);
  let ring = rings.get(envRing);
  if (ring === undefined) {
    ring = new RefreshableKeyRing(envRing);
    rings.set(envRing, ring);
  }
  return ring;
}

async function services(env: Env, ctx: ExecutionContext): Promise<RuntimeServices> {
  const config = configFor(env);
  return {
    config,
    keyRing: await keyRing(env),
    keyManager: keyManager(env),
    waitUntil: (promise) => ctx.waitUntil(promise),
    log: (entry) => {
      if (config.logRequests) console.log(JSON.stringify(entry));
    },
    live: workersLiveRuntime,
    streams: workersStreams,
  };
}

export default {
  async fetch(request, env, ctx) {
    return app.fetch(request, { services: await services(env, ctx) }, ctx);
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(keyManager(env).reset("day"));
  },
} satisfies ExportedHandler<Env>;

import adminScript from "./client/admin.client.js";
import apiScript from "./client/api.client.js";
import appScript from "./client/app.client.js";
import bulkScript from "./client/bulk.client.js";
import chartScript from "./client/chart.client.js";
import domScript from "./client/dom.client.js";
import eventsScript from "./client/events.client.js";
import formatScript from "./client/format.client.js";
import healthScript from "./client/health.client.js";
import keyListScript from "./client/key-list.client.js";
import keyTableScript from "./client/key-table.client.js";
import keysScript from "./client/keys.client.js";
import openSessionScript from "./client/open-session.client.js";
import quotaScript from "./client/quota.client.js";
import summaryScript from "./client/summary.client.js";
import styles from "./client/stat.client.css";

// The browser side of /stat is real source files in ./client, ES modules importing each
// other by file name, so editors and ESLint see them as what they are. The bundler
// inlines each file as a string: wrangler.jsonc's `rules` entry makes `*.client.js` and
// `*.client.css` Text modules, which both `wrangler dev`/`deploy` and the vitest
// Workers plugin (it reads the same wrangler.jsonc) honour. Serving them from their
// own URLs is what lets the page run under a CSP without 'unsafe-inline'.

interface Asset {
  body: string;
  contentType: string;
}

const JS = "text/javascript; charset=utf-8";

const ASSETS = {
  "admin.client.js": { body: adminScript, contentType: JS },
  "api.client.js": { body: apiScript, contentType: JS },
  "app.client.js": { body: appScript, contentType: JS },
  "bulk.client.js": { body: bulkScript, contentType: JS },
  "chart.client.js": { body: chartScript, contentType: JS },
  "dom.client.js": { body: domScript, contentType: JS },
  "events.client.js": { body: eventsScript, contentType: JS },
  "format.client.js": { body: formatScript, contentType: JS },
  "health.client.js": { body: healthScript, contentType: JS },
  "key-list.client.js": { body: keyListScript, contentType: JS },
  "key-table.client.js": { body: keyTableScript, contentType: JS },
  "keys.client.js": { body: keysScript, contentType: JS },
  "open-session.client.js": { body: openSessionScript, contentType: JS },
  "quota.client.js": { body: quotaScript, contentType: JS },
  "summary.client.js": { body: summaryScript, contentType: JS },
  "stat.client.css": { body: styles, contentType: "text/css; charset=utf-8" },
} satisfies Record<string, Asset>;

const byName: ReadonlyMap<string, Asset> = new Map(Object.entries(ASSETS));

export const ASSET_PREFIX = "/stat/assets/";

export function assetPath(file: keyof typeof ASSETS): string {
  return ASSET_PREFIX + file;
}

/** A browser file by name; only the names above exist. */
export function findAsset(file: string): Asset | undefined {
  return byName.get(file);
}

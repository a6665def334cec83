import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { en } from "../../src/core/stats/strings-en.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { poolKeys } from "../setup/test-keys.ts";
import { launchChromium, openKey, watch } from "./support/stat-page.ts";

// An open proxy (no PROXY_API_KEY) with ADMIN_API_KEY set: /stat needs no login and is
// read-only for everyone, so the page itself must offer the admin a way to sign in (and
// out again); the login page never shows there.

const ADMIN_TOKEN = "test-admin-token";

let upstream: FakeUpstream;
let proxy: RunningProxy;
let browser: Browser;
let page: Page;
const seen = { dialogs: [] as string[], problems: [] as string[] };

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, vars: { ADMIN_API_KEY: ADMIN_TOKEN } });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" })).newPage();
  watch(page, seen);
}, 120_000);

/** The page comes back from a form post (303 to /stat), whatever the URL was before. */
function reloaded(): Promise<unknown> {
  return page.waitForResponse((response) => response.url() === `${proxy.origin}/stat` && response.request().method() === "GET");
}

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await upstream?.close();
});

describe("/stat on an open proxy with an admin token", () => {
  it("is read-only for anyone, and offers the admin sign-in", async () => {
    await page.goto(`${proxy.origin}/stat`);
    await page.locator(".key-row").first().waitFor();
    await expect.poll(() => page.locator("#role").textContent()).toBe(en.role_viewer);
    expect(await page.locator("#open-warning").count()).toBe(1);
    expect(await page.locator("#mode").textContent()).toBe(`${en.modeSeparate} ${en.viewerOpenNote}`);
    await openKey(page, 1);
    expect(await page.locator("[data-admin], [data-action], #reset").count()).toBe(0);
    expect(await page.locator('.admin-sign-in input[type="password"]').count()).toBe(1);
  });

  it("signs the admin in with ADMIN_API_KEY's token, and out again", async () => {
    await page.locator(".admin-sign-in input").fill(ADMIN_TOKEN);
    await Promise.all([reloaded(), page.locator(".admin-sign-in button").click()]);
    await page.locator('#role[data-role="admin"]').waitFor();
    expect(await page.locator("#role").textContent()).toBe(en.role_admin);
    expect(await page.locator("#verify-all").count()).toBe(1);
    expect(await page.locator(".admin-sign-in").count()).toBe(0);
    await Promise.all([reloaded(), page.locator("#open-session form.logout button").click()]);
    await page.locator('#role[data-role="viewer"]').waitFor();
    expect(await page.locator("[data-admin]").count()).toBe(0);
    expect(seen.problems).toEqual([]);
  });
});

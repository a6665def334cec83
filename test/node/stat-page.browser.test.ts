import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { StatsApiResponse } from "../../src/core/stats-model.ts";
import { en } from "../../src/core/stats/strings-en.ts";
import { zhCN } from "../../src/core/stats/strings-zh-cn.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { leakedKeys, poolKeys, proxyToken } from "../setup/test-keys.ts";
import { backfillHistory } from "./support/backfill-history.ts";
import { desktopContext, keyRow, launchChromium, modelRow, openKey, watch } from "./support/stat-page.ts";

// /stat in a real browser (Debian's Chromium) against the proxy as users run it
// (`wrangler dev`, or the Node server in the node-server project), after traffic that
// exhausts, cools and disables keys — with hostile markup in an upstream error message.
// A small pool, real traffic; the 300-key pool, the admin controls and the README's
// pictures are in stat-page-300.browser.test.ts. Checks are on structure and data
// attributes; where words matter (which language the page speaks) they come from the
// page's own dictionaries (src/core/stats/strings-*.ts), never typed out here. Code that
// runs in the page is passed as a string where it needs DOM globals, which this
// Workers-typed project lacks.

const XSS = `<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>`;

/** Where the pictures go: one folder per runtime, since both runs of this file may overlap. */
const SHOTS = `test-results/${inject("proxyRuntime")}`;

const MODEL = {
  flash: "gemini-2.5-flash",
  lite: "gemini-2.5-flash-lite",
  pro: "gemini-2.5-pro",
  two: "gemini-2.0-flash",
  gemma: "gemma-3-27b-it",
};

let upstream: FakeUpstream;
let proxy: RunningProxy;
let persistTo: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const problems: string[] = [];

async function generate(model: string, prompt: string): Promise<Response> {
  const response = await fetch(`${proxy.origin}/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": proxyToken },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: prompt }] }] }),
  });
  await response.arrayBuffer();
  return response;
}

async function apiStats(): Promise<StatsApiResponse> {
  const response = await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } });
  return (await response.json()) as StatsApiResponse;
}

/** Traffic that leaves every kind of mark: per-day quotas, a per-minute one, a suspended key. */
async function seedTraffic(): Promise<void> {
  upstream.setQuota({ key: poolKeys[0]!, model: MODEL.pro, perDay: 1 });
  upstream.setQuota({ key: poolKeys[2]!, model: MODEL.lite, perDay: 1 });
  upstream.script({ key: poolKeys[3]!, model: MODEL.flash, outcomes: ["ok", "ok", { kind: "quota-minute", retryDelay: "900s" }] });
  // The upstream's words reach the page: here they carry markup that must stay text.
  upstream.script({ key: poolKeys[4]!, model: MODEL.two, outcomes: [{ kind: "quota-day", message: `${XSS} You exceeded your current quota.` }] });
  upstream.script({ key: poolKeys[5]!, model: MODEL.gemma, outcomes: ["suspended"] });

  const plan = [
    ...Array<string>(24).fill(MODEL.flash),
    ...Array<string>(14).fill(MODEL.lite),
    ...Array<string>(12).fill(MODEL.pro),
    ...Array<string>(8).fill(MODEL.two),
    ...Array<string>(6).fill(MODEL.gemma),
  ];
  for (const [index, model] of plan.entries()) {
    const response = await generate(model, `Request ${index}: ${"tell me more about key pools ".repeat(1 + (index % 5))}`);
    expect(response.status, model).toBe(200);
  }
  // Model names come from clients, but only plain ids get through: markup is refused up front.
  expect((await generate(encodeURIComponent("<b>x</b>"), "hi")).status).toBe(400);
  // Usage is counted after each response has ended (waitUntil); let it land.
  for (let i = 0; i < 50 && (await apiStats()).totals.requests < plan.length; i++) await new Promise((r) => setTimeout(r, 100));
}

async function login(target: Page): Promise<void> {
  await target.goto(`${proxy.origin}/stat`);
  await target.locator('input[name="token"]').fill(proxyToken);
  await Promise.all([target.waitForURL(`${proxy.origin}/stat`), target.locator('form[action="/stat/login"] button').click()]);
  await target.locator(".key-row").first().waitFor();
}

const seen = { dialogs, problems };

/** Clicks `tag` in the language switch and waits for the page to come back in it. */
async function switchLanguage(target: Page, tag: string): Promise<void> {
  await Promise.all([
    target.waitForResponse((response) => response.url() === `${proxy.origin}/stat` && response.request().method() === "GET"),
    target.locator(`form.lang-switch button[value="${tag}"]`).click(),
  ]);
  await target.waitForLoadState("load");
  expect(await target.locator("html").getAttribute("lang")).toBe(tag);
}

/** The toggle of `model` in the detail of the key at `position` (opened first). */
async function markOf(target: Page, position: number, model: string) {
  await openKey(target, position);
  return modelRow(target, position, model).locator("button.mark");
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  persistTo = await mkdtemp(join(tmpdir(), "stat-page-"));
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken, persistTo });
  await seedTraffic();
  // Earlier hours and days for the chart, written while the proxy is down, then back up on the same storage.
  await proxy.stop();
  await backfillHistory(proxy, poolKeys);
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken, persistTo });

  browser = await launchChromium();
  context = await desktopContext(browser);
  page = await context.newPage();
  watch(page, seen);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await upstream?.close();
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe("/stat in a browser", () => {
  it("asks for the token, then shows every key masked with today's counts", async () => {
    await page.goto(`${proxy.origin}/stat`);
    expect(await page.locator(".key-row").count()).toBe(0);
    // An en-US browser gets the English page.
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.locator("h1").textContent()).toBe(en.loginTitle);
    await login(page);

    const [cookie] = await context.cookies();
    // The Node server is reached over plain http here: a Secure cookie would be dropped off localhost.
    const overHttps = inject("proxyRuntime") === "workers";
    expect(cookie).toMatchObject({ name: overHttps ? "__Host-stat-session" : "stat-session", httpOnly: true, secure: overHttps, sameSite: "Strict" });
    expect(cookie!.value).not.toContain(proxyToken);

    const stats = await apiStats();
    await expect.poll(() => page.locator(".key-row").count()).toBe(poolKeys.length);
    for (const key of stats.keys) {
      await expect.poll(() => keyRow(page, key.position).locator(".masked").textContent()).toBe(key.masked);
      expect(await keyRow(page, key.position).locator(".status").getAttribute("class")).toContain(`status-${key.status}`);
    }
    // The header counts are the snapshot's, whatever words surround them.
    for (const status of ["available", "cooling", "exhausted", "disabled"] as const) {
      const count = await page.locator(`.status-counts [data-status="${status}"] .count`).textContent();
      expect(Number(count), status).toBe(stats.totals.keys[status]);
    }
    expect(stats.totals.keys).toMatchObject({ available: 1, exhausted: 3, cooling: 1, disabled: 1 });
    expect(await page.locator("#open-warning").count()).toBe(0);
    expect(await page.locator("[data-countdown]").textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
  });

  it("marks exhausted, cooling and disabled, and opens the upstream's reason on a click on the model's name", async () => {
    const exhausted = await markOf(page, 1, MODEL.pro);
    await expect.poll(() => exhausted.locator(".status-exhausted").count()).toBe(1);
    // Anywhere on the row opens it, the model's name included, not only the mark.
    await modelRow(page, 1, MODEL.pro).locator(".model-name").click();
    expect(await exhausted.getAttribute("aria-expanded")).toBe("true");
    const reason = page.locator(`#${await exhausted.getAttribute("aria-controls")} .reason-text`);
    expect(await reason.textContent()).toContain("You exceeded your current quota");

    const cooling = await markOf(page, 4, MODEL.flash);
    expect(await cooling.locator(".status-cooling").count()).toBe(1);
    const left = cooling.locator("[data-until]");
    const before = await left.textContent();
    await expect.poll(() => left.textContent(), { timeout: 3000 }).not.toBe(before);

    expect(await keyRow(page, 6).getAttribute("class")).toContain("key-disabled");
    const detail = await openKey(page, 6);
    expect(await detail.locator(".disabled-reason .reason-text").textContent()).toContain("has been suspended");
  });

  it("keeps hostile text from the upstream inert", async () => {
    const mark = await markOf(page, 5, MODEL.two);
    await mark.click();
    const reason = page.locator(`#${await mark.getAttribute("aria-controls")} .reason-text`);
    expect(await reason.textContent()).toContain(XSS);
    expect(await page.locator(".reason img, .reason script").count()).toBe(0);
    expect(await page.evaluate("window.__xss")).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it("never puts a full pool key in the DOM, the page source, its scripts or its data", async () => {
    const dom = await page.content();
    const source = await (await page.request.get(`${proxy.origin}/stat`)).text();
    const data = await page.evaluate(async () => (await fetch("/api/stats")).text());
    const files = (await readdir("src/core/stats/client")).filter((file) => file.endsWith(".client.js"));
    const scripts = await Promise.all(files.map(async (file) => (await page.request.get(`${proxy.origin}/stat/assets/${file}`)).text()));
    expect(scripts.every((script) => script.startsWith("//")), "every browser file is served").toBe(true);
    const everything = [dom, source, data, ...scripts].join("\n");
    expect(data).toContain("AIza…");
    expect(leakedKeys(everything)).toEqual([]);
  });

  it("draws requests over time per model, for 24 hours and for 30 days", async () => {
    const bars = page.locator("#chart svg g.bar");
    expect(await bars.count()).toBe(24);
    expect(await page.locator("#chart svg rect").count()).toBeGreaterThan(24);
    // Seven models served: the five busiest get a colour, the rest share one.
    expect(await page.locator("#legend li").count()).toBe(6);
    expect(await page.locator("#legend .swatch.series-other").count()).toBe(1);
    await page.locator('[data-range="daily"]').click();
    expect(await bars.count()).toBe(30);
    expect(await page.locator('[data-range="daily"]').getAttribute("aria-pressed")).toBe("true");
    await page.locator('[data-range="hourly"]').click();
  });

  it("refreshes without closing what the user opened", async () => {
    const mark = await markOf(page, 1, MODEL.pro);
    const oldNode = await mark.elementHandle();
    const updated = await page.locator("#updated").textContent();
    // The page refreshes when it becomes visible again, as it does every 15 s.
    await page.evaluate(`document.dispatchEvent(new Event("visibilitychange"))`);
    await expect.poll(async () => (await oldNode!.evaluate((node) => node.isConnected)) === false).toBe(true);
    expect(await mark.getAttribute("aria-expanded")).toBe("true");
    expect(await page.locator("#updated").textContent()).toMatch(/\d/);
    expect(updated).toMatch(/\d/);
  });

  it("looks right in light and dark (screenshots to look at when the page changes)", async () => {
    await (await markOf(page, 5, MODEL.two)).click();
    await mkdir(SHOTS, { recursive: true });
    // Not committed (test-results/ is ignored).
    await page.screenshot({ path: `${SHOTS}/stat-page-small-full.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: `${SHOTS}/stat-page-small-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
    expect(problems).toEqual([]);
  });

  it("fits a 390 px phone without sideways scrolling", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    watch(small, seen);
    await small.goto(`${proxy.origin}/stat`);
    await small.locator(".key-row").first().waitFor();
    await (await markOf(small, 1, MODEL.pro)).click();
    await (await markOf(small, 5, MODEL.two)).click();
    const widths = await small.evaluate<{ scroll: number; client: number }>(
      "({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })",
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(widths.client).toBe(390);
    await small.screenshot({ path: `${SHOTS}/stat-page-small-phone.png` });
    await keyRow(small, 5).scrollIntoViewIfNeeded();
    await small.screenshot({ path: `${SHOTS}/stat-page-small-phone-keys.png` });
    await phone.close();
  });

  it("speaks Simplified Chinese to a zh-CN browser, and switches language on request, remembered across reloads", async () => {
    const zhContext = await desktopContext(browser, "zh-CN");
    const zh = await zhContext.newPage();
    watch(zh, seen);
    await zh.goto(`${proxy.origin}/stat`);
    expect(await zh.locator("html").getAttribute("lang")).toBe("zh-CN");
    expect(await zh.locator("h1").textContent()).toBe(zhCN.loginTitle);
    await zh.screenshot({ path: `${SHOTS}/stat-login.zh-CN.png` });
    // The switch is a plain form: it works on the login page, before any script runs.
    await switchLanguage(zh, "en");
    expect(await zh.locator("h1").textContent()).toBe(en.loginTitle);
    await switchLanguage(zh, "zh-CN");
    await login(zh);

    // Words from the server's HTML and words the script draws come from the same dictionary.
    expect(await zh.locator(".brand h1").textContent()).toBe(zhCN.title);
    expect(await zh.locator("#chart-heading").textContent()).toBe(zhCN.chartHeading);
    expect(await zh.locator('form.lang-switch button[aria-pressed="true"]').textContent()).toBe(zhCN.languageName);
    expect(await zh.locator(".card-requests .card-title").textContent()).toBe(zhCN.requestsToday);
    expect(await zh.locator('.status-counts [data-status="exhausted"]').textContent()).toContain(zhCN.status_exhausted);
    expect(await (await openKey(zh, 1)).locator(".models thead th").first().textContent()).toBe(zhCN.colModel);
    expect(await zh.locator("#health thead th").first().textContent()).toBe(zhCN.colModel);

    await switchLanguage(zh, "en");
    await zh.locator(".key-row").first().waitFor();
    expect(await zh.locator(".brand h1").textContent()).toBe(en.title);
    expect(await zh.locator(".card-requests .card-title").textContent()).toBe(en.requestsToday);
    expect(await zhContext.cookies()).toContainEqual(expect.objectContaining({ name: "stat-lang", value: "en", httpOnly: true }));

    // The choice outlives a reload, though the browser still asks for Chinese.
    await zh.reload();
    await zh.locator(".key-row").first().waitFor();
    expect(await zh.locator("html").getAttribute("lang")).toBe("en");
    expect(await zh.locator(".card-requests .card-title").textContent()).toBe(en.requestsToday);

    await switchLanguage(zh, "zh-CN");
    await zh.locator(".key-row").first().waitFor();
    expect(await zh.locator(".card-requests .card-title").textContent()).toBe(zhCN.requestsToday);
    expect(problems).toEqual([]);
    await zhContext.close();
  });

  it("resets every mark after a confirm, then logs out", async () => {
    await page.locator("#reset").click();
    expect(dialogs).toEqual([expect.stringMatching(/^confirm: /)]);
    await expect.poll(() => page.locator('.status-counts [data-status="exhausted"] .count').textContent()).toBe("0");
    expect(await page.locator('.status-counts [data-status="disabled"] .count').textContent()).toBe("0");
    expect(await page.locator("#key-table button.mark").count()).toBe(0);
    expect(new Set(await page.locator("#health .count-exhausted").allTextContents())).toEqual(new Set(["0"]));

    await Promise.all([page.waitForURL(`${proxy.origin}/stat`), page.locator("form.logout button").click()]);
    expect(await page.locator('input[name="token"]').count()).toBe(1);
    expect(await context.cookies()).toEqual([]);
    expect(problems).toEqual([]);
  });
});

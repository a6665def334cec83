import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { en } from "../../src/core/stats/strings-en.ts";
import { zhCN } from "../../src/core/stats/strings-zh-cn.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { generatedPoolKeys, leakedKeyFragments, proxyToken } from "../setup/test-keys.ts";
import { backfillHistory } from "./support/backfill-history.ts";
import { seedPool, type PoolPlan } from "./support/seed-pool.ts";
import { desktopContext, hasCjkFont, keyRow, launchChromium, modelRow, openKey, watch } from "./support/stat-page.ts";

// /stat with a pool of 300 keys (API_KEYS) after a busy day: most keys out of quota for
// one model, a few cooling on another, some that Google calls invalid. The page must
// answer "is my pool healthy?" on its first screen, find any key in a few keystrokes,
// stay a page long instead of 300 cards, and give the admin (ADMIN_API_KEY is set here)
// the controls to clean the pool up, while a proxy-token holder only reads. Expected
// numbers come from the plan below, and the page is checked against /api/stats as well.

// A test run must leave the tree clean: the READMEs' pictures are refreshed only on request.
const UPDATE_README = process.env.UPDATE_README_SCREENSHOT === "1";
const SCREENSHOT = UPDATE_README ? "docs/stat-page.png" : "test-results/stat-page.png";
const SCREENSHOT_ZH = UPDATE_README ? "docs/stat-page.zh-CN.png" : "test-results/stat-page.zh-CN.png";

const POOL = generatedPoolKeys(300, 300);
/**
 * Project groups as people with many keys have them: ten keys a project for the first 180
 * positions (all out of PRO's quota in the plan below, so sharing a project's budget changes
 * no key's status), the rest in none. API_KEYS says it as `group:key`.
 */
const GROUP_SIZE = 10;
const GROUPED = 180;
const groupAt = (position: number): string | undefined =>
  position <= GROUPED ? `Project-${String(Math.ceil(position / GROUP_SIZE)).padStart(2, "0")}` : undefined;
const API_KEYS = POOL.map((key, index) => {
  const group = groupAt(index + 1);
  return group === undefined ? key : `${group}:${key}`;
});
const ADMIN_TOKEN = "test-admin-token";
const PRO = "gemini-2.5-pro";
const FLASH = "gemini-2.5-flash";
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const PLAN: PoolPlan = {
  exhausted: range(1, 190),
  exhaustedModel: PRO,
  cooling: range(200, 214),
  coolingModel: FLASH,
  invalid: [17, 53, 101, 177, 240, 288],
};

// A disabled key counts as disabled whatever its marks; an exhausted one as exhausted.
const invalid = new Set(PLAN.invalid);
const EXPECTED = {
  disabled: invalid.size,
  exhausted: PLAN.exhausted.filter((position) => !invalid.has(position)).length,
  cooling: PLAN.cooling.filter((position) => !invalid.has(position)).length,
};
const AVAILABLE = POOL.length - EXPECTED.disabled - EXPECTED.exhausted - EXPECTED.cooling;

/** Keys the admin pastes: one Google accepts, one it calls invalid. Not in POOL. */
const [ADDED_VALID, ADDED_INVALID] = generatedPoolKeys(2, 4242);

let upstream: FakeUpstream;
let proxy: RunningProxy;
let persistTo: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const problems: string[] = [];

const masked = (key: string): string => `${key.slice(0, 4)}…${key.slice(-4)}`;

const seen = { dialogs, problems };

async function signIn(target: BrowserContext, token: string): Promise<Page> {
  const signedIn = await target.newPage();
  watch(signedIn, seen);
  await signedIn.goto(`${proxy.origin}/stat`);
  await signedIn.locator('input[name="token"]').fill(token);
  await Promise.all([signedIn.waitForURL(`${proxy.origin}/stat`), signedIn.locator('form[action="/stat/login"] button').click()]);
  await signedIn.locator(".key-row").first().waitFor();
  return signedIn;
}

async function apiStats(): Promise<{ totals: { requests: number; keys: Record<string, number> }; models?: Record<string, Record<string, number>> }> {
  const response = await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } });
  return (await response.json()) as Awaited<ReturnType<typeof apiStats>>;
}

/** The numbers of the health table's row for `model`, by column. */
async function healthRow(target: Page, model: string): Promise<Record<string, number>> {
  const row = target.locator(`#health tr[data-model="${model}"]`);
  const read = async (name: string): Promise<number> => Number((await row.locator(`.count-${name}`).textContent())!.replace(/\D/g, ""));
  return { available: await read("available"), cooling: await read("cooling"), exhausted: await read("exhausted"), disabled: await read("disabled") };
}

async function shownPositions(target: Page): Promise<number[]> {
  return (await target.locator("#key-table .key-row").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-position")))).map(Number);
}

const pagerTotal = async (target: Page): Promise<number> => Number(await target.locator("#key-pager .page-range").getAttribute("data-total"));

async function search(target: Page, text: string): Promise<void> {
  await target.locator("#key-search").fill(text);
  await expect.poll(() => target.locator("#key-pager .page-range").getAttribute("data-total")).not.toBe(String(POOL.length));
}

async function clearSearch(target: Page): Promise<void> {
  await target.locator("#key-search").fill("");
  await expect.poll(() => pagerTotal(target)).toBeGreaterThanOrEqual(POOL.length);
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // Google itself refuses the keys the plan calls invalid, so a verification agrees.
  for (const position of PLAN.invalid) upstream.setKey({ key: POOL[position - 1]!, invalid: true });
  upstream.setKey({ key: ADDED_INVALID!, invalid: true });
  persistTo = await mkdtemp(join(tmpdir(), "stat-page-300-"));
  const options = { runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: API_KEYS, proxyToken, persistTo, vars: { ADMIN_API_KEY: ADMIN_TOKEN } };
  proxy = await startProxy(options);
  // One request creates the Durable Object's storage with the 300 keys in it.
  const first = await fetch(`${proxy.origin}/v1beta/models/${FLASH}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": proxyToken },
    body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
  });
  expect(first.status).toBe(200);
  for (let i = 0; i < 50 && (await apiStats()).totals.requests < 1; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  await proxy.stop();
  await seedPool(proxy, API_KEYS, PLAN);
  await backfillHistory(proxy, API_KEYS);
  proxy = await startProxy(options);

  browser = await launchChromium();
  context = await desktopContext(browser);
  page = await signIn(context, ADMIN_TOKEN);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await upstream?.close();
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe("/stat with 300 keys", () => {
  it("answers 'is my pool healthy?' on the first screen, per model", async () => {
    const stats = await apiStats();
    expect(stats.totals.keys).toMatchObject({ total: POOL.length, available: AVAILABLE, ...EXPECTED });
    for (const status of ["available", "cooling", "exhausted", "disabled"]) {
      expect(Number(await page.locator(`.status-counts [data-status="${status}"] .count`).textContent()), status).toBe(stats.totals.keys[status]);
      expect(await page.locator(`[data-filter="${status}"] .filter-count`).textContent(), status).toBe(String(stats.totals.keys[status]));
    }
    const pro = await healthRow(page, PRO);
    expect(pro).toEqual({ available: POOL.length - EXPECTED.disabled - EXPECTED.exhausted, cooling: 0, exhausted: EXPECTED.exhausted, disabled: EXPECTED.disabled });
    const flash = await healthRow(page, FLASH);
    expect(flash).toEqual({ available: POOL.length - EXPECTED.disabled - EXPECTED.cooling, cooling: EXPECTED.cooling, exhausted: 0, disabled: EXPECTED.disabled });
    // The proxy's own per-model counts say the same.
    if (stats.models !== undefined) expect(stats.models[PRO]).toMatchObject(pro);
    // When the next key frees up: the cooling keys wait out Google's 30-minute retryDelay.
    expect(await page.locator(`#health tr[data-model="${FLASH}"] .next-free [data-until]`).textContent()).toMatch(/^(29|30)m \d\ds$/);
    // The health of every model is on the first screen, without scrolling.
    const box = await page.locator("#health").boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(900);
  });

  it("lists the keys a page at a time: a page long, not a column of 300 cards", async () => {
    expect(await page.locator("#key-table .key-row").count()).toBe(50);
    expect(await pagerTotal(page)).toBe(POOL.length);
    expect(await shownPositions(page)).toEqual(range(1, 50));
    const height = await page.evaluate<number>("document.documentElement.scrollHeight");
    expect(height).toBeLessThan(5000);
    await page.locator('#key-pager [data-page="next"]').click();
    await expect.poll(() => shownPositions(page)).toEqual(range(51, 100));
    await page.locator('#key-pager [data-page="prev"]').click();
    await expect.poll(() => shownPositions(page)).toEqual(range(1, 50));
  });

  it("filters by status, across pages", async () => {
    await page.locator('[data-filter="exhausted"]').click();
    await expect.poll(() => pagerTotal(page)).toBe(EXPECTED.exhausted);
    const statuses = await page.locator("#key-table .key-row .status").evaluateAll((labels) => labels.map((label) => label.className));
    expect(statuses).toHaveLength(50);
    expect(statuses.every((name) => name.includes("status-exhausted"))).toBe(true);
    for (let shown = 50; shown < EXPECTED.exhausted; shown += 50) await page.locator('#key-pager [data-page="next"]').click();
    await expect.poll(() => page.locator("#key-table .key-row").count()).toBe(EXPECTED.exhausted % 50);
    await page.locator('[data-filter="disabled"]').click();
    await expect.poll(() => shownPositions(page)).toEqual(PLAN.invalid);
    await page.locator('[data-filter=""]').click();
    await expect.poll(() => pagerTotal(page)).toBe(POOL.length);
    expect(await shownPositions(page)).toEqual(range(1, 50));
  });

  it("finds a key by its masked ending or by its position", async () => {
    const position = 123;
    const ending = POOL[position - 1]!.slice(-4);
    const sameEnding = POOL.filter((key) => key.endsWith(ending)).length;
    await search(page, ending);
    await expect.poll(() => shownPositions(page)).toContain(position);
    expect(await pagerTotal(page)).toBe(sameEnding);
    expect(await keyRow(page, position).locator(".masked").textContent()).toBe(masked(POOL[position - 1]!));
    await search(page, "#277");
    await expect.poll(() => shownPositions(page)).toContain(277);
    await clearSearch(page);
  });

  it("finds a project's keys by typing part of its group's name, in any case", async () => {
    await search(page, "project-07");
    await expect.poll(() => shownPositions(page)).toEqual(range(61, 70));
    expect(new Set(await page.locator("#key-table .key-row .group-col").allTextContents())).toEqual(new Set(["Project-07"]));
    // Every project: the 180 grouped keys and no other, over several pages.
    await search(page, "PROJECT");
    await expect.poll(() => pagerTotal(page)).toBe(GROUPED);
    expect(await shownPositions(page)).toEqual(range(1, 50));
    await clearSearch(page);
  });

  it("sorts by requests today, both ways", async () => {
    const requests = async (): Promise<number[]> =>
      (await page.locator("#key-table .key-row .requests-col").allTextContents()).map((text) => Number(text.replace(/\D/g, "")));
    await page.locator('#key-table [data-sort="requests"]').click();
    await expect.poll(() => page.locator('#key-table th[aria-sort="ascending"] [data-sort="requests"]').count()).toBe(1);
    const ascending = await requests();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('#key-table [data-sort="requests"]').click();
    await expect.poll(() => page.locator('#key-table th[aria-sort="descending"] [data-sort="requests"]').count()).toBe(1);
    const descending = await requests();
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    expect(descending[0]).toBeGreaterThan(ascending[0]!);
    await page.locator('#key-table [data-sort="position"]').click();
    await expect.poll(() => shownPositions(page)).toEqual(range(1, 50));
  });

  it("reveals Google's reason on a click on an exhausted model's name", async () => {
    await openKey(page, 1);
    const row = modelRow(page, 1, PRO);
    expect(await row.locator(".status-exhausted").count()).toBe(1);
    await row.locator(".model-name").click();
    const mark = row.locator("button.mark");
    expect(await mark.getAttribute("aria-expanded")).toBe("true");
    const reason = page.locator(`#${await mark.getAttribute("aria-controls")} .reason-text`);
    expect(await reason.textContent()).toContain("You exceeded your current quota");
    expect(await reason.textContent()).toContain(`model: ${PRO}`);
  });

  it("looks right: the README's pictures of a 300-key pool", async () => {
    if (UPDATE_README) expect(hasCjkFont(), "the README pictures need a CJK font (Debian: apt-get install fonts-noto-cjk)").toBe(true);
    await mkdir("test-results", { recursive: true });
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: SCREENSHOT, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    // Not committed (test-results/ is ignored): the whole page and dark mode, to look at when the page changes.
    await page.screenshot({ path: "test-results/stat-page-300-full.png", fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: "test-results/stat-page-300-dark.png", fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    await page.emulateMedia({ colorScheme: "light" });

    const zhContext = await desktopContext(browser, "zh-CN");
    const zh = await signIn(zhContext, ADMIN_TOKEN);
    expect(await zh.locator("#health-heading").textContent()).toBe(zhCN.healthHeading);
    expect(await zh.locator("#key-table th.status-col").textContent()).toBe(zhCN.colStatus);
    await openKey(zh, 1);
    await modelRow(zh, 1, PRO).locator(".model-name").click();
    await zh.screenshot({ path: SCREENSHOT_ZH, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    await zhContext.close();
    expect(problems).toEqual([]);
  });

  it("fits a 390 px phone without sideways scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2, storageState: await context.storageState() });
    const small = await phone.newPage();
    watch(small, seen);
    await small.goto(`${proxy.origin}/stat`);
    await small.locator(".key-row").first().waitFor();
    await openKey(small, 1);
    await modelRow(small, 1, PRO).locator(".model-name").click();
    const widths = await small.evaluate<{ scroll: number; client: number }>(
      "({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })",
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await small.screenshot({ path: "test-results/stat-page-300-phone.png" });
    await small.locator("#keys-heading").scrollIntoViewIfNeeded();
    await small.screenshot({ path: "test-results/stat-page-300-phone-keys.png" });
    await phone.close();
  });

  it("shows a proxy-token holder no admin controls, and the proxy refuses their changes", async () => {
    const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
    const viewer = await signIn(viewerContext, proxyToken);
    await expect.poll(() => viewer.locator("#role").textContent()).toBe(en.role_viewer);
    expect(await viewer.locator("#mode").textContent()).toContain(en.modeSeparate);
    expect(await viewer.locator("#mode").textContent()).toContain(en.viewerNote);
    await openKey(viewer, 1);
    expect(await viewer.locator("[data-admin], [data-action], [data-bulk], #reset, #verify-all, textarea").count()).toBe(0);
    // The proxy refuses a viewer's change whatever the page shows: 403, naming the admin token.
    const refused = await viewer.evaluate<{ status: number; body: string }>(
      `fetch("/api/keys", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ keys: ["AIzaSyViewerCannotAddThisKey000000000000"] }) }).then(async (r) => ({ status: r.status, body: await r.text() }))`,
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("ADMIN_API_KEY");
    await viewerContext.close();
    // The browser logs that refused request as an error; it was the point here, so it is no problem.
    const logged = problems.findIndex((problem) => problem.includes("status of 403"));
    expect(logged).toBeGreaterThanOrEqual(0);
    problems.splice(logged, 1);
    // The admin sees the controls, and which mode is on.
    expect(await page.locator("#role").textContent()).toBe(en.role_admin);
    expect(await page.locator("#mode").textContent()).toBe(en.modeSeparate);
    expect(await page.locator("#verify-all").count()).toBe(1);
  });

  it("lets the admin add keys from the paste box, each verified before it serves", async () => {
    await page.locator(".add-keys-box > summary").click();
    // One valid, one Google refuses, one already in the pool, one that cannot be a key.
    await page.locator(".add-keys textarea").fill(`${ADDED_VALID}\n${ADDED_INVALID}, ${POOL[5]}\nключ`);
    await page.locator(".add-keys button[type=submit]").click();
    const result = en.addKeysResult.replace("{added}", "2").replace("{duplicates}", "1").replace("{rejected}", "1");
    await expect.poll(() => page.locator("#action-status").textContent()).toBe(result);
    expect(await page.locator(".add-keys textarea").inputValue()).toBe("");
    expect(await page.locator(".add-keys .rejected li").count()).toBe(1);

    await expect.poll(() => pagerTotal(page)).toBe(POOL.length + 2);
    const validPosition = POOL.length + 1;
    await search(page, `#${validPosition}`);
    await expect.poll(() => keyRow(page, validPosition).locator(".masked").textContent()).toBe(masked(ADDED_VALID!));
    expect(await keyRow(page, validPosition).locator(".source-col").textContent()).toMatch(/^Added /);
    // The invalid one joins disabled, with Google's reason, once its verification is done.
    await search(page, `#${validPosition + 1}`);
    await expect.poll(() => keyRow(page, validPosition + 1).locator(".status").getAttribute("class"), { timeout: 20_000 }).toContain("status-disabled");
    const detail = await openKey(page, validPosition + 1);
    await expect.poll(() => detail.locator(".disabled-reason .reason-text").textContent()).toContain("API key not valid");
  });

  it("disables, enables and verifies one key from its detail", async () => {
    const position = POOL.length + 1;
    await search(page, `#${position}`);
    let detail = await openKey(page, position);
    await detail.locator('[data-action="disable"]').click();
    await expect.poll(() => keyRow(page, position).locator(".status").getAttribute("class")).toContain("status-disabled");
    detail = await openKey(page, position);
    expect(await detail.locator(".disabled-reason .reason-label").textContent()).toBe(en.disabledBy_operator);
    await detail.locator('[data-action="enable"]').click();
    await expect.poll(() => keyRow(page, position).locator(".status").getAttribute("class")).toContain("status-available");
    detail = await openKey(page, position);
    await detail.locator('[data-action="verify"]').click();
    await expect.poll(() => page.locator("#action-status").textContent()).toBe(`${masked(ADDED_VALID!)}: ${en.outcome_valid}`);
    await clearSearch(page);
  });

  it("cleans out every added key Google calls invalid in one action, keeping API_KEYS keys", async () => {
    await page.locator('[data-filter="disabled"]').click();
    await expect.poll(() => pagerTotal(page)).toBe(EXPECTED.disabled + 1);
    dialogs.length = 0;
    await page.locator('[data-bulk="delete"]').click();
    await expect.poll(() => pagerTotal(page)).toBe(EXPECTED.disabled);
    expect(dialogs).toEqual([expect.stringMatching(/^confirm: /)]);
    expect(await shownPositions(page)).toEqual(PLAN.invalid);
    await page.locator('[data-filter=""]').click();
    await expect.poll(() => pagerTotal(page)).toBe(POOL.length + 1);
  });

  it("verifies every key with the job's progress, within the Free plan's limits", async () => {
    const started = page.waitForResponse((response) => response.url().endsWith("/api/keys/verify") && response.request().method() === "POST");
    await page.locator("#verify-all").click();
    expect((await started).status()).toBe(202);
    // The line shows this job (every key: the earlier jobs checked one or two) until it ends.
    await expect.poll(() => page.locator(".job progress").getAttribute("max")).toBe(String(POOL.length + 1));
    await expect.poll(() => page.locator('.job-text[data-running="false"]').count(), { timeout: 120_000, interval: 500 }).toBe(1);
    expect(await page.locator(".job progress").getAttribute("value")).toBe(String(POOL.length + 1));
    expect(await page.locator('.job [data-outcome="invalid"]').textContent()).toContain(String(PLAN.invalid.length));
    expect(await page.locator('.job [data-outcome="valid"]').textContent()).toContain(String(POOL.length + 1 - PLAN.invalid.length));
  }, 150_000);

  it("shows the events newest first, filtered by kind and key", async () => {
    await page.locator("#events .events-table").waitFor();
    const times = await page.locator("#events tbody .time-col").evaluateAll((cells) => cells.map((cell) => Date.parse(cell.getAttribute("title")!)));
    expect(times.length).toBeGreaterThan(0);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    await page.locator('#event-filters select[name="kind"]').selectOption("added");
    await expect.poll(async () => new Set(await page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-kind"))))).toEqual(new Set(["added"]));
    await page.locator('#event-filters select[name="kind"]').selectOption("");
    await page.locator('#event-filters input[name="key"]').fill(`#${POOL.length + 1}`);
    await expect.poll(async () => new Set(await page.locator("#events tbody .key-col .masked").allTextContents())).toEqual(new Set([masked(ADDED_VALID!)]));
    const kinds = await page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-kind")));
    expect(kinds).toEqual(expect.arrayContaining(["added", "disabled", "enabled", "verified"]));
  });

  it("never shows a full key: not in the DOM, the page's data or the events", async () => {
    const dom = await page.content();
    const data = await page.evaluate(async () =>
      (await Promise.all(["/api/stats", "/api/keys?limit=500", "/api/keys?offset=300&limit=500", "/api/events?limit=500"].map(async (path) => (await fetch(path)).text()))).join("\n"),
    );
    const everything = `${dom}\n${data}`;
    expect(data).toContain("AIza…");
    // Not even a part of one: any 12 characters in a row of a key would be key material.
    expect(leakedKeyFragments(everything, 12, [...POOL, ADDED_VALID!, ADDED_INVALID!])).toEqual([]);
    expect(problems).toEqual([]);
  });
});

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KeyListPage, StatsApiResponse } from "../../src/core/stats-model.ts";
import { en } from "../../src/core/stats/strings-en.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { generatedPoolKeys, leakedKeyFragments, poolKeys, proxyToken } from "../setup/test-keys.ts";
import { desktopContext, keyRow, launchChromium, openKey, signInWith, stopAll } from "./support/stat-page.ts";

// Project groups on /stat, and bulk actions on a pool bigger than one request may carry
// (the admin API takes 2,000 ids per call): 4,500 keys added at runtime next to the
// API_KEYS ones. The admin sets a key's group from its detail, every matched key's group
// at once, filters and sorts by group, and disables every key a filter matches; the page
// sends the selection in parts and never meets a 413. Typing part of a group's name in the
// search finds its keys, and a bulk action then acts on exactly those.

const ADDED = generatedPoolKeys(4_500, 1212);
const TOTAL = poolKeys.length + ADDED.length;
const ADD_CHUNK = 2_000;
/** Keys moved into a group that is then found by searching: more than one bulk request carries. */
const SEARCHED = 2_100;

let upstream: FakeUpstream;
let proxy: RunningProxy;
let persistTo: string;
let browser: Browser;
let page: Page;
/** What the page's prompts are answered with, in order; confirms are accepted. */
const answers: string[] = [];
const dialogs: string[] = [];
const problems: string[] = [];
/** Status of every bulk call the page made. */
const bulkStatuses: number[] = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${proxy.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${proxyToken}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  expect(response.status, `${method} ${path}`).toBe(200);
  return (await response.json()) as T;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  persistTo = await mkdtemp(join(tmpdir(), "stat-groups-"));
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken, persistTo });
  for (let start = 0; start < ADDED.length; start += ADD_CHUNK) {
    const result = await api<{ added: unknown[] }>("POST", "/api/keys", { keys: ADDED.slice(start, start + ADD_CHUNK), verify: false });
    expect(result.added).toHaveLength(Math.min(ADD_CHUNK, ADDED.length - start));
  }

  browser = await launchChromium();
  page = await (await desktopContext(browser)).newPage();
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void (dialog.type() === "prompt" ? dialog.accept(answers.shift() ?? "") : dialog.accept());
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === "/api/keys/bulk") bulkStatuses.push(response.status());
  });
  await signInWith(page, proxy.origin, proxyToken, ".key-row");
}, 240_000);

afterAll(() => stopAll({ browser, proxy, upstream, persistTo }));

const pagerTotal = async (): Promise<number> => Number(await page.locator("#key-pager .page-range").getAttribute("data-total"));
const groupCell = (position: number) => keyRow(page, position).locator(".group-col");
const actionLine = () => page.locator("#action-status").textContent();
const resultLine = (action: string, done: number, skipped: number): string =>
  en.bulkResult.replace("{action}", action).replace("{done}", done.toLocaleString("en-US")).replace("{skipped}", skipped.toLocaleString("en-US"));

describe("project groups and big selections on /stat", () => {
  it("shows each key's group in a column of its own, and sets one key's group from its detail", async () => {
    expect(await page.locator("#key-table thead .group-col").textContent()).toBe(en.colGroup);
    expect(await pagerTotal()).toBe(TOTAL);
    const position = poolKeys.length + 1;
    expect(await groupCell(position).textContent()).toBe(en.groupNone);
    // An API_KEYS key's group is the secret's: no button, the hint says where to change it.
    const envDetail = await openKey(page, 1);
    expect(await envDetail.locator('[data-action="group"]').count()).toBe(0);
    expect(await envDetail.locator(".hint").textContent()).toContain(en.envGroupHint);

    answers.push("alpha");
    await (await openKey(page, position)).locator('[data-action="group"]').click();
    await expect.poll(() => groupCell(position).textContent(), { timeout: 10_000 }).toBe("alpha");
    expect(dialogs.at(-1)).toMatch(/^prompt: /);
    expect(await page.locator('#key-group option[value="alpha"]').textContent()).toBe("alpha (1)");
  });

  it("moves every matched key into a group in parts of at most 2,000, skipping the API_KEYS keys", async () => {
    answers.push("big");
    await page.locator('[data-bulk="group"]').click();
    await expect.poll(actionLine, { timeout: 30_000 }).toBe(resultLine(en.bulkGroup, ADDED.length, poolKeys.length));
    expect(bulkStatuses).toEqual([200, 200, 200]);
    const big = await api<KeyListPage>("GET", "/api/keys?group=big&limit=1");
    expect(big.total).toBe(ADDED.length);
    expect(big.groups).toEqual([{ name: "big", keys: ADDED.length }]);
  });

  it("filters and sorts by group on the server, a page at a time", async () => {
    await expect.poll(() => page.locator('#key-group option[value="big"]').count()).toBe(1);
    await page.locator("#key-group").selectOption("-");
    await expect.poll(pagerTotal).toBe(poolKeys.length);
    await page.locator("#key-group").selectOption("big");
    await expect.poll(pagerTotal).toBe(ADDED.length);
    expect(await page.locator(".key-row").count()).toBe(50);
    expect(new Set(await page.locator(".key-row .group-col").allTextContents())).toEqual(new Set(["big"]));
    await page.locator("#key-group").selectOption("");
    await page.locator('#key-table [data-sort="group"]').click();
    await expect.poll(() => page.locator('#key-table th.group-col').getAttribute("aria-sort")).toBe("ascending");
    expect(await groupCell(poolKeys.length + 1).textContent()).toBe("big");
  });

  it("disables every key a filter matches, more than one request carries", async () => {
    await page.locator("#key-group").selectOption("big");
    await expect.poll(pagerTotal).toBe(ADDED.length);
    bulkStatuses.length = 0;
    await page.locator('[data-bulk="disable"]').click();
    await expect.poll(actionLine, { timeout: 30_000 }).toBe(resultLine(en.bulkDisable, ADDED.length, 0));
    expect(bulkStatuses).toEqual([200, 200, 200]);
    const stats = await api<StatsApiResponse>("GET", "/api/stats?keys=none");
    expect(stats.totals.keys.disabled).toBe(ADDED.length);
    expect(stats.totals.keys.available).toBe(poolKeys.length);
    expect(dialogs.filter((dialog) => dialog.startsWith("confirm: "))).toHaveLength(1);
    expect(leakedKeyFragments(await page.content(), 12, [...poolKeys, ...ADDED.slice(0, 200)])).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("finds a group's keys by part of its name in any case, and a bulk action acts on exactly those", async () => {
    const ids: string[] = [];
    for (let offset = 0; ids.length < SEARCHED; offset += 500) {
      ids.push(...(await api<KeyListPage>("GET", `/api/keys?group=big&limit=500&offset=${offset}`)).keys.map((key) => key.id));
    }
    const moving = ids.slice(0, SEARCHED);
    for (let start = 0; start < moving.length; start += ADD_CHUNK) {
      await api("POST", "/api/keys/bulk", { action: "group", ids: moving.slice(start, start + ADD_CHUNK), group: "Proj.Search" });
    }
    await page.locator("#key-group").selectOption("");
    // A "." no masked key has, in other letters' case than the name: only the group can match.
    await page.locator("#key-search").fill("proj.SEARCH");
    await expect.poll(pagerTotal).toBe(SEARCHED);
    expect(await page.locator(".key-row").count()).toBe(50);
    expect(new Set(await page.locator(".key-row .group-col").allTextContents())).toEqual(new Set(["Proj.Search"]));

    bulkStatuses.length = 0;
    await page.locator('[data-bulk="enable"]').click();
    await expect.poll(actionLine, { timeout: 30_000 }).toBe(resultLine(en.bulkEnable, SEARCHED, 0));
    expect(bulkStatuses).toEqual([200, 200]);
    const enabled = await api<KeyListPage>("GET", "/api/keys?status=available&limit=500");
    expect(enabled.total).toBe(poolKeys.length + SEARCHED);
    expect((await api<KeyListPage>("GET", "/api/keys?status=available&group=Proj.Search&limit=1")).total).toBe(SEARCHED);
    expect((await api<StatsApiResponse>("GET", "/api/stats?keys=none")).totals.keys.disabled).toBe(ADDED.length - SEARCHED);

    await page.locator("#key-search").fill("");
    await expect.poll(pagerTotal).toBe(TOTAL);
    expect(problems).toEqual([]);
  });
});

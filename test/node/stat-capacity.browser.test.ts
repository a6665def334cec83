import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { quotaDay } from "../../src/core/pacific-time.ts";
import type { StatsApiResponse } from "../../src/core/stats-model.ts";
import { en } from "../../src/core/stats/strings-en.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream/index.ts";
import { keyStoreFile } from "../setup/key-store-file.ts";
import { startProxy, type RunningProxy } from "../setup/start-proxy.ts";
import { leakedKeys, poolKeys, proxyToken } from "../setup/test-keys.ts";
import { desktopContext, launchChromium, signInWith, stopAll, watch } from "./support/stat-page.ts";

// The capacity panel of /stat ("N of M requests left today", "limit not yet known", the
// per-minute headroom) in a real browser against `wrangler dev`, with every figure taken
// from the fake upstream's own quotas and counts. Google only names a per-day limit when
// it is reached, so the first day teaches the limits; then, as at Pacific midnight, the
// counts start over (Google's and the proxy's) while the learned limits stay, and the
// second day's page shows what is left of them.

const DAY = "gemini-2.5-flash";
const MINUTE = "gemini-2.0-flash";
const UNKNOWN = "gemini-2.5-pro";
const [teamA, teamB, ...singles] = poolKeys as [string, string, ...string[]];
/** Two keys of one Google project, written as a group in API_KEYS; the others alone. */
const API_KEYS = [`team:${teamA}`, `team:${teamB}`, ...singles];
const PROJECT = "team-project";
const TEAM_PER_DAY = 4;
const SINGLE_PER_DAY = 3;
const PER_MINUTE = 2;
/** Groups: the team, and each single key. */
const GROUPS = 1 + singles.length;
const DAILY_LIMIT = TEAM_PER_DAY + singles.length * SINGLE_PER_DAY;

let upstream: FakeUpstream;
let proxy: RunningProxy;
let persistTo: string;
let browser: Browser;
let page: Page;
const seen = { dialogs: [] as string[], problems: [] as string[] };

/** Google's quotas for a day: the team's shared by its two keys. */
function configureUpstream(): void {
  for (const key of [teamA, teamB]) upstream.setKey({ key, project: PROJECT });
  upstream.setQuota({ project: PROJECT, model: DAY, perDay: TEAM_PER_DAY });
  upstream.setQuota({ project: PROJECT, model: MINUTE, perMinute: { limit: PER_MINUTE } });
  for (const key of singles) {
    upstream.setQuota({ key, model: DAY, perDay: SINGLE_PER_DAY });
    upstream.setQuota({ key, model: MINUTE, perMinute: { limit: PER_MINUTE } });
  }
}

async function generate(model: string): Promise<number> {
  const response = await fetch(`${proxy.origin}/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": proxyToken },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "how much is left?" }] }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function apiStats(): Promise<StatsApiResponse> {
  const response = await fetch(`${proxy.origin}/api/stats`, { headers: { authorization: `Bearer ${proxyToken}` } });
  return (await response.json()) as StatsApiResponse;
}

/** Until the proxy has counted `served` requests of `model` (usage lands after each response). */
async function counted(model: string, served: number): Promise<void> {
  await vi.waitUntil(async () => (await apiStats()).capacity[model]?.requestsToday === served, { timeout: 10_000, interval: 100 });
}

const successes = (model: string): number =>
  Object.values(upstream.log({ model }).successes).reduce((sum, perModel) => sum + (perModel[model] ?? 0), 0);

const fill = (text: string, values: Record<string, string | number>): string =>
  text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name]));

/** Pacific midnight: Google's day counts start over; the proxy's stored day turns to yesterday and the daily reset lifts its marks. */
async function nextDay(): Promise<void> {
  await proxy.stop();
  const db = new DatabaseSync(await keyStoreFile(proxy));
  try {
    db.prepare("UPDATE usage_daily SET day = ?").run(quotaDay(Date.now() - 86_400_000));
    db.exec("DELETE FROM marks");
  } finally {
    db.close();
  }
  upstream.reset();
  configureUpstream();
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: API_KEYS, proxyToken, persistTo });
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  configureUpstream();
  persistTo = await mkdtemp(join(tmpdir(), "stat-capacity-"));
  proxy = await startProxy({ runtime: inject("proxyRuntime"), upstreamOrigin: upstream.origin, keys: API_KEYS, proxyToken, persistTo });

  // Day one: every group reaches its limits once and is told them by Google's 429s.
  for (let i = 0; i < DAILY_LIMIT + 2; i++) await generate(DAY);
  expect(successes(DAY)).toBe(DAILY_LIMIT);
  for (let i = 0; i < GROUPS * PER_MINUTE + 2; i++) await generate(MINUTE);
  expect(successes(MINUTE)).toBe(GROUPS * PER_MINUTE);
  await counted(DAY, DAILY_LIMIT);
  await nextDay();

  browser = await launchChromium();
  page = await (await desktopContext(browser)).newPage();
  watch(page, seen);
}, 240_000);

afterAll(() => stopAll({ browser, proxy, upstream, persistTo }));

const capacityLine = (model: string, part: "day" | "minute") => page.locator(`#capacity li[data-model="${model}"] .capacity-${part}`);

describe("the capacity panel of /stat", () => {
  it("shows what is left of the learned daily limits, in the fake's own figures", async () => {
    const servedToday = 5;
    for (let i = 0; i < servedToday; i++) expect(await generate(DAY)).toBe(200);
    await counted(DAY, servedToday);
    await signInWith(page, proxy.origin, proxyToken, "#capacity");
    // Google's limits summed over the groups, less what Google itself counted today.
    const left = DAILY_LIMIT - successes(DAY);
    expect(successes(DAY)).toBe(servedToday);
    await expect.poll(() => capacityLine(DAY, "day").textContent()).toBe(fill(en.quotaLeft, { left, limit: DAILY_LIMIT }));
    // Every group taught its limit: no "limits known for k of n groups".
    expect(await capacityLine(DAY, "day").textContent()).not.toContain(fill(en.quotaPartial, { known: GROUPS - 1, groups: GROUPS }));
    // The sum is not the keys' count times a key's limit: the team's two keys share one budget.
    expect(DAILY_LIMIT).not.toBe(poolKeys.length * SINGLE_PER_DAY);
  });

  it("says a model's limit is not yet known, with the requests made today", async () => {
    for (let i = 0; i < 3; i++) expect(await generate(UNKNOWN)).toBe(200);
    await counted(UNKNOWN, 3);
    await page.evaluate(`document.dispatchEvent(new Event("visibilitychange"))`);
    await expect.poll(() => capacityLine(UNKNOWN, "day").textContent()).toBe(fill(en.quotaUnknown, { used: successes(UNKNOWN) }));
    expect(await capacityLine(UNKNOWN, "minute").textContent()).toBe("");
  });

  it("shows the per-minute headroom left in the current window", async () => {
    const sent = 3;
    for (let i = 0; i < sent; i++) expect(await generate(MINUTE)).toBe(200);
    await counted(MINUTE, sent);
    await page.evaluate(`document.dispatchEvent(new Event("visibilitychange"))`);
    // Each group's per-minute limit, less the requests Google admitted in this minute.
    const headroom = GROUPS * PER_MINUTE - successes(MINUTE);
    await expect.poll(() => capacityLine(MINUTE, "minute").textContent()).toBe(fill(en.quotaMinute, { n: headroom }));
    expect(headroom).toBe(GROUPS * PER_MINUTE - sent);
    expect(leakedKeys(await page.content())).toEqual([]);
    expect(seen.problems).toEqual([]);
  });
});

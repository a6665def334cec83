import { describe, expect, it } from "vitest";
import type { BulkResult, EventPage } from "../../src/core/admin-model";
import type { KeyAnswer, KeyListPage, KeyStats, StatsApiResponse } from "../../src/core/stats-model";
import { ADMIN_TOKEN, addKeys, CLIENT_TOKEN, adminHarness, listKeys, newKey, type AdminHarness } from "./admin-harness";
import { fake, poolKeys, uniqueModel } from "./support";

// Project groups for keys added at runtime: given when adding (`group:key`, or a default
// group), changed one key or many at a time, filtered and sorted in the key list, logged,
// and, above all, shared: keys of one group spend one budget, as on Google.

const secrets: string[] = [...poolKeys];
function fresh(): string {
  const key = newKey();
  secrets.push(key);
  return key;
}

async function errorOf(response: Response): Promise<string> {
  return (await response.json<{ error: { message: string } }>()).error.message;
}

const groupOf = (page: KeyListPage, id: string): string | undefined => page.keys.find((key) => key.id === id)?.group;

describe("giving runtime keys a group", () => {
  it("takes group:key lines and a default group when adding, and shows each key's group", async () => {
    const h = await adminHarness();
    const [a, b, c] = [fresh(), fresh(), fresh()];
    const result = await h.as(ADMIN_TOKEN, "POST", "/api/keys", { keys: `proj-a:${a}\n${b}`, group: "proj-b", verify: false });
    expect(result.status).toBe(200);
    const added = (await result.json<{ added: { id: string }[] }>()).added;
    const plain = (await addKeys(h, [c], false)).added[0]!;
    const page = await listKeys(h, "?limit=500");
    expect(groupOf(page, added[0]!.id)).toBe("proj-a");
    expect(groupOf(page, added[1]!.id)).toBe("proj-b");
    expect(groupOf(page, plain.id)).toBeUndefined();
    expect(page.groups).toEqual([
      { name: "proj-a", keys: 1 },
      { name: "proj-b", keys: 1 },
    ]);
    const rejected = await h.as(ADMIN_TOKEN, "POST", "/api/keys", { keys: [fresh()], group: "has space" });
    expect(rejected.status).toBe(400);
    expect(await errorOf(rejected)).toMatch(/"group": a group name must be 1 to 64 letters, digits/);
  });

  it("moves one key, clears its group, refuses API_KEYS keys and bad names, and logs each change", async () => {
    const h = await adminHarness();
    const [key] = (await addKeys(h, [fresh()], false)).added;
    const id = key!.id;
    const moved = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/group`, { group: "team-1" });
    expect(moved.status).toBe(200);
    expect((await moved.json<KeyAnswer & { key: KeyStats }>()).key).toMatchObject({ id, group: "team-1" });
    const cleared = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/group`, { group: null });
    expect((await cleared.json<{ key: KeyStats }>()).key.group).toBeUndefined();

    for (const [body, pattern] of [
      [{}, /"group".*or null/],
      [{ group: 5 }, /must be a string/],
      [{ group: "a:b" }, /letters, digits/],
      [{ group: "x".repeat(65) }, /1 to 64/],
    ] as const) {
      const response = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/group`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(response)).toMatch(pattern);
    }
    const envKey = (await listKeys(h, "?q=%231")).keys[0]!;
    const fromSecret = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${envKey.id}/group`, { group: "team-1" });
    expect(fromSecret.status).toBe(409);
    expect(await errorOf(fromSecret)).toMatch(/comes from API_KEYS, where its group is written \(group:key\): change it in API_KEYS — the Worker's secret, or the Node server's environment — and redeploy or restart\./);
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/0123456789abcdef/group", { group: "x" })).status).toBe(404);
    expect((await h.as(CLIENT_TOKEN, "POST", `/api/keys/${id}/group`, { group: "x" })).status).toBe(403);

    const log = await (await h.as(ADMIN_TOKEN, "GET", `/api/events?kind=grouped&key=${id}`)).json<EventPage>();
    expect(log.events.map((event) => [event.message, event.role])).toEqual([
      ['Group "team-1" → no group.', "admin"],
      ['Group no group → "team-1".', "admin"],
    ]);
  });

  it("moves many keys at once, skipping API_KEYS keys with the reason, and filters and sorts by group", async () => {
    const h = await adminHarness();
    const added = (await addKeys(h, [fresh(), fresh(), fresh()], false)).added;
    const envKey = (await listKeys(h, "?q=%231")).keys[0]!;
    const ids = [...added.slice(0, 2).map((key) => key.id), envKey.id];
    const response = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "group", ids, group: "bulk-team" });
    expect(response.status).toBe(200);
    const result = await response.json<BulkResult>();
    expect(result).toMatchObject({ action: "group", done: 2 });
    expect(result.skipped).toEqual([{ id: envKey.id, masked: envKey.masked, reason: expect.stringMatching(/From API_KEYS: its group is written there/) }]);
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "group", ids })).status).toBe(400);

    const team = await listKeys(h, "?group=bulk-team");
    expect(team.keys.map((key) => key.id).sort()).toEqual(added.slice(0, 2).map((key) => key.id).sort());
    const ungrouped = await listKeys(h, "?group=-&limit=500");
    expect(ungrouped.total).toBe(poolKeys.length + 1);
    const sorted = await listKeys(h, "?sort=group&limit=3");
    expect(sorted.keys.map((key) => key.group)).toEqual(["bulk-team", "bulk-team", undefined]);
    expect((await listKeys(h, "?sort=group&order=desc&limit=500")).keys.at(-1)?.group).toBe("bulk-team");
  });
});

describe("searching the key list by group name", () => {
  it("finds a group's keys by any part of its name in any case, with %, _ and . meaning themselves, beside the other matches", async () => {
    const h = await adminHarness();
    const added = (await addKeys(h, [`Acme.Prod:${fresh()}`, `Acme.Prod:${fresh()}`, `acme-dev:${fresh()}`, `other_team:${fresh()}`, fresh()], false)).added;
    const [prod1, prod2, dev, other, loose] = added.map((key) => key.id);
    const found = async (q: string): Promise<string[]> => {
      const page = await listKeys(h, `?limit=500&q=${encodeURIComponent(q)}`);
      expect(page.total, q).toBe(page.keys.length);
      return page.keys.map((key) => key.id);
    };
    // Letters that cannot be in a masked key's four-character ends, nor in a hex id.
    expect(await found("ACME")).toEqual([prod1, prod2, dev]);
    expect(await found("  acme.prod ")).toEqual([prod1, prod2]);
    expect(await found("r_tea")).toEqual([other]);
    // Literal, not a pattern: "." is no wildcard, "%" no "anything", "_" no "any character".
    expect(await found(".")).toEqual([prod1, prod2]);
    expect(await found("%")).toEqual([]);
    expect(await found("acme%")).toEqual([]);
    expect(await found("acme_dev")).toEqual([]);
    expect(await found("projekt")).toEqual([]);
    // The matches that were there before still are.
    const looseKey = (await listKeys(h, "?limit=500")).keys.find((key) => key.id === loose)!;
    expect(await found(`#${looseKey.position}`)).toEqual([loose]);
    expect(await found(loose!.slice(0, 8))).toEqual([loose]);
    expect(await found(looseKey.masked)).toEqual([loose]);
    // Combined with the group filter and a status filter, and paged: the same set a page's
    // bulk action walks (every page of ?q=, stats/client/key-list.client.js).
    expect((await listKeys(h, `?q=acme&group=${encodeURIComponent("Acme.Prod")}`)).keys.map((key) => key.id)).toEqual([prod1, prod2]);
    expect((await listKeys(h, "?q=acme&status=disabled")).total).toBe(0);
    const paged = [...(await listKeys(h, "?q=acme&limit=2")).keys, ...(await listKeys(h, "?q=acme&limit=2&offset=2")).keys];
    expect(paged.map((key) => key.id)).toEqual([prod1, prod2, dev]);
  });
});

async function generate(h: AdminHarness, model: string): Promise<number> {
  const response = await h.call(`/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": CLIENT_TOKEN, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ parts: [{ text: "one budget per project" }] }] }),
  });
  await response.text();
  return response.status;
}

async function stats(h: AdminHarness): Promise<StatsApiResponse> {
  return (await h.as(ADMIN_TOKEN, "GET", "/api/stats")).json<StatsApiResponse>();
}

describe("a group set through the API shares one budget", () => {
  it("costs the group one teaching 429, keeps counts with the key that moves, and puts a joining key out at once", { timeout: 30_000 }, async () => {
    const h = await adminHarness();
    const model = uniqueModel("api-group");
    const project = `project-${crypto.randomUUID()}`;
    const team = [fresh(), fresh(), fresh()];
    const loner = fresh();
    for (const key of team) await fake.keys([{ key, project }]);
    await fake.quota({ project, model, perDay: 4 });
    await fake.quota({ key: loner, model, perDay: 2 });

    const added = (await addKeys(h, [...team, loner], false)).added;
    const teamIds = added.slice(0, 3).map((key) => key.id);
    // Only the runtime keys serve: the API_KEYS keys are set aside.
    const envIds = (await listKeys(h, "?limit=500")).keys.filter((key) => key.source === "env").map((key) => key.id);
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "disable", ids: envIds })).status).toBe(200);
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "group", ids: teamIds, group: "team" })).status).toBe(200);

    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await generate(h, model));
    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    const upstream = (await fake.log(model)).requests;
    // One teaching 429 for the whole group, one for the loner: not one per key of the project.
    expect(upstream.filter((request) => request.status === 429 && team.includes(request.apiKey ?? "")).length).toBe(1);
    expect(upstream.filter((request) => request.status === 429 && request.apiKey === loner).length).toBe(1);
    expect((await stats(h)).capacity[model]).toMatchObject({ requestsToday: 6, dailyLimit: 6, remainingToday: 0, groups: 2, keysUsableNow: 0 });

    // A key that leaves takes the requests it made today with it; the group keeps the rest.
    const successes = (await fake.log(model)).successes;
    const [, , leaving] = team;
    const leavingId = teamIds[2]!;
    const servedByLeaving = successes[leaving!]?.[model] ?? 0;
    await h.as(ADMIN_TOKEN, "POST", `/api/keys/${leavingId}/group`, { group: null });
    const afterMove = await stats(h);
    const teamKey = afterMove.keys.find((key) => key.id === teamIds[0])!;
    expect(teamKey.models[model]?.remaining?.rpd).toBe(servedByLeaving);
    expect(afterMove.capacity[model]?.requestsToday).toBe(6);
    await h.as(ADMIN_TOKEN, "POST", `/api/keys/${leavingId}/group`, { group: "team" });
    expect((await stats(h)).keys.find((key) => key.id === teamIds[0])!.models[model]?.remaining?.rpd).toBe(0);

    // A key added into the group is out for the day as its members are, without a 429 to learn it.
    const joiner = fresh();
    await fake.keys([{ key: joiner, project }]);
    const [joined] = (await addKeys(h, [`team:${joiner}`], false)).added;
    expect((await listKeys(h, `?q=${joiner.slice(-4)}`)).keys[0]).toMatchObject({ id: joined!.id, group: "team", status: "exhausted" });
    expect(await generate(h, model)).toBe(429);
    expect((await fake.byKey(joiner)).requests).toEqual([]);

    const leaked = secrets.filter((secret) => h.bodies.some((body) => body.includes(secret)));
    expect(leaked).toEqual([]);
  });
});

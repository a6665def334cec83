import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BulkResult, EventPage, VerifyJob, VerifyResult } from "../../src/core/admin-model";
import type { KeyAnswer, KeyStats, StatsApiResponse } from "../../src/core/stats-model";
import { ADMIN_TOKEN, addKeys, CLIENT_TOKEN, adminHarness, currentJob, listKeys, newKey, settledJob, type AdminHarness } from "./admin-harness";
import { fake, poolKeys, uniqueModel } from "./support";

// Keys added, verified, disabled and removed at runtime, against the fake upstream:
// what the API answers, what the pool then does with requests, and what the event log
// keeps. Each test works on its own Durable Object and its own fresh keys.

const generateBody = JSON.stringify({ contents: [{ parts: [{ text: "which key serves me?" }] }] });

async function generate(h: AdminHarness, model: string): Promise<number> {
  const response = await h.call(`/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": CLIENT_TOKEN, "content-type": "application/json" },
    body: generateBody,
  });
  await response.text();
  return response.status;
}

function byId(keys: readonly KeyStats[], id: string): KeyStats {
  const key = keys.find((candidate) => candidate.id === id);
  expect(key, `key ${id}`).toBeDefined();
  return key!;
}

async function events(h: AdminHarness, query: string): Promise<EventPage> {
  const response = await h.as(ADMIN_TOKEN, "GET", `/api/events${query}`);
  expect(response.status).toBe(200);
  return response.json<EventPage>();
}

/** Every secret used in this file: none may appear in any answer. */
const secrets: string[] = [...poolKeys];
function fresh(): string {
  const key = newKey();
  secrets.push(key);
  return key;
}

describe("adding keys", () => {
  const valid = fresh();
  const invalid = fresh();
  const suspended = fresh();
  const referrer = fresh();
  const ip = fresh();
  let h: AdminHarness;

  beforeAll(async () => {
    await fake.keys([
      { key: invalid, invalid: true },
      { key: suspended, suspended: true },
      { key: referrer, restricted: "referrer" },
      { key: ip, restricted: "ip" },
    ]);
    h = await adminHarness();
  });

  it("verifies each key with a model list (no generate call) and disables the ones Google refuses, with its reason", async () => {
    const result = await addKeys(h, `${valid}\n${invalid}, ${suspended} ${referrer}\n${ip}\n${valid}`);
    expect(result.added).toHaveLength(5);
    expect(result.duplicates).toBe(1);
    expect(result.rejected).toEqual([]);
    expect(result.added[0]!.masked).toBe(`${valid.slice(0, 4)}…${valid.slice(-4)}`);
    expect(result.job?.total).toBe(5);

    const job = await settledJob(h);
    expect(job.counts).toEqual({ valid: 1, invalid: 1, suspended: 1, restricted: 2, unreachable: 0 });
    const ids = Object.fromEntries(result.added.map((key, index) => [["valid", "invalid", "suspended", "referrer", "ip"][index]!, key.id]));
    const keys = (await listKeys(h, "?limit=500")).keys;
    expect(byId(keys, ids.valid!)).toMatchObject({ status: "available", source: "runtime", verification: { outcome: "valid" } });
    expect(byId(keys, ids.valid!).addedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byId(keys, ids.invalid!)).toMatchObject({
      status: "disabled",
      disabled: { by: "verification", reason: "API key not valid. Please pass a valid API key." },
      verification: { outcome: "invalid" },
    });
    // Google names a suspended key in full: stored and shown masked.
    expect(byId(keys, ids.suspended!).disabled?.reason).toContain(`Consumer 'api_key:${suspended.slice(0, 4)}…${suspended.slice(-4)}'`);
    expect(byId(keys, ids.referrer!)).toMatchObject({ status: "disabled", verification: { outcome: "restricted", message: "Requests from referer <empty> are blocked." } });
    expect(byId(keys, ids.ip!).verification?.outcome).toBe("restricted");

    for (const key of [valid, invalid, suspended, referrer, ip]) {
      const seen = (await fake.byKey(key)).requests;
      expect(seen.map((request) => `${request.method} ${request.action}`)).toEqual(["GET listModels"]);
      expect(seen[0]!.query.pageSize).toBe("1");
    }
  });

  it("serves requests with the valid new key at once, and never with the refused ones", async () => {
    const model = uniqueModel("runtime-key");
    for (let i = 0; i < poolKeys.length + 2; i++) expect(await generate(h, model)).toBe(200);
    expect((await fake.log(model)).successes[valid]?.[model]).toBeGreaterThanOrEqual(1);
    for (const key of [invalid, suspended, referrer, ip]) expect((await fake.byKey(key)).requests.filter((r) => r.action === "generateContent")).toEqual([]);
  });

  it("counts keys already in the pool, API_KEYS keys included, as duplicates", async () => {
    const again = await addKeys(h, [valid, poolKeys[0]!, invalid]);
    expect(again).toMatchObject({ added: [], duplicates: 3, rejected: [] });
  });

  it("adds a key once when the same key is added concurrently", async () => {
    const key = fresh();
    const results = await Promise.all(Array.from({ length: 5 }, () => addKeys(h, [key], false)));
    expect(results.reduce((sum, result) => sum + result.added.length, 0)).toBe(1);
    expect(results.reduce((sum, result) => sum + result.duplicates, 0)).toBe(4);
    expect((await listKeys(h, `?q=${key.slice(-4)}`)).total).toBe(1);
  });

  it("logs who added what, masked, and never a key in any answer", async () => {
    const added = await events(h, "?kind=added");
    expect(added.events.length).toBeGreaterThanOrEqual(6);
    expect(added.events.every((event) => event.role === "admin" && event.masked?.includes("…"))).toBe(true);
    const verified = await events(h, "?kind=verified&limit=2");
    expect(verified.events).toHaveLength(2);
    // The checks of a job carry the role of whoever started it (here, the admin's add).
    expect(verified.events.map((event) => event.role)).toEqual(["admin", "admin"]);
    expect(verified.next).toBeDefined();
    const older = await events(h, `?kind=verified&limit=2&before=${verified.next!}`);
    expect(Number(older.events[0]!.id)).toBeLessThan(Number(verified.events[1]!.id));
    const leaked = secrets.filter((secret) => h.bodies.some((body) => body.includes(secret)));
    expect(leaked).toEqual([]);
  });
});

describe("bad input to POST /api/keys", () => {
  it("answers each with a clear JSON error or rejection and changes nothing", async () => {
    const h = await adminHarness();
    const total = async () => (await listKeys(h)).total;
    const before = await total();
    const refusals: [unknown, number, RegExp][] = [
      ["{not json", 400, /not valid JSON/],
      [[newKey()], 400, /JSON object/],
      [{}, 400, /"keys"/],
      [{ keys: 5 }, 400, /"keys" must be/],
      [{ keys: [1, 2] }, 400, /"keys" must be/],
      [{ keys: "  \n " }, 400, /no key/],
      [{ keys: [newKey()], verify: "yes" }, 400, /"verify"/],
      [{ keys: Array.from({ length: 2001 }, (_, i) => `AIzaSyKEY${i}`) }, 413, /At most 2000 keys/],
      [{ keys: "x".repeat(10 * 1024 * 1024) }, 413, /limit of 1048576 bytes/],
    ];
    for (const [body, status, message] of refusals) {
      const response = await h.as(ADMIN_TOKEN, "POST", "/api/keys", typeof body === "string" ? body : body);
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect((await response.json<{ error: { message: string } }>()).error.message).toMatch(message);
    }
    expect(await total()).toBe(before);

    const rejected = await addKeys(h, ["", "AIza with spaces", "AIzaSyé" + "x".repeat(30), "A".repeat(257), "AIza\u0000ctl"], false);
    expect(rejected.added).toEqual([]);
    expect(rejected.rejected.map((entry) => entry.reason)).toEqual([
      "empty",
      "contains whitespace",
      "contains characters other than printable ASCII",
      "longer than 256 characters",
      "contains characters other than printable ASCII",
    ]);
    expect(await total()).toBe(before);
    // An unusual shape alone is no reason to refuse a key.
    expect((await addKeys(h, ["sk-not-google-shaped-but-printable"], false)).added).toHaveLength(1);
  });
});

describe("one key's life", () => {
  it("deletes runtime keys only (404 unknown, 409 API_KEYS), and a deleted key serves no more", async () => {
    const h = await adminHarness();
    const secret = fresh();
    const [added] = (await addKeys(h, [secret], false)).added;
    const unknown = await h.as(ADMIN_TOKEN, "DELETE", "/api/keys/0123456789abcdef");
    expect(unknown.status).toBe(404);
    const envKey = (await listKeys(h, "?q=%231")).keys[0]!;
    const fromSecret = await h.as(ADMIN_TOKEN, "DELETE", `/api/keys/${envKey.id}`);
    expect(fromSecret.status).toBe(409);
    expect((await fromSecret.json<{ error: { message: string } }>()).error.message).toMatch(/from API_KEYS — the Worker's secret, or the Node server's environment — and redeploy or restart\. It can be disabled here/);

    const deleted = await h.as(ADMIN_TOKEN, "DELETE", `/api/keys/${added!.id}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: { id: added!.id, masked: added!.masked } });
    expect((await h.as(ADMIN_TOKEN, "DELETE", `/api/keys/${added!.id}`)).status).toBe(404);
    const model = uniqueModel("deleted-key");
    for (let i = 0; i < poolKeys.length + 2; i++) expect(await generate(h, model)).toBe(200);
    expect((await fake.byKey(secret)).requests).toEqual([]);
    expect((await events(h, `?key=${added!.id}`)).events.map((event) => event.kind)).toEqual(["deleted", "added"]);
  });

  it("keeps an operator's disable through resets and verifications, until an operator enables the key", async () => {
    const h = await adminHarness();
    const [added] = (await addKeys(h, [fresh()], false)).added;
    const id = added!.id;
    const disabled = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/disable`, { reason: "Saving it for production" });
    expect(disabled.status).toBe(200);
    expect((await disabled.json<KeyAnswer & { key: KeyStats }>()).key).toMatchObject({
      status: "disabled",
      disabledReason: "Saving it for production",
      disabled: { by: "operator", reason: "Saving it for production" },
    });
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/reset", {})).status).toBe(200);
    await h.pool.reset("day");
    const verified = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/verify`);
    expect(await verified.json<VerifyResult>()).toMatchObject({ id, outcome: "valid" });
    expect(byId((await listKeys(h)).keys, id)).toMatchObject({ status: "disabled", disabled: { by: "operator" }, verification: { outcome: "valid" } });

    const model = uniqueModel("operator-disabled");
    for (let i = 0; i < poolKeys.length + 1; i++) expect(await generate(h, model)).toBe(200);
    expect(byId((await listKeys(h)).keys, id).requestsToday).toBe(0);

    const enabled = await h.as(ADMIN_TOKEN, "POST", `/api/keys/${id}/enable`);
    expect((await enabled.json<{ key: KeyStats }>()).key.status).toBe("available");
    expect((await events(h, `?key=${id}`)).events.map((event) => [event.kind, event.role ?? null])).toEqual([
      ["enabled", "admin"],
      ["verified", "admin"],
      ["disabled", "admin"],
      ["added", "admin"],
    ]);
    for (const action of ["disable", "enable", "verify"]) expect((await h.as(ADMIN_TOKEN, "POST", `/api/keys/feedfeedfeedfeed/${action}`)).status).toBe(404);
  });

  it("re-verifies at the daily reset what Google or a verification disabled: still refused stays disabled, fixed comes back", async () => {
    const h = await adminHarness();
    const [stillBad, fixed] = [fresh(), fresh()];
    await fake.keys([{ key: stillBad, invalid: true }, { key: fixed, invalid: true }]);
    const added = (await addKeys(h, [stillBad, fixed])).added;
    await settledJob(h);
    await fake.keys([{ key: fixed, invalid: false }]);
    // As if the verification had happened yesterday: the cron only re-checks what was disabled before today.
    const yesterday = Date.now() - 86_400_000;
    await runInDurableObject(env.API_KEY_MANAGER.get(env.API_KEY_MANAGER.idFromString(await durableId(h))), (_instance, state) => {
      state.storage.sql.exec("UPDATE keys SET disabled_at = ?, verified_at = ? WHERE source = 'runtime'", yesterday, yesterday);
    });
    await h.pool.reset("day");
    const job = await settledJob(h);
    expect(job.outcomes.map((outcome) => [outcome.id, outcome.outcome])).toEqual([
      [added[0]!.id, "invalid"],
      [added[1]!.id, "valid"],
    ]);
    const keys = (await listKeys(h)).keys;
    expect(byId(keys, added[1]!.id).status).toBe("available");
    const bad = byId(keys, added[0]!.id);
    expect(bad).toMatchObject({ status: "disabled", disabled: { by: "verification" } });
    expect(Date.parse(bad.disabled!.at)).toBeGreaterThan(yesterday + 3_600_000);
  });
});

/** The Durable Object id behind a harness's pool, for reaching into its storage. */
async function durableId(h: AdminHarness): Promise<string> {
  const stub = h.pool as unknown as DurableObjectStub;
  return stub.id.toString();
}

describe("verifying every key", () => {
  it("works through more keys than one batch, answers 409 while it runs, and shows progress to viewers", async () => {
    const h = await adminHarness();
    const slow = fresh();
    await fake.keys([{ key: slow, delayMs: 1_500 }]);
    const many = Array.from({ length: 44 }, fresh);
    await addKeys(h, [slow, ...many], false);
    const started = await h.as(ADMIN_TOKEN, "POST", "/api/keys/verify");
    expect(started.status).toBe(202);
    const { job } = await started.json<{ job: VerifyJob }>();
    expect(job).toMatchObject({ running: true, total: poolKeys.length + 45, done: 0 });
    const again = await h.as(ADMIN_TOKEN, "POST", "/api/keys/verify", { ids: [job.outcomes[0]?.id ?? "x"] });
    expect(again.status).toBe(409);
    expect((await again.json<{ job: VerifyJob }>()).job.id).toBe(job.id);
    const viewed = await h.as(CLIENT_TOKEN, "GET", "/api/keys/verify");
    expect((await viewed.json<{ job: VerifyJob }>()).job.id).toBe(job.id);
    const finished = await settledJob(h);
    expect(finished).toMatchObject({ id: job.id, running: false, total: poolKeys.length + 45, done: poolKeys.length + 45 });
    expect(finished.counts.valid).toBe(poolKeys.length + 45);
    expect(finished.finishedAt).toBeDefined();
    expect(await currentJob(h)).toMatchObject({ id: job.id });
  });

  it("lets a selection sent in parts join the running verification (join: true) instead of a 409", async () => {
    const h = await adminHarness();
    const slow = fresh();
    await fake.keys([{ key: slow, delayMs: 1_000 }]);
    const added = (await addKeys(h, [slow, fresh(), fresh()], false)).added.map((key) => key.id);
    const first = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "verify", ids: added.slice(0, 1) });
    expect(first.status).toBe(202);
    const { job } = await first.json<{ job: VerifyJob }>();
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "verify", ids: added.slice(1) })).status).toBe(409);
    const joined = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "verify", ids: added.slice(1), join: true });
    expect(joined.status).toBe(202);
    expect((await joined.json<{ job: VerifyJob }>()).job).toMatchObject({ id: job.id, total: 3 });
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/verify", { ids: added, join: "yes" })).status).toBe(400);
    const finished = await settledJob(h);
    expect(finished).toMatchObject({ id: job.id, total: 3, done: 3 });
    expect(finished.outcomes.map((outcome) => outcome.id).sort()).toEqual([...added].sort());
  });

  it("applies bulk actions to the given ids and says what it skipped", async () => {
    const h = await adminHarness();
    const added = (await addKeys(h, [fresh(), fresh()], false)).added.map((key) => key.id);
    const envId = (await listKeys(h, "?q=%232")).keys[0]!.id;
    const bulk = async (action: string, ids: string[]) => {
      const response = await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action, ids });
      return { status: response.status, body: await response.json<BulkResult & { job?: VerifyJob }>() };
    };
    expect((await bulk("disable", [...added, envId])).body).toMatchObject({ action: "disable", done: 3, skipped: [] });
    expect((await listKeys(h, "?status=disabled")).total).toBe(3);
    expect((await bulk("enable", [envId])).body.done).toBe(1);
    const deleted = await bulk("delete", [...added, envId, "0000000000000000"]);
    expect(deleted.body.done).toBe(2);
    expect(deleted.body.skipped.map((entry) => [entry.id, entry.reason.slice(0, 14)])).toEqual([
      [envId, "From API_KEYS:"],
      ["0000000000000000", "No key has thi"],
    ]);
    const verify = await bulk("verify", [envId]);
    expect(verify.status).toBe(202);
    expect(verify.body.job?.total).toBe(1);
    expect((await bulk("explode", [envId])).status).toBe(400);
    expect((await h.as(ADMIN_TOKEN, "POST", "/api/keys/bulk", { action: "disable", ids: "all" })).status).toBe(400);
  });
});

describe("the event log", () => {
  it("records quota marks, cooldowns and upstream errors per key, with the model, status and Google's message", async () => {
    const h = await adminHarness();
    const model = uniqueModel("events");
    // A fresh pool hands keys out in position order: each of the first four answers differently.
    await fake.script({ key: poolKeys[0]!, model, outcomes: ["server-error"] });
    await fake.script({ key: poolKeys[1]!, model, outcomes: ["quota-day"] });
    await fake.script({ key: poolKeys[2]!, model, outcomes: [{ kind: "quota-minute", retryDelay: "30s" }] });
    await fake.script({ key: poolKeys[3]!, model, outcomes: ["bare-429"] });
    expect(await generate(h, model)).toBe(200);
    let page: EventPage = { events: [] };
    await expect
      // Sorted by position: the 5xx is recorded off the request path, so it may land after the marks.
      .poll(
        async () =>
          (page = await events(h, `?model=${model}`)).events
            .map((event) => [event.position, event.kind, event.status])
            .sort((a, b) => Number(a[0]) - Number(b[0])),
        { timeout: 5_000 },
      )
      .toEqual([
        [1, "upstream-error", 500],
        [2, "quota-day", 429],
        [3, "quota-minute", 429],
        [4, "cooldown", 429],
      ]);
    expect(page.events.find((event) => event.kind === "quota-day")?.message).toMatch(/You exceeded your current quota/);
    expect(page.events.every((event) => event.masked?.startsWith("AIza…"))).toBe(true);
    expect((await events(h, `?model=${model}&kind=quota-day`)).events).toHaveLength(1);
  });
});

describe("the event log of a hanging key", () => {
  it("records a timeout for the key that did not answer, and the request is served by the next", async () => {
    const h = await adminHarness(undefined, undefined, { UPSTREAM_TIMEOUT_MS: "300" });
    const model = uniqueModel("timeout-event");
    await fake.model({ model, firstByteDelayMsByKey: { [poolKeys[0]!]: 3_000 } });
    expect(await generate(h, model)).toBe(200);
    await expect
      .poll(async () => (await events(h, `?model=${model}&kind=timeout`)).events.map((event) => [event.position, event.message]), { timeout: 5_000 })
      .toEqual([[1, "No answer within 300 ms."]]);
  });
});

describe("the key table and the stats", () => {
  it("pages, filters, sorts and searches keys; /api/stats carries the new fields and ?keys=none drops the list", async () => {
    const h = await adminHarness();
    const secret = fresh();
    const [added] = (await addKeys(h, [secret], false)).added;
    await h.as(ADMIN_TOKEN, "POST", `/api/keys/${added!.id}/disable`, {});
    const model = uniqueModel("key-table");
    for (let i = 0; i < 3; i++) expect(await generate(h, model)).toBe(200);

    const page = await listKeys(h, "?limit=2&offset=1");
    expect(page).toMatchObject({ total: poolKeys.length + 1, offset: 1, limit: 2 });
    expect(page.keys.map((key) => key.position)).toEqual([2, 3]);
    expect((await listKeys(h, "?status=disabled")).keys.map((key) => key.id)).toEqual([added!.id]);
    expect((await listKeys(h, `?q=${secret.slice(-4)}`)).keys.map((key) => key.id)).toEqual([added!.id]);
    expect((await listKeys(h, `?q=${added!.id.slice(0, 6)}`)).keys.map((key) => key.id)).toEqual([added!.id]);
    expect((await listKeys(h, `?q=%23${poolKeys.length + 1}`)).keys.map((key) => key.id)).toEqual([added!.id]);
    const byRequests = (await listKeys(h, "?sort=requests&order=desc")).keys;
    expect(byRequests[0]!.requestsToday).toBeGreaterThan(0);
    expect(byRequests[0]!.lastUsedAt).toBeDefined();
    expect((await listKeys(h, "?sort=status")).keys[0]!.status).toBe("disabled");
    for (const bad of ["?status=asleep", "?sort=colour", "?limit=501", "?limit=0", "?offset=-1", "?order=up"]) {
      expect((await h.as(ADMIN_TOKEN, "GET", `/api/keys${bad}`)).status, bad).toBe(400);
    }

    const stats = await (await h.as(ADMIN_TOKEN, "GET", "/api/stats")).json<StatsApiResponse>();
    expect(stats.access).toEqual({ role: "admin", adminTokenSet: true });
    expect(stats.models[model]).toMatchObject({ available: poolKeys.length, cooling: 0, exhausted: 0, disabled: 1, requests: 3 });
    const runtime = byId(stats.keys, added!.id);
    expect(runtime).toMatchObject({ source: "runtime", requestsToday: 0, lastEvent: { kind: "disabled", role: "admin" } });
    expect(byId(stats.keys, byRequests[0]!.id)).toMatchObject({ source: "env", requestsToday: byRequests[0]!.requestsToday });
    const summary = await (await h.as(ADMIN_TOKEN, "GET", "/api/stats?keys=none")).json<StatsApiResponse>();
    expect(summary.keys).toEqual([]);
    expect(summary.totals.keys.total).toBe(poolKeys.length + 1);
    expect(summary.models[model]?.requests).toBe(3);

    for (const bad of ["?kind=boom", "?limit=5000", "?before=abc"]) expect((await h.as(ADMIN_TOKEN, "GET", `/api/events${bad}`)).status, bad).toBe(400);
  });
});

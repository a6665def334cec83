import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fakeControlClient } from "../fake-upstream/control-client.ts";
import { TAG_HEADER } from "../fake-upstream/request-log.ts";
import { callProxy, leakedKeys, poolKeys, proxyToken, upstreamOrigin } from "./support";

// Property-based: whatever a client sends (path, query, headers, body, method, token),
// the proxy answers it as the client's mistake or forwards it inside the API prefix,
// never answers 500, and never shows a pool key. What reached the upstream is checked
// in the fake's own log, found by a tag header only this file sends.

const RUNS = 250;
// Hundreds of requests each: seconds on a quiet machine, several times that on a loaded one.
const PROPERTY_TIMEOUT_MS = 60_000;
const fake = fakeControlClient(upstreamOrigin);
const tag = `hostile-${crypto.randomUUID()}`;
const MODEL = "gemini-hostile-input";

const ALLOWED_UPSTREAM_PATH = /^\/(v1beta|v1|v1alpha|upload)\//;
// A dot segment ("." or ".." between slashes), an empty segment, or an encoded dot, slash or
// backslash. Dots inside a segment ("gemini-2.5-flash", "a..b") are ordinary names.
const SMUGGLING = /(^|\/)\.{1,2}(\/|$)|\/\/|%2e|%2f|%5c|\\/i;

const segment = fc.oneof(
  fc.constantFrom("v1beta", "v1", "v1alpha", "upload", "openai", "models", "files", "cachedContents", "batches", "tunedModels"),
  fc.constantFrom("chat", "completions", "embeddings", "images", "generations", "operations", "generatedFiles"),
  fc.constantFrom(`${MODEL}:generateContent`, `${MODEL}:streamGenerateContent`, `${MODEL}:countTokens`, MODEL, `${MODEL}:nope`),
  fc.constantFrom("..", ".", "%2e%2e", "%2E.", ".%2e", "%2f", "%2F", "%5c", "%00", "\\", "", "%", "%zz", ":", "@", "evil.example"),
  fc.constantFrom("%252e%252e", "models%2F..%2F", "%C0%AE%C0%AE", "~", "*", "a b", "ﬀ", "\u202e", "..;", "?", "#"),
  fc.stringMatching(/^[A-Za-z0-9._:%~-]{1,16}$/),
);

/** Real routes, so that a good share of the attempts is forwarded and the upstream side is tested too. */
const template = fc.constantFrom(
  `v1beta/models/${MODEL}:generateContent`,
  `v1/models/${MODEL}:streamGenerateContent`,
  `v1alpha/models/models/${MODEL}:countTokens`,
  `models/${MODEL}:embedContent`,
  "v1beta/models",
  `v1/models/${MODEL}`,
  "v1/chat/completions",
  "v1beta/openai/chat/completions",
  "chat/completions",
  "v1/embeddings",
  "v1beta/files/abc-123",
  "upload/v1beta/files",
  "v1beta/cachedContents/xyz",
);

const path = fc.oneof(
  { weight: 3, arbitrary: template.map((route) => `/${route}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(template, segment, fc.nat())
      .map(([route, extra, at]) => {
        const parts = route.split("/");
        parts.splice(at % (parts.length + 1), 0, extra);
        return `/${parts.join("/")}`;
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(segment, { minLength: 0, maxLength: 6 }), fc.boolean(), fc.boolean())
      .map(([segments, leadingDouble, trailing]) => `${leadingDouble ? "//" : "/"}${segments.join("/")}${trailing ? "/" : ""}`),
  },
);

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);

const query = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom("key", "alt", "upload_id", "pageSize", "pageToken", "$fields", "%2e%2e", ""), printable),
      fc.oneof(fc.constantFrom("sse", "..", "%2F..%2F", poolKeys[0]!, "a&b=c", "%"), printable),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([name, value]) => `${name}=${value}`).join("&")}`));

const headerName = fc.oneof(
  fc.constantFrom("content-type", "accept", "x-goog-api-client", "x-stainless-os", "origin", "referer", "cookie"),
  fc.constantFrom("x-forwarded-for", "cf-connecting-ip", "range", "x-goog-upload-protocol", "x-goog-upload-command"),
  fc.constantFrom("x-goog-upload-url", "x-http-method-override", "expect", "accept-encoding", "forwarded"),
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
);
const headers = fc.array(fc.tuple(headerName, printable), { maxLength: 5 });

/** Who the client claims to be: mostly a valid proxy token, sometimes a wrong one or a pool key. */
const credential = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("goog-header", "bearer", "query").map((place) => ({ place, token: proxyToken })) },
  { weight: 1, arbitrary: fc.constantFrom(proxyToken.toUpperCase(), poolKeys[1]!, "", " ").map((token) => ({ place: "goog-header", token })) },
  { weight: 1, arbitrary: fc.constant({ place: "none", token: "" }) },
);

const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.record({ model: fc.oneof(fc.constant(MODEL), fc.constant(`models/${MODEL}`), fc.string()), messages: fc.jsonValue() }).map((value) => JSON.stringify(value)),
  fc.record({ contents: fc.jsonValue(), cachedContent: fc.string() }).map((value) => JSON.stringify(value)),
);

const method = fc.constantFrom("GET", "POST", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD");

/** Plain data, so fast-check can print a counterexample in full. */
interface Attempt {
  url: string;
  method: string;
  headers: [string, string][];
  body?: string;
}

const attempt = fc
  .record({ path, query, headers, credential, body, method })
  .map(({ path, query, headers: extra, credential, body, method }): Attempt | null => {
    let url: URL;
    try {
      url = new URL(`http://proxy.test${path}${query}`);
    } catch {
      return null;
    }
    const sent = new Headers();
    try {
      for (const [name, value] of extra) sent.append(name, value);
    } catch {
      return null;
    }
    if (credential.place === "goog-header") sent.set("x-goog-api-key", credential.token);
    if (credential.place === "bearer") sent.set("authorization", `Bearer ${credential.token}`);
    if (credential.place === "query") url.searchParams.set("key", credential.token);
    sent.set(TAG_HEADER, tag);
    const hasBody = method !== "GET" && method !== "HEAD";
    // callProxy adds a token when none is present; "none" must really send none.
    if (credential.place === "none") sent.set("x-goog-api-key", "");
    return { url: url.pathname + url.search, method, headers: [...sent], ...(hasBody && { body }) };
  });

function responseText(response: Response, body: string): string {
  return [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n") + "\n" + body;
}

describe("hostile requests", () => {
  it("never get a 500, never see a pool key, and only reach the upstream inside the API prefix", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(attempt, async (request) => {
        fc.pre(request !== null);
        if (request === null) return;
        const { url, method, headers, body } = request;
        const response = await callProxy(url, { method, headers, ...(body !== undefined && { body }) });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, `${method} ${url} -> ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(leakedKeys(responseText(response, text))).toEqual([]);
        if (response.status >= 400 && method !== "HEAD") {
          expect(() => JSON.parse(text) as unknown, `${response.status} ${url}: ${text.slice(0, 200)}`).not.toThrow();
        }
      }),
      // A name with dots inside it is forwarded as it is; it once failed a too-broad check above.
      { numRuns: RUNS, examples: [[{ url: "/v1beta/cachedContents/l..O../xyz", method: "GET", headers: [["x-goog-api-key", proxyToken], [TAG_HEADER, tag]] }]] },
    );

    const { requests } = await fake.log({ tag });
    // The generators must really exercise forwarding, not only the proxy's refusals.
    expect(requests.length).toBeGreaterThan(RUNS / 10);
    for (const request of requests) {
      expect(request.path, request.path).toMatch(ALLOWED_UPSTREAM_PATH);
      expect(request.path, request.path).not.toMatch(SMUGGLING);
      expect(request.keyInQuery, request.path).toBe(false);
      // The fake reads the key only on routes it knows; where it did, it was a pool key.
      if (request.apiKey !== null) expect(poolKeys).toContain(request.apiKey);
      expect(request.googApiKeyHeaderPresent || request.authorizationHeaderPresent).toBe(true);
      expect(JSON.stringify(request.headers)).not.toContain(proxyToken);
      expect(request.headers.cookie).toBeUndefined();
    }
    console.info(`hostile input: ${RUNS} runs, ${requests.length} forwarded; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, PROPERTY_TIMEOUT_MS);
});

describe("hostile bodies on real routes", () => {
  const routes = fc.constantFrom(
    { path: `/v1beta/models/${MODEL}-body:generateContent`, bearer: false },
    { path: `/v1beta/models/${MODEL}-body:streamGenerateContent?alt=sse`, bearer: false },
    { path: "/v1/chat/completions", bearer: true },
    { path: "/v1/embeddings", bearer: true },
  );
  const jsonBody = fc.oneof(
    fc.json(),
    fc.jsonValue().map((value) => JSON.stringify({ model: `${MODEL}-body`, messages: value, contents: value })),
    fc.dictionary(fc.string(), fc.jsonValue()).map((value) => JSON.stringify({ ...value, model: `${MODEL}-body` })),
  );

  it("are answered by the upstream or refused as the client's mistake, never with a 500", async () => {
    await fc.assert(
      fc.asyncProperty(routes, jsonBody, async (route, body) => {
        const headers = new Headers({ "content-type": "application/json", [TAG_HEADER]: `${tag}-body` });
        if (route.bearer) headers.set("authorization", `Bearer ${proxyToken}`);
        const response = await callProxy(route.path, { method: "POST", headers, body });
        const text = await response.text();
        expect(response.status, `${route.path} ${body.slice(0, 200)} -> ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(leakedKeys(responseText(response, text))).toEqual([]);
      }),
      { numRuns: 150 },
    );
    const { requests } = await fake.log({ tag: `${tag}-body` });
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) expect(request.path).toMatch(ALLOWED_UPSTREAM_PATH);
  }, PROPERTY_TIMEOUT_MS);

  it("an Expect header the client sent is not passed on (the proxy already holds the body)", async () => {
    const headers = { expect: "!", "content-type": "application/json", [TAG_HEADER]: `${tag}-expect` };
    const response = await callProxy(`/v1beta/models/${MODEL}-expect:generateContent`, { method: "POST", headers, body: "{}" });
    expect(response.status).toBe(200);
    const [request] = (await fake.log({ tag: `${tag}-expect` })).requests;
    expect(request?.headers.expect).toBeUndefined();
  });
});

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { en } from "./strings-en";
import { zhCN } from "./strings-zh-cn";

// The language of /stat through the worker's real fetch handler: Accept-Language picks
// it, the switch (a form post to /stat/lang) overrides it with a cookie. PROXY_API_KEY is
// set in this project, so /stat answers with the login form, which has the switch too.

const ORIGIN = "http://proxy.test";

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }));
}

function choose(lang: string, headers: Record<string, string> = { origin: ORIGIN }): Promise<Response> {
  return call("/stat/lang", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ lang }).toString(),
  });
}

async function pageLang(headers: Record<string, string>): Promise<string | undefined> {
  const html = await (await call("/stat", { headers })).text();
  return html.match(/<html lang="([^"]+)"/)?.[1];
}

describe("the language of /stat", () => {
  it("follows Accept-Language: English by default, Simplified Chinese for zh*", async () => {
    expect(await pageLang({})).toBe("en");
    expect(await pageLang({ "accept-language": "de-DE,de;q=0.9" })).toBe("en");
    expect(await pageLang({ "accept-language": "zh-TW,zh;q=0.9,en;q=0.8" })).toBe("zh-CN");
    const html = await (await call("/stat", { headers: { "accept-language": "zh-CN" } })).text();
    expect(html).toContain(zhCN.loginTitle);
    expect(html).not.toContain(en.loginTitle);
  });

  it("offers a switch that posts to /stat/lang, marking the current language", async () => {
    const html = await (await call("/stat", { headers: { "accept-language": "zh-CN" } })).text();
    expect(html).toContain('action="/stat/lang"');
    expect(html).toMatch(/<button type="submit" name="lang" value="zh-CN" lang="zh-CN" aria-pressed="true">简体中文<\/button>/);
    expect(html).toMatch(/<button type="submit" name="lang" value="en" lang="en" aria-pressed="false">English<\/button>/);
  });

  it("remembers the choice in a cookie that beats Accept-Language", async () => {
    const response = await choose("en");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/stat");
    const [setCookie] = response.headers.getSetCookie();
    expect(setCookie).toMatch(/^stat-lang=en;/);
    expect(setCookie).toMatch(/; Path=\/stat/i);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Lax/i);
    expect(setCookie).toMatch(/; Max-Age=\d+/i);
    expect(await pageLang({ "accept-language": "zh-CN", cookie: "stat-lang=en" })).toBe("en");
    expect(await pageLang({ "accept-language": "en-US", cookie: "stat-lang=zh-CN" })).toBe("zh-CN");
  });

  it("stores only languages it has, and ignores a cookie naming another", async () => {
    const unknown = await choose("<script>alert(1)</script>");
    expect(unknown.status).toBe(303);
    expect(unknown.headers.getSetCookie()).toEqual([]);
    expect((await choose("zh")).headers.getSetCookie()[0]).toMatch(/^stat-lang=zh-CN;/);
    expect(await pageLang({ "accept-language": "zh-CN", cookie: "stat-lang=xx" })).toBe("zh-CN");
  });

  it("refuses a switch posted from another site", async () => {
    const response = await choose("zh-CN", { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("keeps the page under the strict CSP: the switch is a form, not a script", async () => {
    const response = await call("/stat", { headers: { "accept-language": "zh-CN" } });
    expect(response.headers.get("content-security-policy")).toContain("form-action 'self'");
    expect(response.headers.get("vary")).toMatch(/Accept-Language/i);
    const html = await response.text();
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});

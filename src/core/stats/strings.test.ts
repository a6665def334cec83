import { describe, expect, it } from "vitest";
import { en } from "./strings-en";
import { zhCN } from "./strings-zh-cn";
import { LANGUAGES, stringsFor, type StatStrings } from "./strings";

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();

describe("choosing the /stat page's language", () => {
  it("falls back to English", () => {
    expect(stringsFor(undefined)).toBe(en);
    expect(stringsFor("")).toBe(en);
    expect(stringsFor("de-DE,fr;q=0.9")).toBe(en);
    expect(stringsFor("*")).toBe(en);
  });

  it("serves Simplified Chinese to every zh* browser", () => {
    for (const header of ["zh-CN,zh;q=0.9,en;q=0.8", "zh", "zh-TW", "zh-Hans-SG", "ZH-cn"]) {
      expect(stringsFor(header), header).toBe(zhCN);
    }
  });

  it("honours the order and the q-values of Accept-Language", () => {
    expect(stringsFor("en-US,en;q=0.9,zh-CN;q=0.8")).toBe(en);
    expect(stringsFor("en;q=0.5, zh-CN;q=0.8")).toBe(zhCN);
    expect(stringsFor("fr, zh-TW;q=0.5, en;q=0.4")).toBe(zhCN);
    // q=0 means "not this one".
    expect(stringsFor("zh;q=0, en")).toBe(en);
    expect(stringsFor("zh;q=0")).toBe(en);
  });

  it("lets the switch's choice win over the browser, if it names a language we have", () => {
    expect(stringsFor("en-US", "zh-CN")).toBe(zhCN);
    expect(stringsFor("zh-CN", "en")).toBe(en);
    expect(stringsFor("zh-CN", "klingon")).toBe(zhCN);
    expect(stringsFor("en", "")).toBe(en);
  });

  it("offers each language under its own tag and name", () => {
    expect(LANGUAGES).toEqual([
      { tag: "en", name: "English" },
      { tag: "zh-CN", name: "简体中文" },
    ]);
  });
});

describe("the dictionaries", () => {
  const dictionaries: Record<string, StatStrings> = { zhCN };

  it("fill in the same placeholders as the English one", () => {
    for (const [name, strings] of Object.entries(dictionaries)) {
      for (const key of Object.keys(en) as (keyof StatStrings)[]) {
        expect(placeholders(strings[key]), `${name}.${key}`).toEqual(placeholders(en[key]));
      }
    }
  });

  it("are translated: no entry left in English except names that stay English", () => {
    // Words the Chinese page keeps as they are: "Key #3", the secret API_KEYS, "Key".
    const sameInBoth = new Set<keyof StatStrings>(["keyPosition", "source_env", "verifyCount", "eventsKey", "colKey", "groupNone"]);
    for (const key of Object.keys(en) as (keyof StatStrings)[]) {
      if (sameInBoth.has(key)) continue;
      expect(zhCN[key], key).not.toBe(en[key]);
    }
  });
});

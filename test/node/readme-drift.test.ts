import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The English README and its Simplified Chinese translation say the same things in two
// languages, so their prose cannot be compared; their skeleton can. A section, a config
// variable, a command or a code example added to one and not the other fails here:
// headings (level and order), the configuration table's names, every fenced code block
// (comments aside, since those are translated) and every `inline code` span.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ENGLISH = join(ROOT, "README.md");
const CHINESE = join(ROOT, "docs/README_zh-CN.md");

interface CodeBlock {
  lang: string;
  body: string;
}

interface Outline {
  path: string;
  headings: { level: number; text: string }[];
  codeBlocks: CodeBlock[];
  inlineCode: string[];
  tables: string[][][];
  targets: string[];
  images: string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;

/** Headings, tables, code and link targets of a Markdown file; fenced code is kept apart. */
function outline(path: string): Outline {
  const result: Outline = { path, headings: [], codeBlocks: [], inlineCode: [], tables: [], targets: [], images: [] };
  let fence: { marker: string; indent: number; lang: string; lines: string[] } | null = null;
  let table: string[][] | null = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (fence !== null) {
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, "") === "") {
        result.codeBlocks.push({ lang: fence.lang, body: fence.lines.join("\n") });
        fence = null;
      } else {
        fence.lines.push(line.slice(Math.min(fence.indent, line.length - line.trimStart().length)));
      }
      continue;
    }
    const opening = FENCE.exec(line);
    if (opening !== null) {
      fence = { marker: opening[2]!, indent: opening[1]!.length, lang: opening[3] ?? "", lines: [] };
      table = null;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading !== null) result.headings.push({ level: heading[1]!.length, text: heading[2]!.trim() });
    if (line.trim().startsWith("|")) {
      const cells = line.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim());
      if (!cells.every((cell) => /^:?-+:?$/.test(cell))) {
        if (table === null) result.tables.push((table = []));
        table.push(cells);
      }
    } else {
      table = null;
    }
    for (const match of line.matchAll(/`([^`]+)`/g)) result.inlineCode.push(match[1]!);
    for (const match of line.matchAll(/(!?)\[[^\]]*\]\(([^)\s]+)\)/g)) {
      result.targets.push(match[2]!);
      if (match[1] === "!") result.images.push(match[2]!);
    }
  }
  if (fence !== null) throw new Error(`${path}: a code block is never closed`);
  return result;
}

/** A code block without its comments (translated) and blank lines, for comparison. */
function withoutComments(block: CodeBlock): string {
  const comment = ["ts", "js", "jsonc", "json"].includes(block.lang) ? /(^|\s)\/\/.*$/ : /(^|\s)#(\s.*)?$/;
  return block.body
    .split("\n")
    .map((line) => line.replace(comment, "").trimEnd())
    .filter((line) => line !== "")
    .join("\n");
}

/** The names in the first column of the configuration table (the one that lists `API_KEYS`). */
function configNames(doc: Outline): string[] {
  const table = doc.tables.find((rows) => rows.some((row) => row[0] === "`API_KEYS`"));
  expect(table, `${doc.path}: no configuration table`).toBeDefined();
  return table!.slice(1).map((row) => row[0]!);
}

/** What `ours` has more of than `theirs`, for a readable failure. */
function surplus(ours: string[], theirs: string[]): string[] {
  const left = [...theirs];
  return ours.filter((item) => {
    const index = left.indexOf(item);
    if (index === -1) return true;
    left.splice(index, 1);
    return false;
  });
}

const en = outline(ENGLISH);
const zh = outline(CHINESE);

describe("README.md and docs/README_zh-CN.md", () => {
  it("link to each other at the top", () => {
    const top = (path: string) => readFileSync(path, "utf8").split("\n").slice(0, 5).join("\n");
    expect(top(ENGLISH)).toContain("](docs/README_zh-CN.md)");
    expect(top(CHINESE)).toContain("](../README.md)");
  });

  it("have the same sections: heading levels in the same order", () => {
    expect(en.headings.length).toBeGreaterThan(10);
    expect(zh.headings.map((heading) => heading.level)).toEqual(en.headings.map((heading) => heading.level));
  });

  it("list the same configuration variables, and every one the proxy reads", () => {
    expect(configNames(zh)).toEqual(configNames(en));
    const config = readFileSync(join(ROOT, "src/core/config.ts"), "utf8");
    const proxyEnv = /interface ProxyEnv \{([^}]*)\}/.exec(config)?.[1] ?? "";
    const read = [...proxyEnv.matchAll(/^\s*(\w+)\?:/gm)].map((match) => `\`${match[1]}\``);
    expect(read.length).toBeGreaterThan(5);
    expect(surplus(read, configNames(en))).toEqual([]);
  });

  it("list the Node server's own settings", () => {
    const settings = readFileSync(join(ROOT, "src/node/node-env.ts"), "utf8");
    const read = [...settings.matchAll(/source\.([A-Z_]+)/g)].map((match) => `\`${match[1]}\``);
    expect(read).toEqual(expect.arrayContaining(["`PORT`", "`HOST`", "`DATA_DIR`"]));
    expect(surplus(read, configNames(en))).toEqual([]);
  });

  it("tell how to set every secret, and the optional ones locally, where .dev.vars would not do", () => {
    const table = en.tables.find((rows) => rows.some((row) => row[0] === "`API_KEYS`"))!;
    const secrets = table.filter((row) => row[1] === "secret").map((row) => row[0]!.replaceAll("`", ""));
    expect(secrets).toEqual(expect.arrayContaining(["API_KEYS", "PROXY_API_KEY", "ADMIN_API_KEY"]));
    // Wrangler loads from .dev.vars only what secrets.required names; it has no optional list.
    const wrangler = readFileSync(join(ROOT, "wrangler.jsonc"), "utf8");
    const required = JSON.parse(/"required":\s*(\[[^\]]*\])/.exec(wrangler)?.[1] ?? "[]") as string[];
    const example = readFileSync(join(ROOT, ".dev.vars.example"), "utf8");
    for (const name of secrets) {
      expect(en.codeBlocks.some((block) => new RegExp(`npx wrangler secret put ${name}\\b`).test(block.body)), `secret put ${name}`).toBe(true);
      if (required.includes(name)) continue;
      for (const text of [example, readFileSync(ENGLISH, "utf8"), readFileSync(CHINESE, "utf8")]) {
        expect(text, `--var ${name}`).toContain(`npm start -- --var ${name}:`);
      }
    }
  });

  it("show the same code blocks, comments aside", () => {
    expect(en.codeBlocks.length).toBeGreaterThan(5);
    expect(zh.codeBlocks.map((block) => block.lang)).toEqual(en.codeBlocks.map((block) => block.lang));
    en.codeBlocks.forEach((block, index) => {
      expect(withoutComments(zh.codeBlocks[index]!), `code block ${index + 1} (${block.lang})`).toBe(withoutComments(block));
    });
    for (const command of ["npm install && npm start", "npm test", "npx wrangler deploy"]) {
      expect(en.codeBlocks.some((block) => block.body.includes(command)), command).toBe(true);
    }
  });

  it("name the same commands, variables and paths in `inline code`", () => {
    expect(en.inlineCode.length).toBeGreaterThan(50);
    expect({ onlyInEnglish: surplus(en.inlineCode, zh.inlineCode), onlyInChinese: surplus(zh.inlineCode, en.inlineCode) }).toEqual({
      onlyInEnglish: [],
      onlyInChinese: [],
    });
  });

  it("link only to files that exist, and show the /stat screenshot", () => {
    for (const doc of [en, zh]) {
      const local = doc.targets.filter((target) => !/^([a-z]+:|#)/i.test(target));
      for (const target of local) {
        const file = join(dirname(doc.path), target.split("#")[0]!);
        expect(existsSync(file), `${relative(ROOT, doc.path)} → ${target}`).toBe(true);
      }
      const screenshots = doc.images.map((image) => relative(ROOT, join(dirname(doc.path), image)));
      expect(screenshots.some((image) => /^docs\/stat-page[\w.-]*\.png$/.test(image)), relative(ROOT, doc.path)).toBe(true);
    }
  });
});

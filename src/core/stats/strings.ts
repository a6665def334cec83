import { en } from "./strings-en";
import { zhCN } from "./strings-zh-cn";

// Which dictionary a /stat page is shown in. Every word of the page, server- and
// browser-side, comes from one of these (the page hands the chosen one to its script
// in a data attribute); translating the page means adding a dictionary to DICTIONARIES.

export type StatStrings = { readonly [Key in keyof typeof en]: string };

/** The dictionaries the page can be shown in; the first is the fallback. */
const DICTIONARIES: readonly StatStrings[] = [en, zhCN];

export interface Language {
  /** BCP 47 tag, also the value the language switch posts and the cookie holds. */
  tag: string;
  /** The language's name in its own words. */
  name: string;
}

export const LANGUAGES: readonly Language[] = DICTIONARIES.map((strings) => ({ tag: strings.lang, name: strings.languageName }));

const primarySubtag = (tag: string): string => tag.trim().toLowerCase().split("-")[0] ?? "";

/**
 * The dictionary for a language tag, matched on its primary subtag: `zh`, `zh-CN`,
 * `zh-TW` and `zh-Hans-SG` all get the Simplified Chinese page, `en-GB` the English one.
 */
export function dictionaryFor(tag: string): StatStrings | undefined {
  const wanted = primarySubtag(tag);
  if (wanted === "") return undefined;
  return DICTIONARIES.find((strings) => primarySubtag(strings.lang) === wanted);
}

/** The ranges of an Accept-Language header, most wanted first; `q=0` means "not this one". */
function rankedRanges(acceptLanguage: string): string[] {
  return acceptLanguage
    .split(",")
    .map((range, index) => {
      const [tag = "", ...params] = range.split(";");
      const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
      const weight = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((range) => range.tag !== "" && range.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((range) => range.tag);
}

/**
 * The page's dictionary: the language the user picked with the switch if it is one we
 * have, else the first of the browser's Accept-Language we have, else English.
 */
export function stringsFor(acceptLanguage: string | undefined, chosen?: string): StatStrings {
  const picked = chosen === undefined ? undefined : dictionaryFor(chosen);
  if (picked !== undefined) return picked;
  for (const tag of rankedRanges(acceptLanguage ?? "")) {
    const match = dictionaryFor(tag);
    if (match !== undefined) return match;
  }
  return en;
}

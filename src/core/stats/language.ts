import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { dictionaryFor, stringsFor, type StatStrings } from "./strings";

// The /stat page follows the browser's Accept-Language until the user picks a language
// with the switch; the pick is remembered in a cookie the server reads, so the choice
// needs no script (the page's CSP allows no inline one) and works on the login form too.
// It holds a language tag and nothing else: no secret, so neither signed nor Secure-only,
// and whatever a client puts in it is only ever used to look up a dictionary.

const COOKIE_NAME = "stat-lang";
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/** The dictionary for this request's page. */
export function pageStrings(c: Context): StatStrings {
  return stringsFor(c.req.header("accept-language"), getCookie(c, COOKIE_NAME));
}

/** Remembers `tag` for this browser; a tag of no language we have sets nothing. */
export function rememberLanguage(c: Context, tag: string): void {
  const strings = dictionaryFor(tag);
  if (strings === undefined) return;
  setCookie(c, COOKIE_NAME, strings.lang, {
    path: "/stat",
    httpOnly: true,
    sameSite: "Lax",
    // Secure where the page is served over HTTPS; `wrangler dev` on plain http still works.
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: ONE_YEAR_SECONDS,
  });
}

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { EVENT_KINDS, NO_GROUP } from "../admin-model";
import { assetPath } from "./assets";
import { LANGUAGES, type StatStrings } from "./strings";

// The HTML of /stat: a static shell the browser script fills from /api/stats, and the
// login form. No data is rendered here, and every interpolated value goes through
// Hono's `html` escaping. The dictionary rides along in a data attribute (escaped like
// any attribute) because the CSP allows no inline script to carry it.

type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

function head(strings: StatStrings, withScript: boolean): Markup {
  return html`<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <meta name="robots" content="noindex" />
    <title>${strings.title}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${assetPath("stat.client.css")}" />
    ${withScript ? html`<script type="module" src="${assetPath("app.client.js")}"></script>` : ""}
  </head>`;
}

/**
 * English / 简体中文: a form that posts the choice to /stat/lang, which remembers it in a
 * cookie and reloads the page; it needs no script. Each name is tagged with its own
 * language so screen readers pronounce it right.
 */
function languageSwitch(strings: StatStrings): Markup {
  return html`<form method="post" action="/stat/lang" class="segmented lang-switch" role="group" aria-label="${strings.languageLabel}">
    ${LANGUAGES.map(
      (language) =>
        html`<button type="submit" name="lang" value="${language.tag}" lang="${language.tag}" aria-pressed="${String(language.tag === strings.lang)}">${language.name}</button>`,
    )}
  </form>`;
}

const KEY_FILTERS = ["", "available", "cooling", "exhausted", "disabled"] as const;

function keysPanel(strings: StatStrings): Markup {
  return html`<section class="panel" aria-labelledby="keys-heading">
        <h2 id="keys-heading">${strings.keysListHeading}</h2>
        <div id="admin-tools" class="admin-tools"></div>
        <div class="key-tools">
          <div id="key-filter" class="segmented filter" role="group" aria-label="${strings.filterLabel}">
            ${KEY_FILTERS.map(
              (status) =>
                html`<button type="button" data-filter="${status}" aria-pressed="${String(status === "")}">${status === "" ? strings.filterAll : strings[`status_${status}`]} <span class="filter-count"></span></button>`,
            )}
          </div>
          <select id="key-group" class="group-filter" aria-label="${strings.groupFilterLabel}">
            <option value="">${strings.groupFilterAll}</option>
            <option value="${NO_GROUP}">${strings.groupFilterNone}</option>
          </select>
          <input id="key-search" class="search" type="search" autocomplete="off" spellcheck="false" aria-label="${strings.searchLabel}" placeholder="${strings.searchPlaceholder}" />
        </div>
        <div id="bulk" class="bulk"></div>
        <p id="action-status" class="action-status" role="status" aria-live="polite"></p>
        <div id="key-table" class="table-wrap"></div>
        <nav id="key-pager" class="pager" aria-label="${strings.keysListHeading}"></nav>
      </section>`;
}

function eventsPanel(strings: StatStrings): Markup {
  return html`<section class="panel" aria-labelledby="events-heading">
        <h2 id="events-heading">${strings.eventsHeading}</h2>
        <form id="event-filters" class="event-filters">
          <label>${strings.eventsKey} <input name="key" type="search" autocomplete="off" spellcheck="false" placeholder="${strings.eventsKeyPlaceholder}" /></label>
          <label>${strings.eventsModel} <select name="model"><option value="">${strings.eventsAny}</option></select></label>
          <label>${strings.eventsKind} <select name="kind">
            <option value="">${strings.eventsAny}</option>
            ${EVENT_KINDS.map((kind) => html`<option value="${kind}">${strings[`kind_${kind}`]}</option>`)}
          </select></label>
        </form>
        <p id="events-status" class="action-status" role="status" aria-live="polite"></p>
        <div id="events" class="table-wrap"></div>
        <nav id="event-pager" class="pager" aria-label="${strings.eventsHeading}"></nav>
      </section>`;
}

export function dashboardPage(strings: StatStrings, authEnabled: boolean): Markup {
  return html`<!doctype html>
<html lang="${strings.lang}">
  ${head(strings, true)}
  <body data-strings="${JSON.stringify(strings)}">
    <header class="topbar">
      <div class="brand">
        <h1>${strings.title}</h1>
        <p class="product">${strings.product}</p>
      </div>
      <div class="actions">
        <span id="updated" class="updated" role="status" aria-live="polite">${strings.loading}</span>
        <span id="role" class="role" hidden></span>
        ${languageSwitch(strings)}
        <span id="header-admin" class="header-admin"></span>
        <span id="open-session" class="open-session"></span>
        ${authEnabled
          ? html`<form method="post" action="/stat/logout" class="logout">
              <button type="submit" class="button quiet">${strings.logout}</button>
            </form>`
          : ""}
      </div>
    </header>
    <main>
      ${authEnabled ? "" : html`<p class="warning" id="open-warning" role="alert">${strings.openWarning}</p>`}
      <p id="mode" class="mode" hidden></p>
      <section id="summary" class="summary" aria-label="${strings.requestsToday}"></section>
      <section id="capacity" class="panel capacity" aria-label="${strings.quotaHeading}" hidden></section>
      <section class="panel" aria-labelledby="health-heading">
        <h2 id="health-heading">${strings.healthHeading}</h2>
        <div id="health" class="table-wrap"></div>
      </section>
      ${keysPanel(strings)}
      <section class="panel" aria-labelledby="chart-heading">
        <div class="panel-head">
          <h2 id="chart-heading">${strings.chartHeading}</h2>
          <div class="segmented" role="group" aria-label="${strings.chartHeading}">
            <button type="button" data-range="hourly" aria-pressed="true">${strings.range24h}</button>
            <button type="button" data-range="daily" aria-pressed="false">${strings.range30d}</button>
          </div>
        </div>
        <div id="chart" class="chart"></div>
        <ul id="legend" class="legend"></ul>
      </section>
      ${eventsPanel(strings)}
    </main>
  </body>
</html>`;
}

/** Why the login form is shown again: a wrong token, or too many of them (the wait, and whether every client shares it). */
export type LoginProblem = { kind: "failed" } | { kind: "throttled"; waitMinutes: number; sharedAddress: boolean };

function problemText(strings: StatStrings, problem: LoginProblem): string {
  if (problem.kind === "failed") return strings.loginFailed;
  const wait = strings.loginThrottled.replace("{minutes}", String(problem.waitMinutes));
  return problem.sharedAddress ? `${wait} ${strings.loginThrottledNoAddress}` : wait;
}

/** The login form, with what went wrong the last time, if anything. */
/** `plainHttp`: the page came over plain http, so the login form warns that the token travels unencrypted. */
export function loginPage(strings: StatStrings, problem: LoginProblem | null, plainHttp: boolean): Markup {
  const message = problem === null ? null : problemText(strings, problem);
  return html`<!doctype html>
<html lang="${strings.lang}">
  ${head(strings, false)}
  <body class="login-body">
    <main class="login">
      <div class="login-lang">${languageSwitch(strings)}</div>
      <h1>${strings.loginTitle}</h1>
      <p>${strings.loginHelp}</p>
      ${plainHttp ? html`<p class="login-warning">${strings.loginPlainHttp}</p>` : ""}
      ${message !== null ? html`<p class="login-error" role="alert">${message}</p>` : ""}
      <form method="post" action="/stat/login" class="login-form">
        <label for="token">${strings.loginToken}</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit" class="button primary">${strings.loginSubmit}</button>
      </form>
    </main>
  </body>
</html>`;
}

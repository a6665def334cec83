import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";

// What the /stat browser tests share: where things are on the page (the key table's rows,
// a key's detail opened from its row, a model's row in that detail), what the browser
// reported while they ran, and whether Chinese can be drawn.

/** Debian's Chromium, headless (playwright cannot download browsers here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** The desktop the README pictures are taken on: 1280×900, light, in `locale` (English by default). */
export function desktopContext(browser: Browser, locale = "en-US"): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light", locale });
}

/** What a page showed (dialogs) and complained about (script errors, console errors). */
export interface PageWatch {
  dialogs: string[];
  problems: string[];
}

/** Records `target`'s dialogs (accepting confirms) and its errors into `seen`. */
export function watch(target: Page, seen: PageWatch): void {
  target.on("dialog", (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss());
  });
  target.on("pageerror", (error) => seen.problems.push(`pageerror: ${error.message}`));
  target.on("console", (message) => {
    if (message.type() === "error") seen.problems.push(`console: ${message.text()}`);
  });
}

/** Chromium draws Chinese with whatever fontconfig offers; without a CJK font, boxes. */
export function hasCjkFont(): boolean {
  try {
    return execFileSync("fc-list", [":lang=zh", "family"], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;
  }
}

/** The key table's row of the key at `position` (on the page of the table shown). */
export function keyRow(page: Page, position: number): Locator {
  return page.locator(`#key-table .key-row[data-position="${position}"]`);
}

/** Opens the detail of the key at `position` unless it is open; returns the detail. */
export async function openKey(page: Page, position: number): Promise<Locator> {
  const row = keyRow(page, position);
  const id = await row.getAttribute("data-key-id");
  const detail = page.locator(`[id="detail-${id}"]`);
  if ((await detail.count()) === 0) await row.locator("button.row-toggle").click();
  await detail.waitFor();
  return detail;
}

/** The row of `model` in the (open) detail of the key at `position`: the row after the key's. */
export function modelRow(page: Page, position: number, model: string): Locator {
  return keyRow(page, position).locator(`xpath=following-sibling::tr[1][contains(@class, "detail-row")]//tr[@data-model="${model}"]`);
}

/** Signs `target` in with `token` on the login form; resolves once `ready` shows on the page. */
export async function signInWith(target: Page, origin: string, token: string, ready: string): Promise<void> {
  await target.goto(`${origin}/stat`);
  await target.locator('input[name="token"]').fill(token);
  await Promise.all([target.waitForURL(`${origin}/stat`), target.locator('form[action="/stat/login"] button').click()]);
  await target.locator(ready).first().waitFor();
}

/** What a browser test started, stopped in the reverse order (any of it may be missing after a failed start). */
export async function stopAll(started: { browser?: Browser; proxy?: { stop(): Promise<void> }; upstream?: { close(): Promise<void> }; persistTo?: string }): Promise<void> {
  await started.browser?.close();
  await started.proxy?.stop();
  await started.upstream?.close();
  if (started.persistTo) await rm(started.persistTo, { recursive: true, force: true });
}

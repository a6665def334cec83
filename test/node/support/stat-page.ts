import type { Locator, Page } from "playwright-core";

// Where things are on /stat, for the browser tests: the key table's rows, a key's detail
// (opened from its row), and a model's row in that detail.

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

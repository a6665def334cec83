// What only an admin sees (access.role === "admin"): adding keys from a paste box,
// verifying all of them with the job's progress, bulk actions on what the filter shows,
// the reset, and each key's disable / enable / verify / delete. Viewers get none of this
// in their DOM; the proxy refuses their changes anyway (403).

import { getJson, reloadIfSignedOut, send } from "./api.client.js";
import { bulkInChunks } from "./bulk.client.js";
import { h } from "./dom.client.js";

const JOB_POLL_MS = 1500;
const OUTCOMES = ["valid", "invalid", "suspended", "restricted", "unreachable"];

/**
 * @param ctx `{ fmt, view, refresh, report, shownKeys }`: `report(text, failed)` writes the
 *   action line; `shownKeys()` resolves to every key the filter and search match.
 */
export function createAdmin(ctx) {
  const { fmt, view } = ctx;
  let built = false;
  let jobTimer = 0;
  const jobLine = h("div", { class: "job", "data-admin": "", role: "status", "aria-live": "polite" });

  async function act(label, work) {
    ctx.report(fmt.t("working"), false);
    try {
      const text = await work();
      ctx.report(text ?? "", false);
      await ctx.refresh();
    } catch (error) {
      if (reloadIfSignedOut(error)) return;
      ctx.report(fmt.t("actionFailed", { action: label, error: error.message }), true);
    }
  }

  function renderJob(job) {
    if (job === null || job === undefined) {
      jobLine.replaceChildren();
      return;
    }
    const counts = OUTCOMES.filter((outcome) => (job.counts?.[outcome] ?? 0) > 0).map((outcome) =>
      h("span", { class: `job-count outcome-${outcome}`, "data-outcome": outcome }, fmt.t("verifyCount", { outcome: fmt.t(`outcome_${outcome}`), n: fmt.int(job.counts[outcome]) })),
    );
    jobLine.replaceChildren(
      h("progress", { max: job.total, value: job.done }),
      h(
        "span",
        { class: "job-text", "data-running": String(job.running) },
        job.running
          ? fmt.t("verifyRunning", { done: fmt.int(job.done), total: fmt.int(job.total) })
          : fmt.t("verifyFinished", { time: fmt.shortClock(Date.parse(job.finishedAt ?? job.startedAt)), done: fmt.int(job.done), total: fmt.int(job.total) }),
      ),
      ...counts,
    );
  }

  /** Follows a verification job until it ends, then refreshes the page once. */
  function followJob(job) {
    clearTimeout(jobTimer);
    renderJob(job);
    if (!job?.running) return;
    jobTimer = setTimeout(async () => {
      try {
        const { job: next } = await getJson("/api/keys/verify");
        if (next?.running) return followJob(next);
        renderJob(next);
        await ctx.refresh();
      } catch (error) {
        if (!reloadIfSignedOut(error)) jobTimer = setTimeout(() => followJob(job), JOB_POLL_MS);
      }
    }, JOB_POLL_MS);
  }

  /** The progress of a bulk action sent in parts, on the action line. */
  const progress = (done, total) => {
    if (total > done) ctx.report(fmt.t("bulkProgress", { done: fmt.int(done), total: fmt.int(total) }), false);
  };

  async function startVerification(ids) {
    await act(fmt.t("verifyAll"), async () => {
      const body = ids === undefined ? (await send("POST", "/api/keys/verify", {})).body : await bulkInChunks("verify", ids, {}, progress);
      followJob(body?.job ?? null);
      return "";
    });
  }

  /** Asks for a group name; undefined when cancelled, null for "no group". */
  function askGroup(text, current) {
    const answer = prompt(text, current);
    if (answer === null) return undefined;
    return answer.trim() === "" ? null : answer.trim();
  }

  function addForm() {
    const textarea = h("textarea", { name: "keys", rows: "4", autocomplete: "off", spellcheck: "false", required: true, "aria-label": fmt.t("addKeysLabel") });
    const verify = h("input", { type: "checkbox", name: "verify", checked: true });
    const group = h("input", { type: "text", name: "group", autocomplete: "off", spellcheck: "false", maxlength: "64", placeholder: "project-a" });
    const result = h("ul", { class: "rejected" });
    const form = h(
      "form",
      { class: "add-keys", "data-admin": "" },
      h("label", { class: "add-label" }, fmt.t("addKeysLabel"), textarea),
      h(
        "div",
        { class: "add-row" },
        h("label", { class: "check" }, verify, fmt.t("addKeysVerify")),
        h("label", { class: "add-group" }, fmt.t("addKeysGroup"), group),
        h("button", { type: "submit", class: "button primary" }, fmt.t("addKeysSubmit")),
      ),
      result,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void act(fmt.t("addKeys"), async () => {
        const groupName = group.value.trim();
        const { body } = await send("POST", "/api/keys", { keys: textarea.value, verify: verify.checked, ...(groupName !== "" && { group: groupName }) });
        // The keys are in the pool now; keep no copy of them on the page.
        textarea.value = "";
        result.replaceChildren(...(body.rejected ?? []).map((item) => h("li", {}, fmt.t("rejectedItem", item))));
        return fmt.t("addKeysResult", { added: fmt.int(body.added?.length ?? 0), duplicates: fmt.int(body.duplicates ?? 0), rejected: fmt.int(body.rejected?.length ?? 0) });
      });
    });
    return h("details", { class: "add-keys-box", "data-admin": "" }, h("summary", { class: "button" }, fmt.t("addKeys")), form);
  }

  function build() {
    const verifyAll = h("button", { type: "button", class: "button", "data-admin": "", id: "verify-all" }, fmt.t("verifyAll"));
    verifyAll.addEventListener("click", () => void startVerification(undefined));
    view.adminTools.replaceChildren(h("div", { class: "admin-row" }, addForm(), verifyAll), jobLine);

    const reset = h("button", { id: "reset", type: "button", class: "button danger", "data-admin": "" }, fmt.t("resetAll"));
    reset.addEventListener("click", () => {
      if (!confirm(fmt.t("resetConfirm"))) return;
      void act(fmt.t("resetAll"), async () => {
        await send("POST", "/api/reset", {});
        return "";
      });
    });
    view.headerAdmin.replaceChildren(reset);
    built = true;
    getJson("/api/keys/verify").then(
      (body) => followJob(body?.job ?? null),
      () => renderJob(null),
    );
  }

  async function bulk(action, label) {
    let keys;
    try {
      keys = await ctx.shownKeys();
    } catch (error) {
      return reloadIfSignedOut(error) || ctx.report(fmt.t("actionFailed", { action: label, error: error.message }), true);
    }
    const targets = action === "delete" ? keys.filter((key) => key.source === "runtime") : keys;
    if (targets.length === 0) return ctx.report(fmt.t("noKeysMatch"), false);
    if (action === "disable" && !confirm(fmt.t("bulkConfirmDisable", { n: targets.length }))) return;
    if (action === "delete" && !confirm(fmt.t("bulkConfirmDelete", { n: targets.length }))) return;
    let extra = {};
    if (action === "group") {
      const group = askGroup(fmt.t("bulkGroupPrompt", { n: fmt.int(targets.length) }), "");
      if (group === undefined) return;
      extra = { group };
    }
    const ids = targets.map((key) => key.id);
    if (action === "verify") return startVerification(ids);
    await act(label, async () => {
      const body = await bulkInChunks(action, ids, extra, progress);
      return fmt.t("bulkResult", { action: label, done: fmt.int(body.done), skipped: fmt.int(body.skipped.length) });
    });
  }

  view.bulk.addEventListener("click", (event) => {
    const button = event.target.closest("[data-bulk]");
    if (button !== null) void bulk(button.getAttribute("data-bulk"), button.textContent);
  });

  /** The bulk bar names how many keys the filter shows: what its buttons apply to. */
  function renderBulk(shown) {
    view.bulk.replaceChildren(
      shown === 0
        ? null
        : h(
            "div",
            { class: "bulk-row", "data-admin": "" },
            h("span", { class: "bulk-label" }, fmt.t("bulkLabel", { n: fmt.int(shown) })),
            ["verify", "disable", "enable", "group", "delete"].map((action) =>
              h(
                "button",
                { type: "button", class: `button small${action === "delete" ? " danger" : ""}`, "data-bulk": action },
                fmt.t(`bulk${action[0].toUpperCase()}${action.slice(1)}`),
              ),
            ),
          ),
    );
  }

  /** A per-key button in a key's detail. */
  function keyAction(button) {
    const action = button.getAttribute("data-action");
    const id = encodeURIComponent(button.getAttribute("data-key-id"));
    const masked = button.getAttribute("data-masked");
    const label = button.textContent;
    if (action === "group") {
      const group = askGroup(fmt.t("groupPrompt", { masked }), button.getAttribute("data-group") ?? "");
      if (group === undefined) return;
      return act(label, async () => {
        await send("POST", `/api/keys/${id}/group`, { group });
        return "";
      });
    }
    if (action === "delete") {
      if (!confirm(fmt.t("deleteConfirm", { masked }))) return;
      return act(label, async () => {
        await send("DELETE", `/api/keys/${id}`);
        return "";
      });
    }
    return act(label, async () => {
      const { body } = await send("POST", `/api/keys/${id}/${action}`, {});
      if (action === "verify") return fmt.t("actionVerified", { masked, outcome: fmt.t(`outcome_${body.outcome}`) });
      return "";
    });
  }

  return {
    /** Shows or removes the controls for the role /api/stats reports. */
    update(isAdmin, shown) {
      if (!isAdmin) {
        if (built) {
          for (const container of [view.adminTools, view.headerAdmin, view.bulk]) container.replaceChildren();
          clearTimeout(jobTimer);
          built = false;
        }
        return;
      }
      if (!built) build();
      renderBulk(shown);
    },
    keyAction,
  };
}

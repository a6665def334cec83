import { describe, expect, it } from "vitest";
import { callProxy, fake, generate, poolKeys, proxyToken, uniqueModel } from "./support";

// A request Google refused as the client's mistake, or failed, is counted by nobody: not by
// Google, not by the key manager. The isolate held every send against the key's known daily
// limit until a usage report took it over, so such answers used up the pool in its eyes
// (for ten minutes) and good requests got the proxy's own 429 "retry in 18 hours".

async function setDailyLimit(model: string, value: number): Promise<void> {
  const put = await callProxy("/api/limits", {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${proxyToken}` },
    body: JSON.stringify({ model, window: "rpd", value }),
  });
  expect(put.status).toBe(200);
}

describe("attempts that end without a count", () => {
  for (const outcome of ["bad-request", "server-error"] as const) {
    it(`leave a key's known daily quota as it was: ${outcome}`, { timeout: 30_000 }, async () => {
      const model = uniqueModel(`uncounted-${outcome}`);
      const perDay = 2;
      const day = poolKeys.length * perDay;
      await setDailyLimit(model, perDay);
      for (const key of poolKeys) await fake.script({ key, model, outcomes: Array.from({ length: perDay }, () => outcome) });

      // A 400 goes back as it came; a 5xx is tried on other keys, so some of these succeed.
      let served = 0;
      for (let i = 0; i < day; i++) {
        const answer = await generate(model);
        expect(answer.status).not.toBe(429);
        if (answer.status === 200) served++;
      }
      expect((await fake.log(model)).requests.filter((request) => (request.status ?? 0) >= 400).length).toBe(day);

      // The pool serves the rest of its day, and only then refuses.
      let more = 0;
      for (let status = 200; status === 200 && more <= day; ) {
        status = (await generate(model)).status;
        if (status === 200) more++;
        else expect(status).toBe(429);
      }
      expect(served + more).toBe(day);
    });
  }
});

// Durable Object calls and storage writes per request, counted (not inferred) on the
// counting build: the unchanged proxy whose ApiKeyManager subclass counts the RPC calls
// that reach it and sums workerd's rowsWritten over its SQL cursors. The SQLite file is
// also read from outside, to show the rows the storage keeps do not grow per request.

import type { FakeUpstream } from "../../test/fake-upstream/index.ts";
import { poolKeys } from "../../test/setup/test-keys.ts";
import type { DoCounts } from "../counting-worker/worker.ts";
import { sendMany } from "../lib/bounded-fetch.ts";
import { countRows, type RowCounts } from "../lib/do-storage.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody, RETRY_MODEL, STREAM_MODEL, streamPath } from "../lib/requests.ts";

export interface DoCallsPhase {
  requests: number;
  successes: number;
  /** Requests the fake upstream saw for this phase's model: one per attempt. */
  upstreamAttempts: number;
  /** Every Durable Object RPC, whatever the method. */
  callsPerRequest: number;
  /** Calls to methods other than poolView, recordFailure and recordUsage (owners, stats). */
  otherCalls: number;
  /** Failed attempts reported to the object (in the background). */
  recordFailurePerRequest: number;
  /** Views the isolate asked for because its own was older than a second (or half a second, in the background). */
  poolViewPerRequest: number;
  /** recordUsage calls per success: below 1 because usage goes in batches. */
  recordUsagePerSuccess: number;
  /** Usage reports per success: exactly 1, every success counted once. */
  reportsPerSuccess: number;
  rowsWrittenPerRequest: number;
  statementsPerRequest: number;
  /** Rows added to the SQLite file per request (0 once the usage rows exist). */
  storedRowsAddedPerRequest: number;
  counts: DoCounts;
  storedRows: RowCounts;
}

export interface DoCallsResult {
  /** Non-streaming and streaming requests that succeed on their first key. */
  plain: DoCallsPhase;
  /** One key is out of per-day quota for the model: exactly one request needs a retry. */
  retry: DoCallsPhase;
}

const COUNTS_PATH = "/__bench/do-counts";
/** Usage is recorded in waitUntil after the body ends, in batches; wait for it to land. */
const SETTLE_POLLS = 30;

/** Upstream requests for a model since a log id; ids survive the fake's bounded log. */
function attemptsSince(upstream: FakeUpstream, models: readonly string[], sinceId: number): number {
  return models.reduce((sum, model) => sum + upstream.log({ model }).requests.filter((entry) => entry.id > sinceId).length, 0);
}

function lastLogId(upstream: FakeUpstream): number {
  return upstream.log().requests.at(-1)?.id ?? 0;
}

async function counts(origin: string): Promise<DoCounts> {
  return (await (await fetch(`${origin}${COUNTS_PATH}`)).json()) as DoCounts;
}

const callsOf = (counted: DoCounts, method: string): number => counted.calls[method] ?? 0;

async function settled(origin: string, expectedReports: number): Promise<DoCounts> {
  let latest = await counts(origin);
  for (let poll = 0; poll < SETTLE_POLLS && latest.usageReports < expectedReports; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    latest = await counts(origin);
  }
  return latest;
}

function difference(after: DoCounts, before: DoCounts): DoCounts {
  const calls: Record<string, number> = {};
  for (const [method, n] of Object.entries(after.calls)) calls[method] = n - (before.calls[method] ?? 0);
  return {
    calls,
    usageReports: after.usageReports - before.usageReports,
    rowsWritten: after.rowsWritten - before.rowsWritten,
    rowsRead: after.rowsRead - before.rowsRead,
    statements: after.statements - before.statements,
  };
}

function phase(
  requests: number,
  statuses: number[],
  upstreamAttempts: number,
  counted: DoCounts,
  rowsBefore: RowCounts,
  rowsAfter: RowCounts,
): DoCallsPhase {
  const successes = statuses.filter((status) => status === 200).length;
  return {
    requests,
    successes,
    upstreamAttempts,
    callsPerRequest: Object.values(counted.calls).reduce((sum, n) => sum + n, 0) / requests,
    otherCalls: Object.entries(counted.calls)
      .filter(([method]) => !["poolView", "recordFailure", "recordUsage"].includes(method))
      .reduce((sum, [, n]) => sum + n, 0),
    recordFailurePerRequest: callsOf(counted, "recordFailure") / requests,
    poolViewPerRequest: callsOf(counted, "poolView") / requests,
    recordUsagePerSuccess: callsOf(counted, "recordUsage") / Math.max(1, successes),
    reportsPerSuccess: counted.usageReports / Math.max(1, successes),
    rowsWrittenPerRequest: counted.rowsWritten / requests,
    statementsPerRequest: counted.statements / requests,
    storedRowsAddedPerRequest: (rowsAfter.total - rowsBefore.total) / requests,
    counts: counted,
    storedRows: rowsAfter,
  };
}

export async function measureDoCalls(
  upstream: FakeUpstream,
  counting: { origin: string; persistTo: string },
  requestCount: number,
): Promise<DoCallsResult> {
  const { origin } = counting;
  const post = (path: string) => () => fetch(`${origin}${path}`, { method: "POST", headers: clientHeaders, body: promptBody });
  // Warm up: the object starts, syncs the keys and creates today's usage rows for every
  // key and model (sequential requests rotate through all keys), so later rows are growth.
  await sendMany(poolKeys.length, 1, post(generatePath(LOAD_MODEL)));
  await sendMany(poolKeys.length, 1, post(streamPath(STREAM_MODEL)));
  let before = await settled(origin, poolKeys.length * 2);
  let rowsBefore = await countRows(counting.persistTo);
  const streams = Math.max(1, Math.floor(requestCount / 10));
  let sinceId = lastLogId(upstream);
  const plainStatuses = [
    ...(await sendMany(requestCount - streams, 8, post(generatePath(LOAD_MODEL)))),
    ...(await sendMany(streams, 4, post(streamPath(STREAM_MODEL)))),
  ];
  let after = await settled(origin, before.usageReports + requestCount);
  const plainAttempts = attemptsSince(upstream, [LOAD_MODEL, STREAM_MODEL], sinceId);
  const plain = phase(requestCount, plainStatuses, plainAttempts, difference(after, before), rowsBefore, await countRows(counting.persistTo));

  // Per-day quota of 0 on the first key: the first request that draws it gets Google's
  // 429, the proxy marks the key for the day and moves on; no later request tries it.
  upstream.setQuota({ key: poolKeys[0], model: RETRY_MODEL, perDay: 0 });
  const retryRequests = poolKeys.length * 2;
  before = after;
  rowsBefore = await countRows(counting.persistTo);
  sinceId = lastLogId(upstream);
  const retryStatuses = await sendMany(retryRequests, 1, post(generatePath(RETRY_MODEL)));
  after = await settled(origin, before.usageReports + retryRequests);
  const retryAttempts = attemptsSince(upstream, [RETRY_MODEL], sinceId);
  const retry = phase(retryRequests, retryStatuses, retryAttempts, difference(after, before), rowsBefore, await countRows(counting.persistTo));
  return { plain, retry };
}

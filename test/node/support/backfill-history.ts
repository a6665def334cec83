import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { createKeyRing } from "../../../src/core/key-ring.ts";
import { KeyStore } from "../../../src/core/key-store/key-store.ts";
import type { SqlRow, SqlRunner, SqlValue } from "../../../src/core/key-store/sql.ts";
import { keyStoreFile, type StoppedProxy } from "../../setup/key-store-file.ts";

// A proxy started a minute ago has one hour of history, so its chart is one bar. For the
// screenshot the README shows, this writes 30 days of plausible earlier traffic into a
// *stopped* proxy's storage (its Durable Object's or the Node server's SQLite file), through
// the key store's own recordUsage: the same code either runtime runs, over node:sqlite.

const HOUR_MS = 3_600_000;

/** Share of traffic per model: a few busy ones and a tail, so the chart shows "Other". */
const MIX: readonly [string, number][] = [
  ["gemini-2.5-flash", 0.5],
  ["gemini-2.5-flash-lite", 0.2],
  ["gemini-2.5-pro", 0.12],
  ["gemini-2.0-flash", 0.08],
  ["gemma-3-27b-it", 0.05],
  ["gemini-embedding-001", 0.03],
  ["learnlm-2.0-flash-experimental", 0.02],
];

/** Deterministic, so the screenshot only changes when the page does. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  // mulberry32: 32-bit integer steps only, so no floating-point drift.
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function runner(db: DatabaseSync): SqlRunner {
  return <Row extends SqlRow>(query: string, ...bindings: SqlValue[]) =>
    db.prepare(query).all(...(bindings as SQLInputValue[])) as Row[];
}

/** Requests in the hour starting at `hour`: busier in the (UTC) afternoon, never zero. */
function hourlyVolume(hour: number, next: () => number): number {
  const hourOfDay = new Date(hour).getUTCHours();
  const daylight = Math.max(0, Math.sin(((hourOfDay - 12) / 24) * 2 * Math.PI));
  return Math.round(4 + 26 * daylight + 8 * next());
}

/**
 * Runs `write` in one transaction on a stopped proxy's key store, with the ids of `keys`
 * (API_KEYS order): the key store's own code over node:sqlite instead of ctx.storage.sql.
 */
export async function writeKeyStore(stopped: StoppedProxy, keys: readonly string[], write: (store: KeyStore, ids: string[]) => void): Promise<void> {
  const db = new DatabaseSync(await keyStoreFile(stopped));
  const store = new KeyStore(runner(db));
  const ids = (await createKeyRing(keys.join(","))).keys.map((key) => key.id);
  db.exec("BEGIN");
  try {
    write(store, ids);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  } finally {
    db.close();
  }
}

export async function backfillHistory(stopped: StoppedProxy, keys: readonly string[], now = Date.now()): Promise<void> {
  const next = random(20_251_126);
  await writeKeyStore(stopped, keys, (store, ids) => {
    const record = (at: number, count: number) => {
      for (let i = 0; i < count; i++) {
        let pick = next();
        const model = MIX.find(([, share]) => (pick -= share) < 0)?.[0] ?? MIX[0]![0];
        store.recordUsage(
          [
            {
              keyId: ids[Math.floor(next() * ids.length)]!,
              model,
              promptTokens: Math.round(300 + next() * 2400),
              outputTokens: Math.round(80 + next() * 900),
              at,
            },
          ],
          at,
        );
      }
    };
    const thisHour = now - (now % HOUR_MS);
    for (let back = 23; back >= 1; back--) {
      const hour = thisHour - back * HOUR_MS;
      record(hour + HOUR_MS / 2, hourlyVolume(hour, next));
    }
    for (let back = 29; back >= 1; back--) record(now - back * 24 * HOUR_MS, Math.round(220 + 160 * next() + (back % 7 < 2 ? -120 : 0)));
  });
}

// The Workers deployment resets the pool's day with a cron at 07:00 UTC (wrangler.jsonc):
// midnight Pacific in summer; in winter the per-day marks expire by themselves at 08:00
// UTC (pacific-time.ts). The Node server fires at the same moment from a timer.

/** The cron's moment, as hour and minute of the UTC day. */
export const DAILY_RESET_UTC = { hour: 7, minute: 0 } as const;

/** The first reset moment strictly after `now` (epoch ms). */
export function nextDailyReset(now: number): number {
  const at = new Date(now);
  at.setUTCHours(DAILY_RESET_UTC.hour, DAILY_RESET_UTC.minute, 0, 0);
  if (at.getTime() <= now) at.setUTCDate(at.getUTCDate() + 1);
  return at.getTime();
}

/** The most recent reset moment at or before `now` (epoch ms). UTC has no daylight saving: a day is 24 h. */
export function previousDailyReset(now: number): number {
  return nextDailyReset(now) - 86_400_000;
}

/** Where the time of the last reset is kept, so that a later start can tell whether it missed one. */
export interface ResetLedger {
  /** Epoch ms of the last reset; undefined before the first start that kept it. */
  last(): number | undefined;
  record(at: number): void;
}

export interface Stoppable {
  stop(): void;
}

/**
 * Calls `reset` once for every reset moment that passed since the last reset: at start, so
 * a server that was down (or a machine asleep) at 07:00 UTC catches up instead of keeping
 * yesterday's marks all day, and at every moment from a timer. Several missed moments are
 * one reset, as the cron after an outage would be. The timer is re-armed from the clock each
 * time, so a timer that fires early or late (or a clock that was set) never skips or doubles a day.
 */
export function scheduleDailyReset(reset: () => void, ledger: ResetLedger, now: () => number = Date.now): Stoppable {
  const catchUp = (): void => {
    const last = ledger.last();
    const at = now();
    // A pool from before the ledger existed: nothing says a reset was missed, and a reset
    // in the middle of the day would lift marks Google set today.
    if (last !== undefined && last >= previousDailyReset(at)) return;
    ledger.record(at);
    if (last !== undefined) reset();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      catchUp();
      arm();
    }, Math.max(0, nextDailyReset(now()) - now()));
    // Never what keeps the process alive: the server is.
    timer.unref();
  };
  catchUp();
  arm();
  return { stop: () => clearTimeout(timer) };
}

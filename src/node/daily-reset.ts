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

export interface Stoppable {
  stop(): void;
}

/**
 * Calls `reset` at every reset moment. The timer is re-armed from the clock each time, so
 * a timer that fires early (or a clock that was set) never skips or doubles a day.
 */
export function scheduleDailyReset(reset: () => void, now: () => number = Date.now): Stoppable {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = nextDailyReset(now());
  const arm = (): void => {
    timer = setTimeout(() => {
      if (now() >= due) {
        due = nextDailyReset(now());
        reset();
      }
      arm();
    }, Math.max(0, due - now()));
    // Never what keeps the process alive: the server is.
    timer.unref();
  };
  arm();
  return { stop: () => clearTimeout(timer) };
}

// Google's free-tier daily quotas roll over at midnight America/Los_Angeles, so the
// "quota day" is a Pacific calendar date and its end moves with daylight saving time.

const HOUR_MS = 3_600_000;

const pacificParts = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(ms: number): WallClock {
  const parts: Record<string, number> = {};
  for (const part of pacificParts.formatToParts(ms)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

function dateOf(ms: number): string {
  const { year, month, day } = wallClock(ms);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

function startOf(ms: number): number {
  const { hour, minute, second } = wallClock(ms);
  const sinceMidnight = ((hour * 60 + minute) * 60 + second) * 1000 + (ms % 1000);
  // On a DST change day the wall clock jumps by an hour; the result is off by that
  // hour only if `ms` falls before the jump, so check the candidate and correct it.
  let start = ms - sinceMidnight;
  if (dateOf(start) !== dateOf(ms)) start += HOUR_MS;
  else if (dateOf(start - 1) === dateOf(ms)) start -= HOUR_MS;
  return start;
}

interface QuotaDaySpan {
  day: string;
  start: number;
  end: number;
}

// Every request asks about today, and formatting a time zone costs more than the rest of
// key choice; so today's span is computed once and reused until it is over.
let today: QuotaDaySpan | undefined;

function spanOf(ms: number): QuotaDaySpan {
  if (today !== undefined && ms >= today.start && ms < today.end) return today;
  const start = startOf(ms);
  // A Pacific day lasts 23, 24 or 25 hours; 25 hours after its start is always in the next day.
  const span = { day: dateOf(ms), start, end: startOf(start + 25 * HOUR_MS) };
  today = span;
  return span;
}

/** The Pacific calendar date of an instant, as `YYYY-MM-DD`: the key of a quota day. */
export function quotaDay(ms: number): string {
  return spanOf(ms).day;
}

/** The instant the quota day containing `ms` began (the last Pacific midnight at or before it). */
export function quotaDayStart(ms: number): number {
  return spanOf(ms).start;
}

/** The instant the next quota day begins: the next midnight in America/Los_Angeles. */
export function nextQuotaReset(ms: number): number {
  return spanOf(ms).end;
}

// Turns numbers, instants and dictionary templates into display text, in the page's language.

const pad = (value) => String(value).padStart(2, "0");

/** @param {Record<string, string>} strings the dictionary the server put on <body> */
export function createFormat(strings) {
  const lang = strings.lang;
  const integer = new Intl.NumberFormat(lang);
  const compactNumber = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const shortClock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  const hourOnly = new Intl.DateTimeFormat(lang, { hour: "numeric" });
  const longDate = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  const shortDate = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  // Daily buckets are Pacific calendar dates; read them as UTC so no timezone shifts the day.
  const day = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" });

  /** Fills `{name}` placeholders; values may be DOM nodes (returns text and nodes in order). */
  function parts(key, values = {}) {
    const template = strings[key] ?? key;
    const result = [];
    let last = 0;
    for (const match of template.matchAll(/\{(\w+)\}/g)) {
      result.push(template.slice(last, match.index));
      const name = match[1];
      result.push(Object.hasOwn(values, name) ? values[name] : match[0]);
      last = match.index + match[0].length;
    }
    result.push(template.slice(last));
    return result.filter((part) => part !== "");
  }

  /** A dictionary entry as text. */
  function t(key, values = {}) {
    return parts(key, values).map(String).join("");
  }

  /** Time left until something, coarse enough to read at a glance: `5h 12m`, `3m 05s`, `42s`. */
  function left(ms) {
    if (ms <= 0) return t("left_done");
    const seconds = Math.ceil(ms / 1000);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0) return t("left_hms", { h, m: pad(m) });
    if (m > 0) return t("left_ms", { m, s: pad(s) });
    return t("left_s", { s });
  }

  /** `05:12:33`, for the countdown to the quota reset. */
  function countdown(ms) {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  }

  /** `5 min. ago`, `2 hr. ago`, `3 days ago`, in the page's language. */
  function ago(instant, nowMs) {
    const seconds = Math.round((instant - nowMs) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 60) return relative.format(seconds, "second");
    if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
    return relative.format(Math.round(seconds / 86_400), "day");
  }

  return {
    lang,
    ago,
    parts,
    t,
    left,
    countdown,
    int: (value) => integer.format(value),
    /** Full digits below 10 000, then `12.3K`: token counts get long fast. */
    compact: (value) => (Math.abs(value) < 10_000 ? integer.format(value) : compactNumber.format(value)),
    clock: (instant) => clock.format(instant),
    shortClock: (instant) => shortClock.format(instant),
    dateTime: (instant) => longDate.format(instant),
    date: (instant) => shortDate.format(instant),
    /** An hourly bucket's start, as short as the language allows (`3 PM`, `15`). */
    hour: (iso) => hourOnly.format(new Date(iso)),
    day: (ymd) => day.format(new Date(`${ymd}T00:00:00Z`)),
  };
}

// The English words of the /stat page, server- and browser-side. Every other language
// is a dictionary of the same shape (./strings-zh-cn.ts); ./strings.ts picks one.
// `{name}` marks a value the page fills in; the browser script substitutes it as text.

export const en = {
  lang: "en",
  // The switch shows each language in its own words.
  languageName: "English",
  languageLabel: "Language",
  title: "Key pool stats",
  product: "Gemini key-pool proxy",

  // Login page
  loginTitle: "Sign in to see the key pool",
  loginHelp: "This proxy is protected. Enter one of the tokens configured in PROXY_API_KEY.",
  loginToken: "Proxy token",
  loginSubmit: "Sign in",
  loginFailed: "That token is not accepted.",
  loginThrottled: "Too many wrong tokens from your address. Try again in {minutes} min.",
  logout: "Log out",

  // Header
  openWarning:
    "PROXY_API_KEY is not set: anyone who can reach this proxy can spend your Gemini quota and see this page. Set it with `npx wrangler secret put PROXY_API_KEY`.",
  updatedAt: "Updated {time}",
  refreshFailed: "Could not refresh ({error}); retrying.",
  loading: "Loading…",
  resetAll: "Reset all marks",
  resetConfirm:
    "Lift every exhausted, cooling and disabled mark now? Keys that are really out of quota will be marked again on their next failure.",
  resetFailed: "Reset failed ({error}).",

  // Summary
  requestsToday: "Requests today",
  tokensToday: "Tokens today",
  tokensInOut: "{in} in · {out} out",
  quotaDay: "Quota day {day} (Pacific)",
  keysHeading: "Keys",
  keysTotal: "{n} keys",
  keysNote: "A key counts as exhausted or cooling when any of its models is.",
  nextReset: "Next quota reset",
  nextResetAt: "Midnight Pacific · {time} your time",

  // Status labels (always shown next to their colour)
  status_available: "Available",
  status_cooling: "Cooling",
  status_exhausted: "Exhausted",
  status_disabled: "Disabled",
  state_ok: "OK",
  state_cooling: "Cooling · {left}",
  state_exhausted: "Exhausted · {left}",

  // Chart
  chartHeading: "Requests over time",
  range24h: "Last 24 hours",
  range30d: "Last 30 days",
  chartEmpty: "No requests in this period.",
  chartOther: "Other models",
  chartLabel: "Stacked bars: requests per {unit} and model",
  unitHour: "hour",
  unitDay: "day",
  chartTooltip: "{bucket} · {model}: {n}",
  chartBucketTotal: "{bucket}: {n} requests",

  // Keys
  keysListHeading: "Keys in the pool",
  keyPosition: "Key #{n}",
  keyTotals: "{requests} requests · {in} in · {out} out",
  colModel: "Model",
  colRequests: "Requests",
  colIn: "Input",
  colOut: "Output",
  colState: "State",
  noRequestsToday: "No requests today.",
  showMore: "Show {n} more",
  showLess: "Show fewer models",
  reasonHeading: "Upstream said",
  reasonUntil: "Until {time}",
  noReason: "No reason recorded.",
  disabledReasonToggle: "Why disabled?",
  left_hms: "{h}h {m}m",
  left_ms: "{m}m {s}s",
  left_s: "{s}s",
  left_done: "ending…",
} as const;

import type { StatStrings } from "./strings";

// The Simplified Chinese words of the /stat page, key for key the same as ./strings-en.ts
// (the type makes a missing or extra key a compile error; strings.test.ts checks that the
// `{placeholders}` match). "Key", "Token" and the variable names stay in English, as
// Chinese developer tools usually write them.

export const zhCN: StatStrings = {
  lang: "zh-CN",
  languageName: "简体中文",
  languageLabel: "语言",
  title: "Key 池统计",
  product: "Gemini Key 池代理",

  // Login page
  loginTitle: "登录以查看 Key 池",
  loginHelp: "此代理已受保护。请输入 PROXY_API_KEY 中配置的任意一个令牌。",
  loginToken: "代理令牌",
  loginSubmit: "登录",
  loginFailed: "该令牌无效。",
  loginThrottled: "来自你的地址的错误令牌过多，请在 {minutes} 分钟后重试。",
  logout: "退出登录",

  // Header
  openWarning:
    "未设置 PROXY_API_KEY：任何能访问此代理的人都可以消耗你的 Gemini 配额并查看此页面。请用 `npx wrangler secret put PROXY_API_KEY` 设置。",
  updatedAt: "更新于 {time}",
  refreshFailed: "刷新失败（{error}），正在重试。",
  loading: "加载中…",
  resetAll: "重置所有标记",
  resetConfirm: "立即解除所有“已耗尽”“冷却中”和“已禁用”标记吗？确实没有配额的 Key 会在下次失败时被重新标记。",
  resetFailed: "重置失败（{error}）。",

  // Summary
  requestsToday: "今日请求",
  tokensToday: "今日 Token",
  tokensInOut: "输入 {in} · 输出 {out}",
  quotaDay: "配额日 {day}（太平洋时间）",
  keysHeading: "Key",
  keysTotal: "共 {n} 个 Key",
  keysNote: "只要某个模型已耗尽或在冷却中，该 Key 就计为已耗尽或冷却中。",
  nextReset: "下次配额重置",
  nextResetAt: "太平洋时间午夜 · 你的本地时间 {time}",

  // Status labels (always shown next to their colour)
  status_available: "可用",
  status_cooling: "冷却中",
  status_exhausted: "已耗尽",
  status_disabled: "已禁用",
  state_ok: "正常",
  state_cooling: "冷却中 · {left}",
  state_exhausted: "已耗尽 · {left}",

  // Chart
  chartHeading: "请求趋势",
  range24h: "最近 24 小时",
  range30d: "最近 30 天",
  chartEmpty: "此时段内没有请求。",
  chartOther: "其他模型",
  chartLabel: "堆叠柱状图：按{unit}和模型统计的请求数",
  unitHour: "小时",
  unitDay: "天",
  chartTooltip: "{bucket} · {model}：{n}",
  chartBucketTotal: "{bucket}：{n} 次请求",

  // Keys
  keysListHeading: "池中的 Key",
  keyPosition: "Key #{n}",
  keyTotals: "{requests} 次请求 · 输入 {in} · 输出 {out}",
  colModel: "模型",
  colRequests: "请求",
  colIn: "输入",
  colOut: "输出",
  colState: "状态",
  noRequestsToday: "今日还没有请求。",
  showMore: "再显示 {n} 个",
  showLess: "收起",
  reasonHeading: "上游返回",
  reasonUntil: "持续到 {time}",
  noReason: "没有记录原因。",
  disabledReasonToggle: "为什么被禁用？",
  left_hms: "{h} 小时 {m} 分",
  left_ms: "{m} 分 {s} 秒",
  left_s: "{s} 秒",
  left_done: "即将结束…",
};

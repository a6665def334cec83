// Requests over time as stacked SVG bars, one colour per model. Only the busiest
// models get their own colour; the rest add up to "Other models", so the chart stays
// readable however many models the pool has served.

import { h, svg } from "./dom.client.js";

/** Series with their own colour (the CSS defines .series-0 … .series-5 and .series-other). */
const MAX_SERIES = 6;
const OTHER = Symbol("other");
const HEIGHT = 220;
const MARGIN = { top: 10, right: 8, bottom: 26, left: 44 };

/** The busiest models of the period, busiest first, plus OTHER when some are left out. */
function chooseSeries(buckets) {
  const totals = new Map();
  for (const bucket of buckets) {
    for (const [model, requests] of Object.entries(bucket.models)) totals.set(model, (totals.get(model) ?? 0) + requests);
  }
  const ranked = [...totals].sort(([modelA, a], [modelB, b]) => b - a || modelA.localeCompare(modelB));
  if (ranked.length <= MAX_SERIES) return { series: ranked, rest: [] };
  return { series: [...ranked.slice(0, MAX_SERIES - 1), [OTHER, 0]], rest: ranked.slice(MAX_SERIES - 1) };
}

function stack(bucket, series) {
  const named = new Set(series.map(([model]) => model));
  return series.map(([model]) => {
    if (model !== OTHER) return bucket.models[model] ?? 0;
    return Object.entries(bucket.models).reduce((sum, [name, requests]) => (named.has(name) ? sum : sum + requests), 0);
  });
}

/** A round axis maximum (1, 2, 2.5 or 5 times a power of ten) with four gridlines. */
function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value / 4));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * power).find((candidate) => candidate * 4 >= value);
  return (step ?? 10 * power) * 4;
}

const seriesClass = (model, index) => (model === OTHER ? "series-other" : `series-${index}`);

function legendItems(series, rest, fmt) {
  return series.map(([model, total], index) => {
    const requests = model === OTHER ? rest.reduce((sum, [, count]) => sum + count, 0) : total;
    return h(
      "li",
      { title: model === OTHER ? rest.map(([name]) => name).join(", ") : null },
      h("span", { class: `swatch ${seriesClass(model, index)}`, "aria-hidden": "true" }),
      h("span", { class: "legend-name" }, model === OTHER ? fmt.t("chartOther") : model),
      h("span", { class: "legend-count" }, fmt.int(requests)),
    );
  });
}

/**
 * @param {"hourly" | "daily"} range which history to draw
 * @param {{ start: string, models: Record<string, number> }[]} buckets
 */
export function renderChart(container, legend, buckets, range, fmt) {
  const { series, rest } = chooseSeries(buckets);
  if (series.length === 0) {
    container.replaceChildren(h("p", { class: "empty chart-empty" }, fmt.t("chartEmpty")));
    legend.replaceChildren();
    return;
  }
  const label = (bucket) => (range === "hourly" ? fmt.hour(bucket.start) : fmt.day(bucket.start));
  const width = Math.max(280, Math.floor(container.clientWidth || 640));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const stacks = buckets.map((bucket) => stack(bucket, series));
  const max = niceMax(Math.max(...stacks.map((values) => values.reduce((a, b) => a + b, 0))));
  const y = (value) => MARGIN.top + plotHeight - (value / max) * plotHeight;
  const slot = plotWidth / buckets.length;
  const barWidth = Math.max(2, slot * 0.7);
  // Label every n-th bucket so that labels stay about 64px apart.
  const labelEvery = Math.max(1, Math.ceil(64 / slot));

  const grid = [0, 1, 2, 3, 4].map((step) => {
    const value = (max / 4) * step;
    return svg(
      "g",
      { class: "gridline" },
      svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }),
      svg("text", { x: MARGIN.left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "middle" }, fmt.compact(value)),
    );
  });

  const bars = buckets.map((bucket, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    const values = stacks[index];
    const total = values.reduce((a, b) => a + b, 0);
    let base = 0;
    const segments = values.map((value, seriesIndex) => {
      if (value === 0) return null;
      const [model] = series[seriesIndex];
      const top = y(base + value);
      const height = y(base) - top;
      base += value;
      const name = model === OTHER ? fmt.t("chartOther") : model;
      return svg(
        "rect",
        { class: seriesClass(model, seriesIndex), x, y: top, width: barWidth, height: Math.max(height, 0.5) },
        svg("title", {}, fmt.t("chartTooltip", { bucket: label(bucket), model: name, n: fmt.int(value) })),
      );
    });
    const tick =
      index % labelEvery === (buckets.length - 1) % labelEvery
        ? svg("text", { class: "tick", x: x + barWidth / 2, y: HEIGHT - 8, "text-anchor": "middle" }, label(bucket))
        : null;
    return svg("g", { class: "bar", "data-total": total }, svg("title", {}, fmt.t("chartBucketTotal", { bucket: label(bucket), n: fmt.int(total) })), segments, tick);
  });

  container.replaceChildren(
    svg(
      "svg",
      {
        class: "chart-svg",
        role: "img",
        "aria-label": fmt.t("chartLabel", { unit: fmt.t(range === "hourly" ? "unitHour" : "unitDay") }),
        viewBox: `0 0 ${width} ${HEIGHT}`,
        width,
        height: HEIGHT,
      },
      grid,
      bars,
    ),
  );
  legend.replaceChildren(...legendItems(series, rest, fmt));
}

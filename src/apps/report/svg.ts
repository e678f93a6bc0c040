// Inline SVG chart primitives for the HTML report: no library, no CDN, text only. Line charts
// (latency distributions, sessions over time), grouped horizontal bars, and a session Gantt chart.

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const n = (x: number) => (Math.round(x * 10) / 10).toString();

/** Round tick values covering [min, max]. */
export function ticks(min: number, max: number, count = 5): number[] {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const r = raw / magnitude;
  const step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export const label = (v: number) =>
  Math.abs(v) >= 1000 ? `${n(v / 1000)}k` : Math.abs(v) >= 10 || v === 0 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Draw as steps (value holds until the next point). */
  step?: boolean;
  /** Dashed line. */
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  width?: number;
  height?: number;
  /** Vertical marker lines, e.g. medians. */
  markers?: Array<{ x: number; color: string; text: string }>;
}

const M = { top: 28, right: 16, bottom: 40, left: 56 };

function axes(
  w: number,
  h: number,
  xd: [number, number],
  yd: [number, number],
  sx: (x: number) => number,
  sy: (y: number) => number,
  xLabel: string,
  yLabel: string,
): string {
  const parts: string[] = [];
  for (const t of ticks(xd[0], xd[1])) {
    parts.push(
      `<line x1="${n(sx(t))}" x2="${n(sx(t))}" y1="${M.top}" y2="${h - M.bottom}" class="grid"/>`,
      `<text x="${n(sx(t))}" y="${h - M.bottom + 14}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  for (const t of ticks(yd[0], yd[1], 4)) {
    parts.push(
      `<line x1="${M.left}" x2="${w - M.right}" y1="${n(sy(t))}" y2="${n(sy(t))}" class="grid"/>`,
      `<text x="${M.left - 6}" y="${n(sy(t) + 4)}" text-anchor="end">${label(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${w - M.right}" y1="${h - M.bottom}" y2="${h - M.bottom}" class="axis"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - M.bottom}" class="axis"/>`,
    `<text x="${(M.left + w - M.right) / 2}" y="${h - 6}" text-anchor="middle" class="axis-label">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.top + h - M.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${esc(yLabel)}</text>`,
  );
  return parts.join('');
}

function legend(series: ReadonlyArray<{ name: string; color: string }>, x: number): string {
  let at = x;
  return series
    .map((s) => {
      const item = `<rect x="${at}" y="8" width="12" height="12" fill="${s.color}"/><text x="${at + 16}" y="18">${esc(s.name)}</text>`;
      at += 30 + s.name.length * 6.5;
      return item;
    })
    .join('');
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  if (values.length === 0) return fallback;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

export function lineChart(c: LineChart): string {
  const w = c.width ?? 560;
  const h = c.height ?? 260;
  const xd =
    c.xDomain ??
    extent(
      c.series.flatMap((s) => s.points.map((p) => p[0])),
      [0, 1],
    );
  const yd =
    c.yDomain ??
    extent(
      c.series.flatMap((s) => s.points.map((p) => p[1])),
      [0, 1],
    );
  const sx = (x: number) => M.left + ((x - xd[0]) / (xd[1] - xd[0] || 1)) * (w - M.left - M.right);
  const sy = (y: number) => h - M.bottom - ((y - yd[0]) / (yd[1] - yd[0] || 1)) * (h - M.top - M.bottom);
  const paths = c.series.map((s) => {
    let d = '';
    s.points.forEach(([x, y], i) => {
      const prev = s.points[i - 1];
      if (i === 0) d += `M${n(sx(x))},${n(sy(y))}`;
      else d += s.step && prev ? `H${n(sx(x))}V${n(sy(y))}` : `L${n(sx(x))},${n(sy(y))}`;
    });
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
  });
  const markers = (c.markers ?? []).map((m, i) => {
    const x = sx(m.x);
    // Labels near the right edge go on the left of their line.
    const text = x > w - 140 ? `x="${n(x - 4)}" text-anchor="end"` : `x="${n(x + 4)}"`;
    return `<line x1="${n(x)}" x2="${n(x)}" y1="${M.top}" y2="${h - M.bottom}" stroke="${m.color}" stroke-dasharray="2 3"/><text ${text} y="${M.top + 12 + i * 13}" fill="${m.color}">${esc(m.text)}</text>`;
  });
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(c.title)}">${axes(w, h, xd, yd, sx, sy, c.xLabel, c.yLabel)}${paths.join('')}${markers.join('')}${legend(c.series, M.left)}</svg>`;
}

export interface BarGroup {
  name: string;
  bars: Array<{ name: string; color: string; value: number; text: string }>;
}

/** Horizontal bars, each group scaled to its own largest value (the point is the ratio). */
export function barGroups(groups: BarGroup[], width = 560): string {
  const row = 18;
  const labelW = 120;
  let y = 8;
  const parts: string[] = [];
  for (const g of groups) {
    const max = Math.max(...g.bars.map((b) => b.value), 1e-9);
    parts.push(`<text x="0" y="${y + 13}" class="group">${esc(g.name)}</text>`);
    for (const b of g.bars) {
      const bw = Math.max(1, (b.value / max) * (width - labelW - 130));
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${n(bw)}" height="${row - 4}" fill="${b.color}"/><text x="${n(labelW + bw + 6)}" y="${y + 12}">${esc(b.name)} ${esc(b.text)}</text>`,
      );
      y += row;
    }
    y += 8;
  }
  return `<svg class="chart" viewBox="0 0 ${width} ${y}" width="${width}" height="${y}" role="img">${parts.join('')}</svg>`;
}

export interface GanttRow {
  queued: [number, number] | undefined;
  dispatched: [number, number] | undefined;
  running: [number, number] | undefined;
  color: string;
}

/** One row per session: waiting for a slot (grey), handed to a worker (light), running (thread colour). */
export function gantt(rows: GanttRow[], durationMs: number, title: string, legendItems: Array<{ name: string; color: string }>, width = 1140): string {
  const rowH = Math.max(1, Math.min(10, Math.floor(360 / Math.max(1, rows.length))));
  const h = M.top + rows.length * rowH + M.bottom;
  const xd: [number, number] = [0, Math.max(1, durationMs)];
  const sx = (x: number) => M.left + (x / xd[1]) * (width - M.left - M.right);
  const bars = rows.map((r, i) => {
    const y = M.top + i * rowH;
    const seg = (span: [number, number] | undefined, fill: string) =>
      span
        ? `<rect x="${n(sx(span[0]))}" y="${y}" width="${n(Math.max(0.5, sx(span[1]) - sx(span[0])))}" height="${Math.max(1, rowH - (rowH > 3 ? 1 : 0))}" fill="${fill}"/>`
        : '';
    return seg(r.queued, '#cbd5e1') + seg(r.dispatched, '#fde68a') + seg(r.running, r.color);
  });
  const grid = ticks(0, xd[1])
    .map(
      (t) =>
        `<line x1="${n(sx(t))}" x2="${n(sx(t))}" y1="${M.top}" y2="${h - M.bottom}" class="grid"/><text x="${n(sx(t))}" y="${h - M.bottom + 14}" text-anchor="middle">${label(t)}</text>`,
    )
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img" aria-label="${esc(title)}">${grid}${bars.join('')}<text x="${(M.left + width - M.right) / 2}" y="${h - 6}" text-anchor="middle" class="axis-label">ms since the round started</text>${legend(legendItems, M.left)}</svg>`;
}

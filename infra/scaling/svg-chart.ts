/**
 * Line charts as plain SVG (no dependency, deterministic output): stacked panels sharing an x
 * axis, one line per series. Used by `simulate` (time series per policy) and `plan` (throughput
 * and p99 by concurrency).
 */

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (e.g. the SLO). */
  rules?: Array<{ y: number; label: string; color: string }>;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  /** Formats an x tick (default: the number). */
  xTick?: (x: number) => string;
  panels: Panel[];
  width?: number;
  panelHeight?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function fmt(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(n / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  if (a >= 10 || n === 0) return `${+n.toFixed(0)}`;
  return `${+n.toFixed(2)}`;
}

/** Keeps at most ~`max` points per series (every k-th plus each bucket's extreme), so a day at 1 s stays a small file. */
function thin(points: Array<[number, number]>, max = 600): Array<[number, number]> {
  if (points.length <= max) return points;
  const k = Math.ceil(points.length / max);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += k) {
    let best = points[i];
    for (let j = i; j < Math.min(points.length, i + k); j++) if (points[j][1] > best[1]) best = points[j];
    out.push([points[i][0], best[1]]);
  }
  return out;
}

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const ph = spec.panelHeight ?? 180;
  const left = 72;
  const right = width - 180;
  const top = spec.subtitle ? 56 : 40;
  const gap = 40;
  const height = top + spec.panels.length * (ph + gap) + 20;
  let xMin = Infinity;
  let xMax = -Infinity;
  for (const p of spec.panels) for (const s of p.series) for (const pt of s.points) (xMin = Math.min(xMin, pt[0])), (xMax = Math.max(xMax, pt[0]));
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * (right - left);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  if (spec.subtitle) out.push(`<text x="${left}" y="40" fill="#555">${esc(spec.subtitle)}</text>`);
  spec.panels.forEach((panel, i) => {
    const y0 = top + i * (ph + gap);
    let yMax = 1e-9;
    for (const s of panel.series) for (const p of s.points) yMax = Math.max(yMax, p[1]);
    for (const r of panel.rules ?? []) yMax = Math.max(yMax, r.y);
    yMax *= 1.08;
    const step = niceStep(yMax, 4);
    const top2 = Math.ceil(yMax / step) * step;
    const sy = (y: number) => y0 + ph - (y / top2) * ph;
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<text x="16" y="${y0 + ph / 2}" transform="rotate(-90 16 ${y0 + ph / 2})" text-anchor="middle" fill="#555">${esc(panel.yLabel)}</text>`);
    for (let y = 0; y <= top2 + 1e-9; y += step) {
      out.push(`<line x1="${left}" x2="${right}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#e5e7eb"/>`);
      out.push(`<text x="${left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(y)}</text>`);
    }
    const xs = niceStep(xMax - xMin, 8);
    for (let x = Math.ceil(xMin / xs) * xs; x <= xMax + 1e-9; x += xs) {
      out.push(`<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${y0 + ph}" y2="${y0 + ph + 4}" stroke="#999"/>`);
      out.push(`<text x="${sx(x).toFixed(1)}" y="${y0 + ph + 15}" text-anchor="middle" fill="#555">${esc(spec.xTick ? spec.xTick(x) : fmt(x))}</text>`);
    }
    out.push(`<rect x="${left}" y="${y0}" width="${right - left}" height="${ph}" fill="none" stroke="#9ca3af"/>`);
    for (const r of panel.rules ?? []) {
      out.push(`<line x1="${left}" x2="${right}" y1="${sy(r.y).toFixed(1)}" y2="${sy(r.y).toFixed(1)}" stroke="${r.color}" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${right + 6}" y="${(sy(r.y) + 4).toFixed(1)}" fill="${r.color}">${esc(r.label)}</text>`);
    }
    panel.series.forEach((s, k) => {
      const d = thin(s.points).map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<line x1="${right + 8}" x2="${right + 24}" y1="${y0 + 10 + k * 16}" y2="${y0 + 10 + k * 16}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<text x="${right + 28}" y="${y0 + 14 + k * 16}">${esc(s.name)}</text>`);
    });
  });
  out.push(`<text x="${(left + right) / 2}" y="${height - 4}" text-anchor="middle" fill="#555">${esc(spec.xLabel)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

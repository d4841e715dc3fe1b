/**
 * The results chart, written as plain SVG: one panel per model, successful requests/s per
 * scenario grouped by concurrency, and the in-process onnxruntime peak (the physical limit)
 * drawn across each panel. Re-render from saved results:
 *
 *   node dist/bench/chart.js bench/results/latest.json > bench/results/latest.svg
 */
import fs from 'node:fs';
import { BenchResults, ModelResult, SCENARIOS, SCENARIO_LABELS } from './results-types';

const COLORS: Record<string, string> = {
  'bare-fastify': '#9aa5b1',
  'naive-handler': '#e8a33d',
  'fleet-json': '#5b8def',
  'fleet-binary': '#1f4fbf',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (n >= 1_000_000 ? `${(n / 1e6).toFixed(2)}M` : n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));

/** A model's batching settings in a few words, for the footer. */
function batchingText(config: unknown): string {
  const c = config as { max_batch_size?: number; dynamic_batching?: { max_queue_delay_microseconds?: number; preferred_batch_size?: number[]; default_queue_policy?: { max_queue_size?: number } } };
  const d = c.dynamic_batching;
  if (!d) return `max batch ${c.max_batch_size ?? 0}, no dynamic batching`;
  return `max batch ${c.max_batch_size}, delay ${d.max_queue_delay_microseconds ?? 0} µs, preferred [${(d.preferred_batch_size ?? []).join(',')}], queue ${d.default_queue_policy?.max_queue_size ?? '–'}`;
}

function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * mag >= x) return step * mag;
  return 10 * mag;
}

function panel(m: ModelResult, x0: number, y0: number, width: number, height: number): string {
  const out: string[] = [];
  const left = x0 + 64;
  const right = x0 + width - 16;
  const top = y0 + 44;
  const bottom = y0 + height - 44;
  const concurrencies = [...new Set(m.cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const maxBar = Math.max(1, ...m.cells.map((c) => c.okPerSecond));
  const peak = m.inProcess.best.inferencesPerSecond;
  // The peak is drawn when it fits on a scale that still shows the bars; otherwise it is noted.
  const peakOnScale = peak <= maxBar * 4;
  const yMax = niceCeil(Math.max(maxBar, peakOnScale ? peak : 0) * 1.08);
  const y = (v: number) => bottom - (v / yMax) * (bottom - top);

  out.push(`<text x="${x0 + 8}" y="${y0 + 20}" class="title">${esc(m.label)}</text>`);
  // Grid and axis.
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    out.push(`<line x1="${left}" x2="${right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<text transform="translate(${x0 + 14},${(top + bottom) / 2}) rotate(-90)" class="axis" text-anchor="middle">successful requests / s</text>`);

  const groupWidth = (right - left) / concurrencies.length;
  const barWidth = Math.min(34, (groupWidth - 24) / SCENARIOS.length);
  concurrencies.forEach((c, gi) => {
    const gx = left + gi * groupWidth + (groupWidth - barWidth * SCENARIOS.length) / 2;
    SCENARIOS.forEach((s, si) => {
      const cell = m.cells.find((k) => k.scenario === s && k.concurrency === c);
      if (!cell) return;
      const bx = gx + si * barWidth;
      const by = y(cell.okPerSecond);
      const shed = Object.values(cell.non2xx).reduce((a, b) => a + b, 0);
      out.push(
        `<rect x="${(bx + 1).toFixed(1)}" y="${by.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(bottom - by).toFixed(1)}" fill="${COLORS[s]}">` +
          `<title>${esc(`${SCENARIO_LABELS[s]}, concurrency ${c}: ${cell.okPerSecond.toFixed(0)} req/s, p50 ${cell.p50} ms, p99 ${cell.p99} ms${shed ? `, ${shed} non-2xx` : ''}`)}</title></rect>`,
      );
      out.push(`<text x="${(bx + barWidth / 2).toFixed(1)}" y="${(by - 3).toFixed(1)}" class="value" text-anchor="middle">${fmt(cell.okPerSecond)}</text>`);
    });
    out.push(`<text x="${(left + gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${bottom + 16}" class="tick" text-anchor="middle">concurrency ${c}</text>`);
  });
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" class="axisline"/>`);

  const peakText = `in-process onnxruntime peak (physical limit): ${fmt(peak)} inferences/s (${m.inProcess.best.sessions} session${m.inProcess.best.sessions > 1 ? 's' : ''} × ${m.inProcess.best.threads} thread${m.inProcess.best.threads > 1 ? 's' : ''}, batch ${m.inProcess.best.batch})`;
  if (peakOnScale) {
    out.push(`<line x1="${left}" x2="${right}" y1="${y(peak).toFixed(1)}" y2="${y(peak).toFixed(1)}" class="peak"/>`);
    out.push(`<text x="${right}" y="${(y(peak) - 5).toFixed(1)}" class="peaklabel" text-anchor="end">${esc(peakText)}</text>`);
  } else {
    out.push(`<text x="${right}" y="${top - 8}" class="peaklabel" text-anchor="end">${esc(`↑ off scale: ${peakText}`)}</text>`);
  }
  return out.join('\n');
}

export function renderChart(results: BenchResults): string {
  const width = 960;
  const panelHeight = 340;
  const legendHeight = 40;
  const footer = 58;
  const height = legendHeight + panelHeight * results.models.length + footer;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`);
  parts.push(`<style>
  .title { font-size: 15px; font-weight: 600; fill: #1b1f24; }
  .tick { font-size: 11px; fill: #57606a; }
  .axis { font-size: 11px; fill: #57606a; }
  .value { font-size: 9px; fill: #1b1f24; paint-order: stroke; stroke: #ffffff; stroke-width: 2px; }
  .legend { font-size: 12px; fill: #1b1f24; }
  .note { font-size: 10.5px; fill: #57606a; }
  .grid { stroke: #e5e8eb; stroke-width: 1; }
  .axisline { stroke: #8c959f; stroke-width: 1; }
  .peak { stroke: #cf222e; stroke-width: 2; stroke-dasharray: 6 4; }
  .peaklabel { font-size: 11px; fill: #cf222e; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
</style>`);
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  let lx = 16;
  for (const s of SCENARIOS) {
    parts.push(`<rect x="${lx}" y="14" width="12" height="12" fill="${COLORS[s]}"/><text x="${lx + 17}" y="24" class="legend">${esc(SCENARIO_LABELS[s])}</text>`);
    lx += 34 + SCENARIO_LABELS[s].length * 6.6;
  }
  parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="20" y2="20" class="peak"/><text x="${lx + 28}" y="24" class="legend">in-process peak</text>`);
  results.models.forEach((m, i) => parts.push(panel(m, 0, legendHeight + i * panelHeight, width, panelHeight)));
  const fleet = results.onnxFleet.args.join(' ');
  parts.push(
    `<text x="16" y="${height - 40}" class="note">${esc(`${results.mode} run ${results.generatedAt.slice(0, 16).replace('T', ' ')}Z · ${results.machine.cpus} cores (${results.machine.cpuModel}) · Node ${results.machine.node} · onnxruntime-node ${results.machine.onnxruntimeNode} · autocannon ${results.secondsPerCell} s per cell`)}</text>`,
  );
  parts.push(
    `<text x="16" y="${height - 25}" class="note">${esc(`onnx-fleet serve ${fleet}`)}</text>` +
      `<text x="16" y="${height - 10}" class="note">${esc(Object.entries(results.onnxFleet.configs).map(([k, v]) => `${k}: ${batchingText(v)}`).join(' · '))}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

if (require.main === module) {
  const file = process.argv[2] ?? 'bench/results/latest.json';
  process.stdout.write(renderChart(JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults));
}

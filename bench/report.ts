/** The markdown the README includes, built from the results JSON. */
import fs from 'node:fs';
import { BenchResults, Cell, ModelResult, SCENARIOS, SCENARIO_LABELS } from './results-types';

const num = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const ratio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : `${n.toFixed(2)}×`);
const shed = (c: Cell) => {
  const entries = Object.entries(c.non2xx).filter(([, n]) => n > 0);
  return entries.length === 0 ? '0' : entries.map(([s, n]) => `${n} (${s})`).join(', ');
};

const cpuMs = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n < 0.1 ? n.toFixed(3) : n.toFixed(2));
const cpu = (c: Cell) => [c.serverCpuPercent, c.loadGeneratorCpuPercent, c.foreignCpuPercent].map((x) => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x))).join(' / ');

function best(m: ModelResult, scenario: string): Cell | undefined {
  return m.cells.filter((c) => c.scenario === scenario).reduce<Cell | undefined>((a, b) => (!a || b.okPerSecond > a.okPerSecond ? b : a), undefined);
}

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  for (const m of r.models) {
    const peak = m.inProcess.best;
    lines.push(`#### ${m.label}`);
    lines.push('');
    lines.push(
      `In-process onnxruntime-node peak (physical limit, best over sessions × threads × batch): **${num(peak.inferencesPerSecond)} inferences/s** (${peak.sessions} session${peak.sessions > 1 ? 's' : ''} × ${peak.threads} intra-op thread${peak.threads > 1 ? 's' : ''}, batch ${peak.batch}), ${cpuMs(peak.cpuMsPerInference)} ms of CPU per inference.`,
    );
    const b = m.fleetBatching;
    if (b) lines.push(`onnx-fleet's batch size: **${b.preferredBatchSize}** (${b.source}${b.calibrationCpuUs ? `; calibration at load measured µs of CPU per inference by size ${b.calibrationCpuUs.replace(/,/g, ', ')}` : ''}).`);
    lines.push('');
    lines.push('| scenario | conc. | req/s (2xx) | p50 ms | p99 ms | non-2xx | ready p99 ms | × in-process | × bare Fastify | × naive | server CPU ms / inference | CPU % server / load generator / other |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of SCENARIOS) {
      for (const c of m.cells.filter((k) => k.scenario === s).sort((a, b) => a.concurrency - b.concurrency)) {
        lines.push(
          `| ${SCENARIO_LABELS[s]} | ${c.concurrency} | ${num(c.okPerSecond)} | ${ms(c.p50)} | ${ms(c.p99)} | ${shed(c)} | ${ms(c.health?.p99)} | ${ratio(c.ratios?.vsInProcessPeak)} | ${ratio(c.ratios?.vsBareFastify)} | ${ratio(c.ratios?.vsNaive)} | ${cpuMs(c.cpuMsPerInference)} | ${cpu(c)} |`,
        );
      }
    }
    for (const o of [m.overload, m.overloadWithDeadline]) {
      if (!o) continue;
      lines.push(
        `| overload: binary at 3× (${num(o.offeredPerSecond)} req/s offered, ${num(o.sentPerSecond)} sent${o.requestTimeoutUs === undefined ? '' : `; every request with timeout ${num(o.requestTimeoutUs / 1000)} ms`}) | ${o.concurrency} | ${num(o.okPerSecond)} | ${ms(o.p50)} | ${ms(o.p99)} | ${shed(o)} | ${ms(o.health?.p99)} | ${ratio(o.ratios?.vsInProcessPeak)} | ${ratio(o.ratios?.vsBareFastify)} | ${ratio(o.ratios?.vsNaive)} | ${cpuMs(o.cpuMsPerInference)} | ${cpu(o)} |`,
      );
    }
    lines.push('');
    const bin = best(m, 'fleet-binary');
    const json = best(m, 'fleet-json');
    const naive = best(m, 'naive-handler');
    const bare = best(m, 'bare-fastify');
    const topC = Math.max(...m.cells.map((c) => c.concurrency));
    const healthAt = (s: string) => m.cells.find((c) => c.scenario === s && c.concurrency === topC)?.health?.p99;
    const summary: string[] = [];
    if (bin) summary.push(`best binary ${num(bin.okPerSecond)} req/s = **${ratio(bin.okPerSecond / peak.inferencesPerSecond)} the in-process peak**, server CPU ${cpuMs(bin.cpuMsPerInference)} ms per inference = **${ratio((bin.cpuMsPerInference ?? NaN) / (peak.cpuMsPerInference ?? NaN))} in-process**`);
    const json32 = m.cells.find((c) => c.scenario === 'fleet-json' && c.concurrency === 32);
    const bare32 = m.cells.find((c) => c.scenario === 'bare-fastify' && c.concurrency === 32);
    if (json32 && bare32) summary.push(`JSON at 32 connections ${num(json32.okPerSecond)} req/s = **${ratio(json32.okPerSecond / bare32.okPerSecond)} bare Fastify** at 32 (${num(bare32.okPerSecond)})`);
    if (bin && naive) summary.push(`**${ratio(bin.okPerSecond / naive.okPerSecond)} the naive handler's best** (${num(naive.okPerSecond)})`);
    if (bin && bare) summary.push(`${ratio(bin.okPerSecond / bare.okPerSecond)} bare Fastify's best (${num(bare.okPerSecond)})`);
    if (json && bin) summary.push(`JSON tensors reach ${ratio(json.okPerSecond / bin.okPerSecond)} of binary`);
    summary.push(
      `\`/v2/health/ready\` p99 while saturated (concurrency ${topC}): **${ms(healthAt('fleet-binary'))} ms** with binary tensors, ${ms(healthAt('fleet-json'))} ms with JSON tensors (naive handler: ${ms(healthAt('naive-handler'))} ms)`,
    );
    for (const o of [m.overload, m.overloadWithDeadline]) {
      if (!o) continue;
      const shedTotal = Object.values(o.non2xx).reduce((a, b) => a + b, 0);
      summary.push(
        `at 3× load${o.requestTimeoutUs === undefined ? '' : ` with a ${num(o.requestTimeoutUs / 1000)} ms timeout per request`}: accepted p99 ${ms(o.p99)} ms vs unloaded p99 ${ms(o.unloadedP99)} ms (**${ratio(o.p99 / o.unloadedP99)}**), ${num(shedTotal)} shed with p99 **${ms(o.non2xxP99)} ms**, goodput ${num(o.okPerSecond)} req/s = **${ratio(o.okPerSecond / o.sustainablePerSecond)} capacity** (${num(o.sustainablePerSecond)}), ${o.errors} errors, ${o.timeouts} timeouts, RSS ${num(o.rssBeforeMiB)} → peak ${num(o.rssPeakMiB)} MiB`,
      );
    }
    const f = m.shedderFloor;
    if (f) summary.push(`the ideal shedder (node:http answering 503 at once, bench/peers/ideal-shedder.ts) under the same open loop, alone on the box: 503 p99 **${ms(f.p99)} ms** (p50 ${ms(f.p50)}), ${cpuMs(f.cpuMsPerShed)} ms of CPU per 503, ${f.failed} failed`);
    lines.push(`Best cells: ${summary.join('; ')}.`);
    lines.push('');
  }
  lines.push(
    `_${r.mode} run, ${r.secondsPerCell} s per cell, ${r.generatedAt.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, onnxruntime-node ${r.machine.onnxruntimeNode}. ` +
      `Machine busy before/after the run: ${r.machine.before.busyPercent}% / ${r.machine.after.busyPercent}% CPU; CPU is in % of one core (${r.machine.cpus * 100}% = the whole machine): the server under test (all its threads), the load generator, and other processes on this shared box during the cell. onnx-fleet: \`${r.onnxFleet.args.join(' ')}\`._`,
  );
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  process.stdout.write(markdown(JSON.parse(fs.readFileSync(process.argv[2] ?? 'bench/results/latest.json', 'utf8')) as BenchResults));
}

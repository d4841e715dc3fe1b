/**
 * `onnx-fleet plan`: measures one instance's capacity on this machine at a p99 SLO (closed-loop
 * ramp, then an open-loop request-rate ramp: bench/capacity.ts), prints both as tables and a chart, writes the instance profile
 * `simulate` replays, and, given a stack, writes the scaling numbers into its file with a comment
 * explaining each: the per-instance targets (saturation, requests per target), and for a traffic
 * profile the group's min, max and warm pool. Records the CPU it measured on and warns when the
 * stack's instance type runs a different one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureRamp, requestFromMetadata, startMeasuredRuntime } from '../../bench/capacity';
import { parseModelConfig } from '../../runtime/models/model-config';
import { ConfigError, parseStackConfig, StackConfig } from '../config';
import { readStackFile } from '../synth';
import { LAUNCH_ASSUMPTIONS, TARGET_UTILIZATION } from './compare';
import { deriveTargets, InstanceProfile } from './instance-profile';
import { profileFileOf, stackFileOf } from './simulate-command';
import { applyStackEdits, StackEdit } from './stack-file';
import { fmt, renderChart } from './svg-chart';

const USAGE = `usage: onnx-fleet plan --model-repository <dir> --slo-p99-ms <ms> [--model <name>]
         [--stack <name> | --config-file <path>] [--base-rps <n>] [--peak-rps <n>] [--burst-rise-seconds 60]
         [--workers <n>] [--intra-op-threads <n>] [--step-seconds 5] [--max-concurrency 512] [--out <dir>] [--json]

  Measures one instance of the runtime on this machine (run it on the stack's instance type for real numbers).
  --base-rps / --peak-rps   the traffic profile (trough and forecast peak, all models' requests per second):
                            with them, min, max and the warm pool are written too
  --out                     where the profile (.capacity.json) and chart (.capacity.svg) go
                            (default: next to the stack file, else the current directory)`;

class UsageError extends Error {}

interface Options {
  repository: string;
  slo: number;
  model?: string;
  stack?: string;
  configFile?: string;
  baseRps?: number;
  peakRps?: number;
  burstRiseSeconds: number;
  workers?: number;
  intraOpThreads?: number;
  stepSeconds: number;
  maxConcurrency: number;
  out?: string;
  json: boolean;
}

function positive(flag: string, raw: string | undefined, max = 1e9): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${flag}: got ${JSON.stringify(raw)}, expected a number above 0 and at most ${max}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Partial<Options> & { burstRiseSeconds: number; stepSeconds: number; maxConcurrency: number; json: boolean } = { burstRiseSeconds: 60, stepSeconds: 5, maxConcurrency: 512, json: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--model-repository': o.repository = value(); break;
      case '--slo-p99-ms': o.slo = positive(flag, value(), 600_000); break;
      case '--model': o.model = value(); break;
      case '--stack': o.stack = value(); break;
      case '--config-file': o.configFile = value(); break;
      case '--base-rps': o.baseRps = positive(flag, value()); break;
      case '--peak-rps': o.peakRps = positive(flag, value()); break;
      case '--burst-rise-seconds': o.burstRiseSeconds = positive(flag, value(), 86_400); break;
      case '--workers': o.workers = positive(flag, value(), 256); break;
      case '--intra-op-threads': o.intraOpThreads = positive(flag, value(), 256); break;
      case '--step-seconds': o.stepSeconds = positive(flag, value(), 600); break;
      case '--max-concurrency': o.maxConcurrency = positive(flag, value(), 4096); break;
      case '--out': o.out = value(); break;
      case '--json': o.json = true; break;
      default: throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  if (!o.repository) throw new UsageError('--model-repository is required');
  if (o.slo === undefined) throw new UsageError('--slo-p99-ms is required: the p99 latency an instance must keep');
  if ((o.baseRps === undefined) !== (o.peakRps === undefined)) throw new UsageError('--base-rps and --peak-rps go together (the traffic profile)');
  if (o.baseRps !== undefined && o.peakRps! < o.baseRps) throw new UsageError(`--peak-rps: got ${o.peakRps}, expected at least --base-rps (${o.baseRps})`);
  return o as Options;
}

/** The model to measure: --model, or the repository's only model. */
function pickModel(repository: string, model: string | undefined): string {
  if (!fs.existsSync(repository) || !fs.statSync(repository).isDirectory()) throw new UsageError(`--model-repository: ${repository} is not a directory`);
  const models = fs.readdirSync(repository).filter((m) => fs.statSync(path.join(repository, m)).isDirectory()).sort();
  if (model) {
    if (!models.includes(model)) throw new UsageError(`--model: got ${JSON.stringify(model)}, expected one of ${models.join(', ')}`);
    return model;
  }
  if (models.length !== 1) throw new UsageError(`--model is required: ${repository} holds ${models.length} models (${models.join(', ')})`);
  return models[0];
}

function modelConfigOf(repository: string, model: string) {
  const file = path.join(repository, model, 'config.json');
  return parseModelConfig(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '{}');
}

/** Requests the model's queue holds before 503 (Triton: max_queue_size 0 = unbounded). */
function queueBoundOf(repository: string, model: string): number {
  const config = modelConfigOf(repository, model);
  return config.queuePolicy.maxQueueSize > 0 ? config.queuePolicy.maxQueueSize : Number.MAX_SAFE_INTEGER;
}

/** The model's explicit warmup shapes (config.json), which plan's requests use: a real input size, not dynamic dimensions at 1. */
function warmupShapesOf(repository: string, model: string): Record<string, number[]> {
  const warmup = modelConfigOf(repository, model).warmup;
  if (typeof warmup !== 'object') return {};
  return Object.fromEntries(Object.entries(warmup.inputs).map(([name, i]) => [name, i.dims]));
}

/** The CPU an EC2 instance family runs, and its vCPUs by size, to compare with where plan ran. */
const FAMILY_CPUS: Array<{ family: RegExp; cpu: RegExp; name: string }> = [
  { family: /^[cmr]7i/, cpu: /8488C|Sapphire/i, name: 'Intel Xeon Platinum 8488C (Sapphire Rapids)' },
  { family: /^[cmr]6i/, cpu: /8375C|Ice Lake/i, name: 'Intel Xeon Platinum 8375C (Ice Lake)' },
  { family: /^[cmr]5\./, cpu: /8124M|8275CL|8259CL|8223CL/i, name: 'Intel Xeon Platinum 8000 series (Skylake/Cascade Lake)' },
  { family: /^[cmr]7a/, cpu: /EPYC 9R14/i, name: 'AMD EPYC 9R14 (Genoa)' },
  { family: /^[cmr]6a/, cpu: /EPYC 7R13/i, name: 'AMD EPYC 7R13 (Milan)' },
  { family: /^[cmr][678]g/, cpu: /Neoverse|Graviton|^$/i, name: 'AWS Graviton (Arm Neoverse)' },
];

export function vcpusOf(instanceType: string): number | undefined {
  const size = instanceType.split('.')[1] ?? '';
  if (size === 'medium') return 1;
  if (size === 'large') return 2;
  const m = /^(\d*)xlarge$/.exec(size);
  return m ? 4 * Number(m[1] || 1) : undefined;
}

/** A warning when this machine is not what the stack's instance type runs, or undefined. */
export function cpuWarning(profile: Pick<InstanceProfile, 'cpuModel' | 'cores'>, instanceType: string): string | undefined {
  const expected = FAMILY_CPUS.find((f) => f.family.test(instanceType));
  const vcpus = vcpusOf(instanceType);
  const reasons: string[] = [];
  if (!expected) reasons.push(`plan does not know which CPU ${instanceType} runs`);
  else if (!expected.cpu.test(profile.cpuModel)) reasons.push(`${instanceType} runs ${expected.name}`);
  if (vcpus !== undefined && vcpus !== profile.cores) reasons.push(`${instanceType} has ${vcpus} vCPUs, this machine ${profile.cores}`);
  if (reasons.length === 0) return undefined;
  return `measured on ${profile.cpuModel} (${profile.cores} cores), but ${reasons.join(' and ')}: the numbers are this machine's; run plan on a ${instanceType} for the stack's real capacity`;
}

export interface PlanNumbers {
  edits: StackEdit[];
  /** One line per number, for the terminal. */
  lines: string[];
}

/** The scaling numbers for a stack from a measured profile and, optionally, a traffic profile. */
export function planNumbers(profile: InstanceProfile, model: string, stack: StackConfig, traffic: { baseRps: number; peakRps: number; burstRiseSeconds: number } | undefined, date: string): PlanNumbers {
  const t = deriveTargets(profile, TARGET_UTILIZATION);
  const where = `${model} on ${profile.cpuModel}, ${profile.cores} cores, ${profile.workers} workers, ${date}`;
  const measured = `${fmt(Math.round(profile.capacityRps))} req/s per instance at p99 ≤ ${profile.sloP99Ms} ms (${where})`;
  const edits: StackEdit[] = [
    {
      path: ['onnx-fleet:scaling', 'saturationTarget'],
      value: t.saturationTarget,
      why: `saturation measured at ${TARGET_UTILIZATION * 100} % of ${measured}:\n${fmt(Math.round(t.targetRps))} req/s per instance leaves ${Math.round((1 - TARGET_UTILIZATION) * 100)} % for load growth while a scale-out launches`,
    },
    {
      path: ['onnx-fleet:scaling', 'requestsPerTarget'],
      value: t.requestsPerTarget,
      why: `${fmt(Math.round(t.targetRps))} req/s × 60 s: the same ${TARGET_UTILIZATION * 100} % of ${measured}`,
    },
  ];
  if (traffic) {
    const floor = stack.environment === 'prod' ? stack.availabilityZones.length : 1;
    const min = Math.max(floor, Math.ceil(traffic.baseRps / t.targetRps));
    const max = Math.max(min, Math.ceil(traffic.peakRps / t.targetRps) + 1);
    edits.push(
      { path: ['onnx-fleet:minSize'], value: min, why: `base ${fmt(traffic.baseRps)} req/s / ${fmt(Math.round(t.targetRps))} req/s per instance at target${floor > 1 ? `, at least one per zone (${floor})` : ''}` },
      { path: ['onnx-fleet:maxSize'], value: max, why: `peak ${fmt(traffic.peakRps)} req/s / ${fmt(Math.round(t.targetRps))} req/s per instance at target, + 1 for a replacement during an instance refresh` },
    );
    if (stack.desiredCapacity < min || stack.desiredCapacity > max) edits.push({ path: ['onnx-fleet:desiredCapacity'], value: min, why: 'initial capacity = minSize (scaling owns it afterwards)' });
    // The capacity a burst needs while one fresh instance boots, bootstraps and loads its models: that is what must already wait, stopped, in the pool.
    const coldStart = LAUNCH_ASSUMPTIONS.bootSeconds + LAUNCH_ASSUMPTIONS.bootstrapSeconds + profile.startupSeconds;
    const rise = Math.min(traffic.peakRps - traffic.baseRps, ((traffic.peakRps - traffic.baseRps) / traffic.burstRiseSeconds) * coldStart);
    const pool = Math.ceil(rise / profile.capacityRps);
    if (stack.spot.enabled) {
      // Not written: AWS rule asg-warm-pool-mixed-instances.
    } else if (pool > 0) {
      edits.push(
        { path: ['onnx-fleet:warmPool', 'enabled'], value: true, why: 'stopped, pre-initialised instances start in boot + model load, without the bootstrap' },
        {
          path: ['onnx-fleet:warmPool', 'minSize'],
          value: pool,
          why: `a burst of ${fmt(traffic.peakRps - traffic.baseRps)} req/s over ${traffic.burstRiseSeconds} s rises ${fmt(Math.round(rise))} req/s during one cold launch (${Math.round(coldStart)} s: ${LAUNCH_ASSUMPTIONS.bootSeconds} s boot + ${LAUNCH_ASSUMPTIONS.bootstrapSeconds} s bootstrap + ${profile.startupSeconds.toFixed(1)} s model load)\n/ ${fmt(Math.round(profile.capacityRps))} req/s per instance at the SLO`,
        },
      );
    }
  }
  const lines = edits.map((e) => `${e.path.join('.')} = ${JSON.stringify(e.value)}   (${e.why.replace(/\n/g, ' ')})`);
  if (traffic && stack.spot.enabled) lines.push('warmPool: not written: the stack uses spot (a warm pool cannot be combined with a mixed instances policy)');
  return { edits, lines };
}

export function rampTable(profile: InstanceProfile): string {
  const rows = [['concurrency', 'req/s', 'p50 ms', 'p99 ms', 'saturation', 'CPU %', 'SLO'], ...profile.ramp.map((p) => [String(p.concurrency), fmt(p.rps), p.p50Ms.toFixed(1), p.p99Ms.toFixed(1), p.saturation.toFixed(2), p.cpuPercent.toFixed(0), p.p99Ms <= profile.sloP99Ms ? 'ok' : 'over'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** The open-loop request-rate ramp that found the capacity, and the overload steps beyond it. */
export function rateTable(profile: InstanceProfile): string {
  const rows = [
    ['open loop', 'offered req/s', 'ok req/s', 'shed req/s', 'p99 ms', 'SLO'],
    ...(profile.rateRamp ?? []).map((s) => ['rate ramp', fmt(s.offeredRps), fmt(s.okRps), fmt(s.shedRps), s.p99Ms.toFixed(1), s.meetsSlo ? 'ok' : 'over']),
    ...(profile.overload ?? []).filter((o) => !(profile.rateRamp ?? []).some((s) => s.offeredRps === o.offeredRps)).map((o) => ['overload', fmt(o.offeredRps), fmt(o.okRps), fmt(o.shedRps), '', '']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function rampChart(profile: InstanceProfile, model: string): string {
  const x = (c: number) => Math.log2(c);
  const pts = (f: (p: InstanceProfile['ramp'][number]) => number) => profile.ramp.map((p) => [x(p.concurrency), f(p)] as [number, number]);
  return renderChart({
    title: `onnx-fleet plan: ${model}, one instance`,
    subtitle: `${profile.cpuModel}, ${profile.cores} cores, ${profile.workers} workers; capacity ${fmt(Math.round(profile.capacityRps))} req/s at p99 ≤ ${profile.sloP99Ms} ms, peak ${fmt(Math.round(profile.peakRps))} req/s`,
    xLabel: 'concurrent requests (closed loop)',
    xTick: (v) => String(Math.round(2 ** v)),
    panelHeight: 150,
    panels: [
      { title: 'Throughput', yLabel: 'ok req/s', series: [{ name: 'req/s', color: '#1f4fbf', points: pts((p) => p.rps) }], rules: [{ y: profile.capacityRps, label: 'capacity at SLO (open loop)', color: '#16a34a' }, ...(profile.closedLoopCapacityRps !== undefined && profile.closedLoopCapacityRps !== profile.capacityRps ? [{ y: profile.closedLoopCapacityRps, label: 'closed loop at SLO', color: '#9aa5b1' }] : [])] },
      { title: 'p99 latency', yLabel: 'ms', series: [{ name: 'p99', color: '#e8a33d', points: pts((p) => p.p99Ms) }, { name: 'p50', color: '#9aa5b1', points: pts((p) => p.p50Ms) }], rules: [{ y: profile.sloP99Ms, label: `SLO ${profile.sloP99Ms} ms`, color: '#dc2626' }] },
      { title: 'Saturation signal and CPU', yLabel: 'value', series: [{ name: 'saturation', color: '#16a34a', points: pts((p) => p.saturation) }, { name: 'CPU % / 10', color: '#7c3aed', dashed: true, points: pts((p) => p.cpuPercent / 10) }] },
    ],
  });
}

export async function planCommand(argv: string[]): Promise<number> {
  let o: Options;
  let model: string;
  let stackFile: { file: string; name: string } | undefined;
  let stack: StackConfig | undefined;
  try {
    o = parseArgs(argv);
    model = pickModel(path.resolve(o.repository), o.model);
    if (o.stack || o.configFile) {
      stackFile = stackFileOf(o.stack, o.configFile);
      stack = parseStackConfig(readStackFile(stackFile.file, { omitSecrets: true }));
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`onnx-fleet plan: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const repository = path.resolve(o.repository);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const serveArgs = [...(o.workers ? ['--workers', String(o.workers)] : []), ...(o.intraOpThreads ? ['--intra-op-threads', String(o.intraOpThreads)] : [])];
  log(`plan: starting the runtime on ${repository} (${serveArgs.join(' ') || 'default workers'}) …`);
  const runtime = await startMeasuredRuntime(repository, serveArgs);
  let profile: InstanceProfile;
  try {
    const workers = o.workers ?? os.cpus().length;
    log(`plan: ready in ${runtime.startupSeconds.toFixed(1)} s; ramping ${model} in ${o.stepSeconds} s steps until p99 > ${o.slo} ms (closed loop), then open-loop rates from there to the highest within the SLO`);
    profile = await measureRamp({
      url: runtime.url,
      pid: runtime.pid,
      request: await requestFromMetadata(runtime.url, model, warmupShapesOf(repository, model)),
      sloP99Ms: o.slo,
      workers,
      queueBound: queueBoundOf(repository, model),
      startupSeconds: runtime.startupSeconds,
      stepMs: o.stepSeconds * 1000,
      maxConcurrency: o.maxConcurrency,
      onRate: (v) => log(`  rate ${fmt(v.offeredRps).padStart(6)} req/s (open loop)  ${fmt(v.okRps).padStart(6)} ok  p99 ${v.p99Ms.toFixed(1).padStart(7)} ms  ${v.meetsSlo ? 'ok' : 'over SLO'}${v.shedRps ? `  (${fmt(v.shedRps)}/s shed)` : ''}${v.foreignCpuPercent > 20 ? `  [other work used ${v.foreignCpuPercent} % CPU]` : ''}`),
      onOverload: (v) => log(`  overload (open loop): ${fmt(v.offeredRps)} req/s offered, ${fmt(v.okRps)} served, ${fmt(v.shedRps)} shed with 503`),
      onStep: (p) =>
        log(`  c=${String(p.concurrency).padStart(3)}  ${fmt(p.rps).padStart(6)} req/s  p99 ${p.p99Ms.toFixed(1).padStart(7)} ms  saturation ${p.saturation.toFixed(2).padStart(6)}  CPU ${p.cpuPercent.toFixed(0).padStart(3)} %  ${p.meetsSlo ? 'ok' : 'over SLO'}${p.shed ? `  (${p.shed} shed)` : ''}${p.foreignCpuPercent > 20 ? `  [other work used ${p.foreignCpuPercent} % CPU]` : ''}`),
    });
  } catch (err) {
    process.stderr.write(`onnx-fleet plan: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await runtime.stop();
  }

  const outDir = o.out ? path.resolve(o.out) : stackFile ? path.dirname(stackFile.file) : process.cwd();
  fs.mkdirSync(outDir, { recursive: true });
  const profileFile = stackFile && !o.out ? profileFileOf(stackFile.file) : path.join(outDir, `${stackFile?.name ?? model}.capacity.json`);
  const chartFile = profileFile.replace(/\.json$/, '.svg');
  fs.writeFileSync(profileFile, JSON.stringify({ model, measuredAt: new Date().toISOString(), ...profile }, null, 2) + '\n');
  fs.writeFileSync(chartFile, rampChart(profile, model));

  const closed = profile.closedLoopCapacityRps !== undefined ? `; closed loop ${fmt(Math.round(profile.closedLoopCapacityRps))} req/s` : '';
  const out: string[] = [`${model}: ${fmt(Math.round(profile.capacityRps))} req/s per instance at p99 ≤ ${profile.sloP99Ms} ms in open loop (peak ${fmt(Math.round(profile.peakRps))} req/s${closed}), on ${profile.cpuModel}, ${profile.cores} cores`, '', rampTable(profile), '', rateTable(profile), ''];
  if (stack && stackFile) {
    const warning = cpuWarning(profile, stack.instanceType);
    if (warning) log(`plan: warning: ${warning}`);
    const traffic = o.baseRps !== undefined ? { baseRps: o.baseRps, peakRps: o.peakRps!, burstRiseSeconds: o.burstRiseSeconds } : undefined;
    const numbers = planNumbers(profile, model, stack, traffic, new Date().toISOString().slice(0, 10));
    if (warning) numbers.edits[0].why += `\nwarning: ${warning}`;
    const before = fs.readFileSync(stackFile.file, 'utf8');
    const after = applyStackEdits(before, numbers.edits);
    // The file must still be a valid stack: a number plan wrote that the schema refuses is a bug to see now, not at `pulumi up`.
    const tmp = `${stackFile.file}.plan-check`;
    fs.writeFileSync(tmp, after);
    try {
      parseStackConfig(readStackFile(tmp, { omitSecrets: true }));
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    fs.writeFileSync(stackFile.file, after);
    out.push(`wrote ${path.relative(process.cwd(), stackFile.file)}:`, ...numbers.lines.map((l) => `  ${l}`), '');
    if (!traffic) out.push('  (min, max and warm pool unchanged: pass --base-rps and --peak-rps to size them for a traffic profile)', '');
  }
  out.push(`wrote ${path.relative(process.cwd(), profileFile)} (the instance profile \`onnx-fleet simulate\` replays) and ${path.relative(process.cwd(), chartFile)}`);
  if (o.json) process.stdout.write(JSON.stringify({ model, ...profile }, null, 2) + '\n');
  else process.stdout.write(out.join('\n') + '\n');
  return 0;
}

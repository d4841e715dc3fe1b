/**
 * `onnx-fleet simulate`: a stack's scaling configuration against a traffic trace, CPU, request
 * count and saturation target tracking side by side, with the instance measured by `plan`.
 * Prints a table; writes the chart (SVG), the table (Markdown) and the reports (JSON).
 */
import fs from 'node:fs';
import path from 'node:path';
import { STARTUP_BUDGET_SECONDS } from '../../runtime/contract';
import { ConfigError, parseStackConfig, StackConfig } from '../config';
import { readStackFile, stacksDir } from '../synth';
import { chart, columns, compare, LAUNCH_ASSUMPTIONS, LaunchTimes, table, TARGET_UTILIZATION } from './compare';
import { deriveTargets, InstanceProfile } from './instance-profile';
import { TargetTrackingPolicy } from './target-tracking';
import { BUILT_IN_TRACES, BuiltInTrace, builtInTrace, parseTraceCsv, TRACE_DESCRIPTIONS } from './traffic';

const USAGE = `usage: onnx-fleet simulate (--stack <name> | --config-file <path>) [--profile <plan.json>]
         [--trace ${BUILT_IN_TRACES.join('|')}|<file.csv>] [--base-rps <n>] [--time-scale <0..1>]
         [--boot-seconds <n>] [--bootstrap-seconds <n>] [--out <dir>] [--json]

  --profile     the instance profile \`onnx-fleet plan\` wrote (default: stacks/<stack>.capacity.json)
  --trace       ${BUILT_IN_TRACES.map((t) => `${t}: ${TRACE_DESCRIPTIONS[t]}`).join('\n                ')}
                or a CSV of requests per second (one value per line, or second,rps rows)
  --base-rps    the built-in trace's base rate (default: half the minimum fleet's measured capacity)
  --time-scale  compress the built-in trace's time axis (0.1: a tenth as long; the burst's 60 s ramp stays)
  --out         write <out>/<stack>-<trace>.{svg,md,json}`;

interface Options {
  stack?: string;
  configFile?: string;
  profile?: string;
  trace: string;
  baseRps?: number;
  timeScale: number;
  bootSeconds: number;
  bootstrapSeconds: number;
  out?: string;
  json: boolean;
}

class UsageError extends Error {}

function number(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag}: got ${JSON.stringify(raw)}, expected a number from ${min} to ${max}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { trace: 'burst', timeScale: 1, ...LAUNCH_ASSUMPTIONS, json: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--stack': o.stack = value(); break;
      case '--config-file': o.configFile = value(); break;
      case '--profile': o.profile = value(); break;
      case '--trace': o.trace = value(); break;
      case '--base-rps': o.baseRps = number(flag, value(), 0, 1e9); break;
      case '--time-scale': o.timeScale = number(flag, value(), 0.001, 1); break;
      case '--boot-seconds': o.bootSeconds = number(flag, value(), 0, 3600); break;
      case '--bootstrap-seconds': o.bootstrapSeconds = number(flag, value(), 0, 3600); break;
      case '--out': o.out = value(); break;
      case '--json': o.json = true; break;
      default: throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  if (!o.stack && !o.configFile) throw new UsageError('--stack or --config-file is required');
  return o;
}

export function stackFileOf(stack: string | undefined, configFile: string | undefined): { file: string; name: string } {
  const file = configFile ? path.resolve(configFile) : path.join(stacksDir(), `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new UsageError(`no stack file ${file}`);
  return { file, name: stack ?? path.basename(file).replace(/^Pulumi\.|\.yaml$/g, '') };
}

/** plan writes the instance profile next to the stack file. */
export function profileFileOf(stackFile: string): string {
  return path.join(path.dirname(stackFile), path.basename(stackFile).replace(/^Pulumi\./, '').replace(/\.yaml$/, '') + '.capacity.json');
}

export function readProfile(file: string): InstanceProfile {
  if (!fs.existsSync(file)) throw new UsageError(`no instance profile ${file}; run \`onnx-fleet plan --model-repository <dir> --slo-p99-ms <ms> --stack <name>\` first, or pass --profile`);
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as InstanceProfile;
  for (const k of ['capacityRps', 'peakRps', 'workers', 'queueBound', 'sloP99Ms', 'startupSeconds'] as const) {
    if (typeof p[k] !== 'number') throw new UsageError(`${file}: ${k} missing or not a number; rerun onnx-fleet plan`);
  }
  if (!Array.isArray(p.ramp) || p.ramp.length === 0) throw new UsageError(`${file}: no ramp points; rerun onnx-fleet plan`);
  return p;
}

/** The target tracking policies the stack declares, as the Fleet creates them (infra/aws/fleet.ts). */
export function stackPolicies(stack: StackConfig): TargetTrackingPolicy[] {
  return [
    { metric: 'saturation', target: stack.scaling.saturationTarget, disableScaleIn: true },
    { metric: 'requestCount', target: stack.scaling.requestsPerTarget },
    { metric: 'cpu', target: stack.scaling.cpuTarget },
  ];
}

export async function simulateCommand(argv: string[]): Promise<number> {
  let o: Options;
  let stack: StackConfig;
  let name: string;
  let profile: InstanceProfile;
  let trace: number[];
  let traceName: string;
  try {
    o = parseArgs(argv);
    const found = stackFileOf(o.stack, o.configFile);
    name = found.name;
    stack = parseStackConfig(readStackFile(found.file, { omitSecrets: true }));
    profile = readProfile(o.profile ? path.resolve(o.profile) : profileFileOf(found.file));
    const base = o.baseRps ?? 0.5 * stack.minSize * profile.capacityRps;
    if ((BUILT_IN_TRACES as readonly string[]).includes(o.trace)) {
      trace = builtInTrace(o.trace as BuiltInTrace, base, o.timeScale);
      traceName = o.trace;
    } else {
      if (!fs.existsSync(o.trace)) throw new UsageError(`--trace: got ${JSON.stringify(o.trace)}, expected one of ${BUILT_IN_TRACES.join(', ')} or an existing CSV file`);
      trace = parseTraceCsv(fs.readFileSync(o.trace, 'utf8'), o.trace);
      traceName = path.basename(o.trace).replace(/\.csv$/i, '');
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err instanceof Error && /^[^:]+:\d+:|no rows/.test(err.message))) {
      process.stderr.write(`onnx-fleet simulate: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const derived = deriveTargets(profile, TARGET_UTILIZATION);
  // The single-policy columns aim at measured capacity; "stack as configured" uses the stack's own targets.
  const targets = { cpuTarget: stack.scaling.cpuTarget, requestsPerTarget: derived.requestsPerTarget, saturationTarget: derived.saturationTarget };
  const launch: LaunchTimes = { bootSeconds: o.bootSeconds, bootstrapSeconds: o.bootstrapSeconds, startupSeconds: profile.startupSeconds };
  const results = compare(stack, profile, launch, columns(targets, stackPolicies(stack)), trace);
  const peak = Math.max(...trace);
  const header = [
    `${name}: ${traceName} trace, ${(trace.length / 60).toFixed(1)} min, peak ${Math.round(peak)} req/s; group ${stack.minSize}..${stack.maxSize}${stack.warmPool.enabled ? `, warm pool ${stack.warmPool.minSize}` : ''}`,
    `instance (plan, ${profile.cpuModel}): ${Math.round(profile.capacityRps)} req/s at p99 ≤ ${profile.sloP99Ms} ms, peak ${Math.round(profile.peakRps)} req/s, queue ${profile.queueBound}; ` +
      `launch ${launch.bootSeconds} s boot + ${launch.bootstrapSeconds} s bootstrap + ${launch.startupSeconds.toFixed(1)} s model load (warm pool: no bootstrap); instance warmup ${STARTUP_BUDGET_SECONDS} s`,
    `single-policy targets at ${TARGET_UTILIZATION * 100} % of measured capacity: ${derived.requestsPerTarget} requests/target/min, saturation ${targets.saturationTarget}; CPU ${targets.cpuTarget} % (stack's)`,
  ];
  const text = `${header.join('\n')}\n\n${table(results)}\n`;
  if (o.json) process.stdout.write(JSON.stringify({ stack: name, trace: traceName, targets, launch, results: results.map((r) => ({ name: r.name, policies: r.policies, ...r.report, samples: undefined })) }, null, 2) + '\n');
  else process.stdout.write(text);
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true });
    const base = path.join(o.out, `${name}-${traceName}`);
    fs.writeFileSync(`${base}.svg`, chart(`${name}: ${traceName} trace, policies side by side`, header[1], results, profile));
    fs.writeFileSync(`${base}.md`, text);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ stack: name, trace: traceName, targets, launch, results: results.map((r) => ({ name: r.name, policies: r.policies, ...r.report, samples: undefined })) }, null, 2) + '\n');
    if (!o.json) process.stdout.write(`\nwrote ${base}.svg, .md, .json\n`);
  }
  return 0;
}

/**
 * The scaling policies side by side on one trace: the stack's group settings with CPU, ALB
 * request count and saturation target tracking each alone, and the stack as configured. Pure: a
 * table and an SVG chart from the reports.
 */
import { STARTUP_BUDGET_SECONDS } from '../../runtime/contract';
import type { StackConfig } from '../config';
import type { InstanceProfile } from './instance-profile';
import { GroupSettings, SimulationReport, simulate } from './simulate';
import { fmt, renderChart, Series } from './svg-chart';
import type { TargetTrackingPolicy } from './target-tracking';

/**
 * Seconds from launch to the bootstrap starting (EC2 boot of Amazon Linux 2023) and for the
 * bootstrap's downloads and checks (bundle ≈ 60 MiB and models from S3 in-region). Not measurable
 * here: assumptions, overridable, shown in the report. Model load and warmup come from `plan`.
 */
export const LAUNCH_ASSUMPTIONS = { bootSeconds: 45, bootstrapSeconds: 60 };

/** Share of measured capacity the derived targets aim at: headroom for the seconds a scale-out takes. */
export const TARGET_UTILIZATION = 0.7;

export interface Column {
  name: string;
  policies: TargetTrackingPolicy[];
}

export interface ColumnResult extends Column {
  report: SimulationReport;
}

export interface ScalingTargets {
  cpuTarget: number;
  requestsPerTarget: number;
  saturationTarget: number;
}

export interface LaunchTimes {
  bootSeconds: number;
  bootstrapSeconds: number;
  /** Runtime start to ready (model load + warmup), from plan. */
  startupSeconds: number;
}

/** The group as the stack declares it (warm pool included) with the launch times of this profile. */
export function groupSettings(stack: StackConfig, launch: LaunchTimes, policies: TargetTrackingPolicy[]): GroupSettings {
  return {
    minSize: stack.minSize,
    maxSize: stack.maxSize,
    initialCapacity: stack.minSize,
    policies,
    // The Fleet's defaultInstanceWarmup (infra/aws/fleet.ts).
    instanceWarmupSeconds: STARTUP_BUDGET_SECONDS,
    coldStartSeconds: launch.bootSeconds + launch.bootstrapSeconds + launch.startupSeconds,
    warmPool: stack.warmPool.enabled ? { minSize: stack.warmPool.minSize, warmStartSeconds: launch.bootSeconds + launch.startupSeconds } : undefined,
  };
}

export function columns(targets: ScalingTargets, asConfigured: TargetTrackingPolicy[]): Column[] {
  return [
    { name: 'CPU', policies: [{ metric: 'cpu', target: targets.cpuTarget }] },
    { name: 'request count', policies: [{ metric: 'requestCount', target: targets.requestsPerTarget }] },
    // As the Fleet ships it: saturation scales out, request count (proportional to load) scales in.
    { name: 'saturation', policies: [{ metric: 'saturation', target: targets.saturationTarget, disableScaleIn: true }, { metric: 'requestCount', target: targets.requestsPerTarget }] },
    { name: 'stack as configured', policies: asConfigured },
  ];
}

export function compare(stack: StackConfig, profile: InstanceProfile, launch: LaunchTimes, cols: Column[], trace: number[]): ColumnResult[] {
  return cols.map((c) => ({ ...c, report: simulate({ group: groupSettings(stack, launch, c.policies), instance: profile, trace }) }));
}

const policyText = (ps: TargetTrackingPolicy[]) =>
  ps.map((p) => (p.metric === 'cpu' ? `CPU ${p.target} %` : p.metric === 'requestCount' ? `${fmt(p.target)} req/target/min` : `saturation ${+p.target.toFixed(2)}${p.disableScaleIn ? ' (out only)' : ''}`)).join(' + ') || 'none';

export function table(results: ColumnResult[]): string {
  const rows = [
    ['policy', 'targets', 'shed', 'shed %', 'p99 ms', 's over SLO', 'instance-h', 'warm pool h', 'max in service', 'activities'],
    ...results.map((r) => [
      r.name,
      policyText(r.policies),
      fmt(Math.round(r.report.shed)),
      (100 * r.report.shedFraction).toFixed(2),
      r.report.p99Ms.toFixed(1),
      String(r.report.secondsOverSlo),
      r.report.instanceHours.toFixed(2),
      r.report.warmPoolHours.toFixed(2),
      String(r.report.maxInService),
      String(r.report.scalingActivities),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const COLORS = ['#e8a33d', '#5b8def', '#16a34a', '#7c3aed'];

export function chart(title: string, subtitle: string, results: ColumnResult[], profile: InstanceProfile): string {
  const minutes = (t: number) => t / 60;
  const per = (f: (s: SimulationReport['samples'][number]) => number): Series[] =>
    results.map((r, i) => ({ name: r.name, color: COLORS[i % COLORS.length], dashed: i === 3, points: r.report.samples.map((s) => [minutes(s.t), f(s)] as [number, number]) }));
  const offered: Series = { name: 'offered', color: '#111827', points: results[0].report.samples.map((s) => [minutes(s.t), s.offered]) };
  return renderChart({
    title,
    subtitle,
    xLabel: 'minutes',
    panels: [
      { title: 'Capacity in service (instances × measured capacity) against offered load', yLabel: 'requests/s', series: [offered, ...per((s) => s.inService * profile.capacityRps)] },
      { title: 'Instances in service', yLabel: 'instances', series: per((s) => s.inService) },
      { title: 'Shed (503) per second', yLabel: 'requests/s', series: per((s) => s.shed) },
      { title: 'p99 latency of served requests', yLabel: 'ms', series: per((s) => s.p99Ms), rules: [{ y: profile.sloP99Ms, label: `SLO ${profile.sloP99Ms} ms`, color: '#dc2626' }] },
    ],
  });
}

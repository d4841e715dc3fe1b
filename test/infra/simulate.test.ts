/**
 * The scaling simulator: EC2 Auto Scaling target tracking as documented, and the fleet model.
 * Target tracking: https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html
 * High-resolution metrics (10 s period): https://docs.aws.amazon.com/autoscaling/ec2/userguide/policy-creating-high-resolution-metrics.html
 * Instance warmup: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html
 * Warm pools: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deriveTargets, InstanceModel } from '../../infra/scaling/instance-profile';
import { GroupSettings, simulate } from '../../infra/scaling/simulate';
import { combine, HIGH_ALARM_DATAPOINTS, LOW_ALARM_DATAPOINTS, PolicyAlarms } from '../../infra/scaling/target-tracking';
import { builtInTrace, parseTraceCsv } from '../../infra/scaling/traffic';
import { ROOT } from '../helpers/runtime';
import { PROFILE } from './scaling-profile';

const fixed = (n: number): GroupSettings => ({ minSize: n, maxSize: n, policies: [], instanceWarmupSeconds: 300, coldStartSeconds: 120 });

describe('target tracking alarms', () => {
  test('scale out after 3 datapoints above the target, to ceil(counted × metric / target)', () => {
    const a = new PolicyAlarms({ metric: 'saturation', target: 2 });
    expect(a.periodSeconds).toBe(10);
    expect(HIGH_ALARM_DATAPOINTS).toBe(3);
    expect(a.evaluate(5, 4)).toEqual({ kind: 'hold' });
    expect(a.evaluate(5, 4)).toEqual({ kind: 'hold' });
    expect(a.evaluate(5, 4)).toEqual({ kind: 'out', capacity: 10 });
    expect(a.evaluate(1.9, 10)).toEqual({ kind: 'hold' });
  });

  test('scale in only after 15 datapoints below 90 % of the target', () => {
    const a = new PolicyAlarms({ metric: 'cpu', target: 60 });
    expect(a.periodSeconds).toBe(60);
    for (let i = 0; i < LOW_ALARM_DATAPOINTS - 1; i++) expect(a.evaluate(30, 10).kind).toBe('hold');
    expect(a.evaluate(30, 10)).toEqual({ kind: 'in', capacity: 5 });
    const b = new PolicyAlarms({ metric: 'cpu', target: 60 });
    for (let i = 0; i < 30; i++) expect(b.evaluate(55, 10).kind).toBe('hold'); // below target, above 90 % of it
  });

  test('several policies: out when any asks (largest), in only when all agree and nothing is warming', () => {
    expect(combine([{ kind: 'out', capacity: 6 }, { kind: 'in', capacity: 2 }], 4, 1, 10, 0)).toBe(6);
    expect(combine([{ kind: 'out', capacity: 16 }], 4, 1, 10, 0)).toBe(10);
    expect(combine([{ kind: 'in', capacity: 2 }, { kind: 'hold' }], 4, 1, 10, 0)).toBeUndefined();
    expect(combine([{ kind: 'in', capacity: 2 }, { kind: 'in', capacity: 3 }], 4, 1, 10, 0)).toBe(3);
    expect(combine([{ kind: 'in', capacity: 2 }], 4, 1, 10, 1)).toBeUndefined();
    expect(combine([{ kind: 'in', capacity: 0 }], 4, 2, 10, 0)).toBe(2);
    // DisableScaleIn: the policy neither asks for nor blocks a scale-in, and still scales out.
    expect(combine([{ kind: 'hold' }, { kind: 'in', capacity: 3 }], 4, 1, 10, 0, [true, false])).toBe(3);
    expect(combine([{ kind: 'out', capacity: 7 }, { kind: 'in', capacity: 3 }], 4, 1, 10, 0, [true, false])).toBe(7);
    const a = new PolicyAlarms({ metric: 'saturation', target: 2, disableScaleIn: true });
    for (let i = 0; i < 20; i++) expect(a.evaluate(0.1, 10).kind).toBe('hold');
  });
});

describe('the fleet model', () => {
  test('an overloaded fixed fleet serves at its peak and sheds the rest: shed fraction → 1 − N × peak / offered', () => {
    for (const factor of [1.5, 3]) {
      const offered = factor * 2 * PROFILE.capacityRps;
      const r = simulate({ group: fixed(2), instance: PROFILE, trace: new Array(600).fill(offered) });
      const expected = 1 - (2 * PROFILE.peakRps) / offered;
      // The queues fill first (2 × 256 requests), then the steady state.
      expect(r.shedFraction).toBeGreaterThan(expected - 0.01);
      expect(r.shedFraction).toBeLessThanOrEqual(expected + 1e-9);
      expect(r.served + r.shed + 2 * PROFILE.queueBound).toBeCloseTo(r.offered, 0);
    }
  });

  test('overloaded goodput follows plan\'s open-loop points (shedding costs CPU), held beyond the last', () => {
    const m = new InstanceModel({ ...PROFILE, overload: [{ offeredRps: 2200, okRps: 900, shedRps: 1300 }, { offeredRps: 4400, okRps: 600, shedRps: 3800 }] });
    expect(m.goodput(1650)).toBeCloseTo(1000, 9);
    expect(m.goodput(3300)).toBeCloseTo(750, 9);
    expect(m.goodput(9000)).toBe(600);
    expect(new InstanceModel(PROFILE).goodput(9000)).toBe(PROFILE.peakRps);
  });

  test('goodput between overload points is interpolated as served req/s: a fixed fleet at 3× sheds 1 − goodput(3×) / offered', () => {
    // plan's 1.5×, 2×, 3×, 4× points, with goodput that does not fall linearly between 2× and 4×.
    const m = new InstanceModel({ ...PROFILE, overload: [{ offeredRps: 1650, okRps: 1050, shedRps: 600 }, { offeredRps: 2200, okRps: 680, shedRps: 1520 }, { offeredRps: 3300, okRps: 720, shedRps: 2580 }, { offeredRps: 4400, okRps: 440, shedRps: 3960 }] });
    expect(m.goodput(3300)).toBe(720); // not the 560 of the line between 2× and 4×
    expect(m.goodput(2750)).toBeCloseTo(700, 9);
    const r = simulate({ group: fixed(1), instance: m.profile, trace: new Array(600).fill(3300) });
    const expected = 1 - 720 / 3300;
    expect(r.shedFraction).toBeLessThanOrEqual(expected + 1e-9);
    expect(r.shedFraction).toBeGreaterThan(expected - 0.01);
  });

  test('measured in open loop: everything served up to the rate ramp\'s capacity, then the overload points, whatever the closed loop reached', () => {
    const openLoop = {
      ...PROFILE,
      capacityRps: 1300,
      closedLoopCapacityRps: 1000,
      peakRps: 1400,
      rateRamp: [
        { offeredRps: 1000, okRps: 1000, shedRps: 0, p50Ms: 4, p99Ms: 20, saturation: 6, meetsSlo: true },
        { offeredRps: 1300, okRps: 1300, shedRps: 0, p50Ms: 6, p99Ms: 40, saturation: 12, meetsSlo: true },
        { offeredRps: 1600, okRps: 1400, shedRps: 200, p50Ms: 30, p99Ms: 60, saturation: 140, meetsSlo: false },
      ],
      overload: [{ offeredRps: 1600, okRps: 1400, shedRps: 200 }, { offeredRps: 2600, okRps: 1200, shedRps: 1400 }, { offeredRps: 5200, okRps: 700, shedRps: 4500 }],
    };
    const m = new InstanceModel(openLoop);
    expect(m.knee).toBe(1300);
    expect(m.state(1250, 0).servedRps).toBe(1250);
    // Latency below capacity from the open-loop steps (the closed loop's 1,000 req/s point had 45 ms).
    expect(m.state(1150, 0).p99Ms).toBeCloseTo(30, 9);
    expect(m.state(1000, 0).p99Ms).toBeCloseTo(20, 9);
    expect(m.goodput(1450)).toBeCloseTo(1350, 9); // between (1300, 1300) and (1600, 1400)
    expect(m.goodput(2100)).toBeCloseTo(1300, 9);
    expect(m.goodput(3900)).toBeCloseTo(950, 9);
    expect(m.goodput(1000)).toBe(1400); // with a backlog, the best it was measured to serve
    // The saturation signal below capacity as an instance behind a load balancer shows it: the open-loop steps (0 at idle), not the closed loop's 8 at 1,000 req/s.
    expect(m.state(500, 0).saturation).toBeCloseTo(3, 9);
    expect(m.state(1150, 0).saturation).toBeCloseTo(9, 9);
    expect(deriveTargets(openLoop, 0.7).saturationTarget).toBeCloseTo(5.46, 9); // 910 req/s: 0.91 × 6
    // Overloaded: the signal at the knee plus the queue per worker.
    expect(m.state(2100, 64).saturation).toBeCloseTo(12 + 64 / 2, 9);
    // A fixed instance offered 2,100 req/s for 10 s sheds what its goodput there leaves (its queue fills first).
    const r = simulate({ group: fixed(1), instance: openLoop, trace: new Array(10).fill(2100) });
    expect(r.shedFraction).toBeCloseTo((10 * (2100 - 1300) - PROFILE.queueBound) / (10 * 2100), 6);
  });

  test('below capacity nothing is shed and latency follows the measured ramp', () => {
    const r = simulate({ group: fixed(2), instance: PROFILE, trace: new Array(120).fill(1400) });
    expect(r.shed).toBe(0);
    expect(r.p99Ms).toBeCloseTo(12, 5); // 700 req/s per instance: the ramp's 700 req/s point
    expect(new InstanceModel(PROFILE).state(850, 0).saturation).toBeCloseTo(5, 5);
    expect(r.instanceHours).toBeCloseTo((2 * 120) / 3600, 9);
  });

  test('derived targets sit at 70 % of capacity on the measured curve', () => {
    const t = deriveTargets(PROFILE, 0.7);
    expect(t.targetRps).toBe(700);
    expect(t.requestsPerTarget).toBe(42_000);
    expect(t.saturationTarget).toBe(2);
    expect(t.cpuPercent).toBe(65);
  });

  test('deterministic: the same inputs give the same report', () => {
    const group: GroupSettings = { minSize: 2, maxSize: 20, policies: [{ metric: 'saturation', target: 2 }], instanceWarmupSeconds: 300, coldStartSeconds: 108 };
    const trace = builtInTrace('flash', 1000, 0.2);
    expect(simulate({ group, instance: PROFILE, trace })).toEqual(simulate({ group, instance: PROFILE, trace }));
  });
});

describe('policies on a 10× burst', () => {
  const trace = builtInTrace('burst', 1000, 0.3);
  const base: Omit<GroupSettings, 'policies'> = { minSize: 2, maxSize: 30, instanceWarmupSeconds: 300, coldStartSeconds: 108 };
  const run = (policies: GroupSettings['policies'], warm?: GroupSettings['warmPool']) => simulate({ group: { ...base, policies, warmPool: warm }, instance: PROFILE, trace });

  test('the saturation signal (10 s period) sheds less than request count (60 s), and CPU (saturating at 100 %) least well', () => {
    const t = deriveTargets(PROFILE, 0.7);
    const saturation = run([{ metric: 'saturation', target: t.saturationTarget, disableScaleIn: true }, { metric: 'requestCount', target: t.requestsPerTarget }]);
    const requests = run([{ metric: 'requestCount', target: t.requestsPerTarget }]);
    const cpu = run([{ metric: 'cpu', target: 60 }]);
    expect(saturation.shed).toBeLessThan(requests.shed);
    expect(requests.shed).toBeLessThan(cpu.shed);
    // Enough capacity is reached for the 10 000 req/s plateau: at least 10 instances of 1 000.
    expect(saturation.maxInService).toBeGreaterThanOrEqual(10);
    // After the (full-length) burst the group comes back down: scale-in needs 15 one-minute datapoints of request count.
    const full = simulate({ group: { ...base, policies: [{ metric: 'saturation', target: t.saturationTarget, disableScaleIn: true }, { metric: 'requestCount', target: t.requestsPerTarget }] }, instance: PROFILE, trace: builtInTrace('burst', 1000) });
    expect(full.samples[full.samples.length - 1].inService).toBeLessThan(full.maxInService);
  });

  test('a warm pool shortens the launches and so the shedding', () => {
    const policies = [{ metric: 'saturation' as const, target: 2 }];
    const cold = run(policies);
    const warm = run(policies, { minSize: 6, warmStartSeconds: 48 });
    expect(warm.shed).toBeLessThan(cold.shed);
    expect(warm.warmPoolHours).toBeGreaterThan(0);
  });
});

describe('traces', () => {
  test('built-in shapes: the burst reaches 10× within 60 s, the day peaks at 5×, the flash crowd at 20×', () => {
    const burst = builtInTrace('burst', 100);
    const start = burst.findIndex((r) => r > 100);
    expect(burst[start + 59]).toBeCloseTo(1000, 9);
    expect(Math.max(...builtInTrace('diurnal', 100, 0.01))).toBeCloseTo(500, 0);
    expect(Math.max(...builtInTrace('flash', 100))).toBeCloseTo(2000, 9);
  });

  test('CSV: one rate per line or second,rps rows; bad rows name the line', () => {
    expect(parseTraceCsv('rps\n10\n20\n')).toEqual([10, 20]);
    expect(parseTraceCsv('second,rps\n0,5\n3,7\n')).toEqual([5, 5, 5, 7]);
    expect(() => parseTraceCsv('10\nlots\n', 'my.csv')).toThrow('my.csv:2: got "lots", expected a number of requests per second or "second,rps"');
    expect(() => parseTraceCsv('0,5\n0,6\n')).toThrow('second 0 is not after 0');
    expect(() => parseTraceCsv('5\n-1\n')).toThrow('expected 0 or more');
    expect(() => parseTraceCsv('')).toThrow('no rows');
  });
});

describe('onnx-fleet simulate', () => {
  const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');

  test('compares the policies for a stack and writes the chart, the table and the reports', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-simulate-'));
    const profile = path.join(dir, 'profile.json');
    fs.writeFileSync(profile, JSON.stringify(PROFILE));
    const out = execFileSync(process.execPath, [CLI, 'simulate', '--stack', 'prod-us-east-1', '--profile', profile, '--trace', 'burst', '--time-scale', '0.2', '--out', dir], { encoding: 'utf8' });
    for (const column of ['CPU', 'request count', 'saturation', 'stack as configured']) expect(out).toContain(`| ${column}`);
    const svg = fs.readFileSync(path.join(dir, 'prod-us-east-1-burst.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Instances in service');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'prod-us-east-1-burst.json'), 'utf8'));
    expect(json.results).toHaveLength(4);
  });

  test('bad input is a usage error naming what was wrong', () => {
    const r = spawnSync(process.execPath, [CLI, 'simulate', '--stack', 'dev', '--profile', '/nonexistent.json'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no instance profile /nonexistent.json; run `onnx-fleet plan');
    const t = spawnSync(process.execPath, [CLI, 'simulate', '--stack', 'dev', '--time-scale', '7'], { encoding: 'utf8' });
    expect(t.status).toBe(2);
    expect(t.stderr).toContain('--time-scale: got "7", expected a number from 0.001 to 1');
  });
});

/**
 * `onnx-fleet plan`: the numbers it derives and explains, the stack file it edits in place
 * (comments and `secure:` values kept), the CPU warning, and a short real run on the example iris
 * model followed by `simulate` on the profile it wrote.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { parseStackConfig } from '../../infra/config';
import { deriveTargets } from '../../infra/scaling/instance-profile';
import { cpuWarning, planNumbers, vcpusOf } from '../../infra/scaling/plan-command';
import { applyStackEdits } from '../../infra/scaling/stack-file';
import { readStackFile } from '../../infra/synth';
import { EXAMPLES, ROOT } from '../helpers/runtime';
import { PROFILE } from './scaling-profile';

const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const STACK = path.join(ROOT, 'stacks', 'Pulumi.prod-us-east-1.yaml');

/** The prod stack with a secret and an inline comment, as a user's file would have them. */
function userStack(dir: string): string {
  const file = path.join(dir, 'Pulumi.mine.yaml');
  const text = fs.readFileSync(STACK, 'utf8').replace('config:\n', 'config:\n  myapp:apiToken:\n    secure: v1:AAABAMFhbHRlZC1zZWNyZXQtY2lwaGVydGV4dA==\n') + '  # the operators\' note at the end\n';
  fs.writeFileSync(file, text.replace(/(onnx-fleet:maxSize: \d+)/, '$1 # agreed with finance'));
  return file;
}

describe('the stack file edit', () => {
  test('writes the values with their reasons and keeps comments, secure values and key order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-plan-'));
    const before = fs.readFileSync(userStack(dir), 'utf8');
    const after = applyStackEdits(before, [
      { path: ['onnx-fleet:scaling', 'saturationTarget'], value: 2.5, why: 'measured\nsecond line' },
      { path: ['onnx-fleet:maxSize'], value: 30, why: 'peak / target' },
    ]);
    expect(after).toContain('secure: v1:AAABAMFhbHRlZC1zZWNyZXQtY2lwaGVydGV4dA==');
    expect(after).toContain('# Production, US East');
    expect(after).toContain("# the operators' note at the end");
    expect(after).toContain('  # plan: peak / target\n  onnx-fleet:maxSize: 30 # agreed with finance');
    expect(after).toMatch(/    # plan: measured\n    # plan: second line\n    saturationTarget: 2.5/);
    const keys = (t: string) => Object.keys(YAML.parse(t).config);
    expect(keys(after)).toEqual(keys(before));
    // Run again: plan's own comments are replaced, not piled up; the operators' kept.
    const again = applyStackEdits(after, [{ path: ['onnx-fleet:maxSize'], value: 31, why: 'new peak' }]);
    expect(again).toContain('  # plan: new peak\n  onnx-fleet:maxSize: 31 # agreed with finance');
    expect(again).not.toContain('plan: peak / target');
  });
});

describe('the numbers plan writes', () => {
  const stack = parseStackConfig(readStackFile(STACK));

  test('targets at 70 % of capacity; min, max and warm pool from the traffic profile, each explained', () => {
    const { edits, lines } = planNumbers(PROFILE, 'text-orientation', stack, { baseRps: 2000, peakRps: 20_000, burstRiseSeconds: 60 }, '2026-12-01');
    const value = (p: string) => edits.find((e) => e.path.join('.') === p)?.value;
    expect(value('onnx-fleet:scaling.saturationTarget')).toBe(2);
    expect(value('onnx-fleet:scaling.requestsPerTarget')).toBe(42_000);
    expect(value('onnx-fleet:minSize')).toBe(3); // 2000 / 700, and one per zone
    expect(value('onnx-fleet:maxSize')).toBe(30); // ceil(20000 / 700) + 1
    // The burst rises 18 000 req/s in 60 s; a cold launch takes 45 + 60 + 3 s: all of it, at 1000 req/s per instance.
    expect(value('onnx-fleet:warmPool.minSize')).toBe(18);
    for (const e of edits) expect(e.why.length).toBeGreaterThan(20);
    expect(lines.join('\n')).toContain('text-orientation on test cpu, 2 cores');
  });

  test('the CPU warning names the instance type, its CPU and its vCPUs', () => {
    expect(vcpusOf('c7i.xlarge')).toBe(4);
    expect(vcpusOf('c7g.8xlarge')).toBe(32);
    expect(cpuWarning({ cpuModel: 'Intel(R) Xeon(R) Platinum 8488C', cores: 4 }, 'c7i.xlarge')).toBeUndefined();
    expect(cpuWarning({ cpuModel: 'AMD EPYC 7B13', cores: 2 }, 'c7i.xlarge')).toBe(
      'measured on AMD EPYC 7B13 (2 cores), but c7i.xlarge runs Intel Xeon Platinum 8488C (Sapphire Rapids) and c7i.xlarge has 4 vCPUs, this machine 2: the numbers are this machine\'s; run plan on a c7i.xlarge for the stack\'s real capacity',
    );
  });
});

describe('onnx-fleet plan, for real (short profile)', () => {
  test('measures iris on this machine, writes the stack file and the profile, and simulate replays it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-plan-run-'));
    const file = userStack(dir);
    const r = spawnSync(process.execPath, [CLI, 'plan', '--model-repository', EXAMPLES, '--model', 'iris', '--slo-p99-ms', '500', '--step-seconds', '1', '--max-concurrency', '8', '--workers', '1', '--config-file', file, '--base-rps', '100', '--peak-rps', '1000'], { encoding: 'utf8', timeout: 120_000 });
    expect({ status: r.status, stderr: r.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    // Progress while measuring, the table, the warning about this machine.
    expect(r.stderr).toMatch(/c=\s+1 .* req\/s {2}p99/);
    expect(r.stderr).toContain('plan: warning: measured on');
    expect(r.stdout).toMatch(/\| concurrency \| req\/s \|/);
    // Then the open-loop request-rate ramp from where the closed loop stopped, and the overload steps.
    expect(r.stderr).toMatch(/rate +[\d.k]+ req\/s \(open loop\)/);
    expect(r.stdout).toMatch(/\| open loop +\| offered req\/s \|/);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('secure: v1:AAABAMFhbHRlZC1zZWNyZXQtY2lwaGVydGV4dA==');
    expect(text).toMatch(/# plan: saturation measured at 70 % of [\d.k]+ req\/s per instance at p99 ≤ 500 ms \(iris on /);
    const config = parseStackConfig(readStackFile(file, { omitSecrets: true }));
    expect(config.scaling.saturationTarget).toBeGreaterThan(0);
    const profile = JSON.parse(fs.readFileSync(path.join(dir, 'mine.capacity.json'), 'utf8'));
    expect(profile).toMatchObject({ model: 'iris', workers: 1, sloP99Ms: 500, cpuModel: os.cpus()[0].model.trim() });
    expect(profile.capacityRps).toBeGreaterThan(0);
    // Capacity is the highest open-loop rate within the SLO (the closed loop's where none met it).
    const passing = profile.rateRamp.filter((s: { meetsSlo: boolean }) => s.meetsSlo).map((s: { okRps: number }) => s.okRps);
    expect(profile.capacityRps).toBe(passing.length ? Math.max(...passing) : profile.closedLoopCapacityRps);
    expect(profile.overload.length).toBeGreaterThanOrEqual(2);
    expect(config.scaling.requestsPerTarget).toBe(Math.round(profile.capacityRps * 0.7 * 60));
    // The saturation target is the signal plan measured in open loop at that 70 %, as an instance behind a load balancer reports it.
    const atTarget = profile.rateRamp.filter((s: { meetsSlo: boolean; offeredRps: number }) => s.meetsSlo && Math.abs(s.offeredRps - 0.7 * profile.capacityRps) <= 0.1 * profile.capacityRps);
    expect(atTarget.length).toBeGreaterThan(0);
    expect(config.scaling.saturationTarget).toBe(deriveTargets(profile, 0.7).saturationTarget);
    expect(fs.readFileSync(path.join(dir, 'mine.capacity.svg'), 'utf8')).toContain('onnx-fleet plan: iris');

    const s = spawnSync(process.execPath, [CLI, 'simulate', '--config-file', file, '--trace', 'flash', '--time-scale', '0.05'], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: s.status, stderr: s.stderr }).toMatchObject({ status: 0, stderr: '' });
    expect(s.stdout).toContain('| saturation');
  }, 180_000);

  test('the CNN example too: a profile simulate replays, its capacity found in open loop', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-plan-cnn-'));
    const r = spawnSync(process.execPath, [CLI, 'plan', '--model-repository', EXAMPLES, '--model', 'text-orientation', '--slo-p99-ms', '500', '--step-seconds', '1', '--max-concurrency', '8', '--workers', '1', '--out', dir, '--json'], { encoding: 'utf8', timeout: 150_000 });
    expect({ status: r.status, stderr: r.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    const profile = JSON.parse(r.stdout);
    expect(profile).toMatchObject({ model: 'text-orientation', workers: 1, sloP99Ms: 500 });
    expect(profile.rateRamp.length).toBeGreaterThan(0);
    expect(profile.capacityRps).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'text-orientation.capacity.json'))).toBe(true);
    const s = spawnSync(process.execPath, [CLI, 'simulate', '--stack', 'staging', '--profile', path.join(dir, 'text-orientation.capacity.json'), '--trace', 'burst', '--time-scale', '0.05'], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: s.status, stderr: s.stderr }).toMatchObject({ status: 0, stderr: '' });
    expect(s.stdout).toContain('| saturation');
  }, 180_000);

  test('bad input names the option and what is allowed', () => {
    const r = spawnSync(process.execPath, [CLI, 'plan', '--model-repository', EXAMPLES, '--slo-p99-ms', 'fast'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--slo-p99-ms: got "fast", expected a number above 0');
    const m = spawnSync(process.execPath, [CLI, 'plan', '--model-repository', EXAMPLES, '--slo-p99-ms', '50'], { encoding: 'utf8' });
    expect(m.status).toBe(2);
    expect(m.stderr).toContain('--model is required');
  });
});

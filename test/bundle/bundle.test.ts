/**
 * The x64 runtime bundle, built for real: unpacked into a temporary directory and started with
 * its own Node binary and an environment file, as an instance starts it; it must serve the
 * example models and drain on SIGTERM. Also: only this architecture's native code, no dev
 * dependencies, a manifest whose hashes match, and reproducible bytes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundle, BundleResult, NODE_VERSION } from '../../packaging/build';
import { STOP_TIMEOUT_SECONDS } from '../../runtime/contract';
import { isReady, waitFor } from '../helpers/runtime';
import { examplesWithZoo } from '../helpers/zoo';

let out: string;
let unpacked: string;
let result: BundleResult;
/** The example models with the real-model zoo (but its heaviest model) beside them (fetched here: a cold cache downloads). */
let repository: string;

beforeAll(async () => {
  repository = examplesWithZoo();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-bundle-out-'));
  result = await buildBundle('x64', out);
  unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-bundle-x64-'));
  execFileSync('tar', ['-xzf', result.file, '-C', unpacked]);
}, 600_000);

afterAll(() => {
  fs.rmSync(unpacked, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(repository, { recursive: true, force: true });
});

function listFiles(dir: string, base = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), path.posix.join(base, d.name)) : [path.posix.join(base, d.name)]));
}

test('the archive holds the launcher, runtime, this arch only, a pinned Node, the unit and a true manifest', () => {
  const files = listFiles(unpacked);
  expect(files).toEqual(expect.arrayContaining(['bin/onnx-fleet', 'lib/main.js', 'lib/inference-worker.js', 'node/bin/node', 'systemd/onnx-fleet.service', 'manifest.json']));
  expect(fs.statSync(path.join(unpacked, 'bin/onnx-fleet')).mode & 0o111).not.toBe(0);
  expect(files.some((f) => f.includes('linux/x64/onnxruntime_binding.node'))).toBe(true);
  expect(files.filter((f) => /arm64|darwin|win32/.test(f))).toEqual([]);
  const topLevelModules = new Set(files.filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/')[1]));
  expect([...topLevelModules].sort()).toEqual(['onnxruntime-common', 'onnxruntime-node', 'piscina']);
  for (const dev of ['jest', 'typescript', '@pulumi', 'esbuild', 'fast-check']) expect(files.some((f) => f.includes(`node_modules/${dev}`))).toBe(false);

  const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'));
  expect(manifest).toMatchObject({ name: 'onnx-fleet-runtime', arch: 'x64', node: NODE_VERSION, onnxruntime: '1.30.0' });
  expect(Object.keys(manifest.files).sort()).toEqual(files.filter((f) => f !== 'manifest.json').sort());
  for (const [file, digest] of Object.entries(manifest.files)) {
    expect(createHash('sha256').update(fs.readFileSync(path.join(unpacked, file))).digest('hex')).toBe(digest);
  }
  const version = execFileSync(path.join(unpacked, 'node/bin/node'), ['--version'], { encoding: 'utf8' }).trim();
  expect(version).toBe(`v${NODE_VERSION}`);
  expect(fs.readFileSync(path.join(unpacked, 'systemd/onnx-fleet.service'), 'utf8')).toMatch(new RegExp(`Restart=always[\\s\\S]*KillSignal=SIGTERM[\\s\\S]*TimeoutStopSec=${STOP_TIMEOUT_SECONDS}`));
  expect(fs.readFileSync(`${result.file}.sha256`, 'utf8')).toBe(`${result.sha256}  onnx-fleet-runtime-linux-x64.tar.gz\n`);
});

test('the bundled command line carries nothing of Pulumi: serve and captures are there, synth and bundle say where to run them', () => {
  const main = fs.readFileSync(path.join(unpacked, 'lib/main.js'), 'utf8');
  expect(main).not.toMatch(/@pulumi\//);
  const run = (...args: string[]) => spawnSync(path.join(unpacked, 'bin/onnx-fleet'), args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  const help = run('--help');
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/serve\s+run the inference runtime/);
  expect(run('serve', '--help').stdout).toMatch(/--model-repository/);
  expect(run('captures', '--help').stdout).toMatch(/onnx-fleet captures list/);
  for (const tooling of ['synth', 'bundle']) {
    const r = run(tooling, '--stack', 'dev');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`'${tooling}' is not part of the runtime bundle; run it from the onnx-fleet repository`);
  }
});

test('the unpacked bundle serves the example models with its own Node and drains on SIGTERM', async () => {
  const envFile = path.join(unpacked, 'runtime.env');
  fs.writeFileSync(envFile, [`ONNX_FLEET_MODEL_REPOSITORY=${repository}`, 'ONNX_FLEET_HOST=127.0.0.1', 'ONNX_FLEET_PORT=0', 'ONNX_FLEET_DRAIN_DELAY_SECONDS=1', 'ONNX_FLEET_WORKERS=1', 'ONNX_FLEET_INTRA_OP_THREADS=1'].join('\n') + '\n');
  // systemd's EnvironmentFile= semantics, reproduced with the shell: KEY=VALUE lines exported.
  const proc = spawn('/bin/sh', ['-c', `set -a; . "${envFile}"; set +a; exec "${path.join(unpacked, 'bin/onnx-fleet')}" serve`], { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (c: Buffer) => {
        for (const line of c.toString().split('\n').filter(Boolean)) {
          logs.push(line);
          try {
            const parsed = JSON.parse(line);
            if (parsed.url) resolve(parsed.url);
          } catch {
            /* partial line */
          }
        }
      });
      proc.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
      void exited.then((code) => reject(new Error(`bundle exited ${code}: ${logs.join('\n')}`)));
    });
    await waitFor(() => isReady(url), 60_000);
    const res = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    expect(body.outputs.find((o) => o.name === 'label')?.data.map(Number)).toEqual([0]);
    // A zoo model with an INT64 scalar and recurrent state answers through the bundle too.
    const vad = await fetch(`${url}/v2/models/silero_vad_v4/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 512], data: Array.from({ length: 512 }, (_, i) => Math.sin(i / 8) / 2) },
          { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
          { name: 'h', datatype: 'FP32', shape: [2, 1, 64], data: new Array(128).fill(0) },
          { name: 'c', datatype: 'FP32', shape: [2, 1, 64], data: new Array(128).fill(0) },
        ],
      }),
    });
    expect(vad.status).toBe(200);
    const p = ((await vad.json()) as { outputs: Array<{ name: string; data: number[] }> }).outputs.find((o) => o.name === 'output')!.data[0];
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    proc.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${url}/v2/health/ready`).then((r) => r.status, () => 0)) !== 200, 2_000, 10);
    expect(await exited).toBe(0);
  } finally {
    proc.kill('SIGKILL');
  }
}, 120_000);

test('builds are reproducible: the same inputs give the same artifact hash', async () => {
  const again = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-bundle-again-'));
  try {
    fs.cpSync(path.join(out, 'cache'), path.join(again, 'cache'), { recursive: true });
    const second = await buildBundle('x64', again);
    expect(second.sha256).toBe(result.sha256);
  } finally {
    fs.rmSync(again, { recursive: true, force: true });
  }
}, 600_000);

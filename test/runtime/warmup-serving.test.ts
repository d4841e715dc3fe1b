/**
 * Warmup as served: a model no automatic candidate fits is still READY (not warmed: log line,
 * metadata parameter, metric), explicit warmup that runs marks it warmed, and explicit warmup that
 * fails makes that version UNAVAILABLE with the reason, while the model's other models stay ready.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Runtime } from '../../runtime/server';
import { FIXTURES, startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
let repo: string;
const logs: Array<Record<string, unknown>> = [];

function addPicky(name: string, config?: unknown, files: Record<string, Buffer> = {}): void {
  fs.cpSync(path.join(FIXTURES, 'picky_input'), path.join(repo, name), { recursive: true });
  if (config) fs.writeFileSync(path.join(repo, name, 'config.json'), JSON.stringify(config));
  for (const [file, bytes] of Object.entries(files)) {
    fs.mkdirSync(path.join(repo, name, 'warmup'), { recursive: true });
    fs.writeFileSync(path.join(repo, name, 'warmup', file), bytes);
  }
}

beforeAll(async () => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-warmup-serving-'));
  addPicky('picky_default');
  addPicky('picky_shape', { warmup: { shape: { x: [1, 14] } } });
  addPicky('picky_file', { warmup: { inputs: { x: { dims: [2, 7], data_type: 'TYPE_FP32', input_data_file: 'x.f32' } } } }, { 'x.f32': Buffer.from(Float32Array.from({ length: 14 }, (_, i) => i).buffer) });
  addPicky('picky_bad', { warmup: { shape: { x: [1, 5] } } });
  fs.cpSync(path.join(FIXTURES, 'multi_input'), path.join(repo, 'multi_input'), { recursive: true });
  // A release whose new version 2 (x [1,4]) cannot take the model's explicit warmup shape: version 1 serves.
  fs.mkdirSync(path.join(repo, 'release'));
  fs.cpSync(path.join(FIXTURES, 'picky_input', '1'), path.join(repo, 'release', '1'), { recursive: true });
  fs.cpSync(path.join(FIXTURES, 'fixed_batch1', '1'), path.join(repo, 'release', '2'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'release', 'config.json'), JSON.stringify({ warmup: { shape: { x: [1, 14] } } }));
  const stream = { write: (line: string) => logs.push(JSON.parse(line)) };
  rt = await startTestRuntime(repo, [], {}, pino({ level: 'info' }, stream));
});

afterAll(async () => {
  await rt?.stop();
  fs.rmSync(repo, { recursive: true, force: true });
});

const get = async (p: string) => {
  const res = await fetch(rt.url + p);
  return { status: res.status, body: (await res.json()) as any };
};

test('no automatic candidate fits: READY, reported not warmed (log, metadata, metric), and it answers', async () => {
  expect(await get('/v2/models/picky_default/ready')).toMatchObject({ status: 200, body: { ready: true } });
  expect((await get('/v2/models/picky_default')).body.parameters).toMatchObject({ warmed: false });
  const warning = logs.find((l) => l.model === 'picky_default' && l.level === 40);
  expect(warning?.msg).toMatch(/automatic warmup found no inputs this model accepts; serving it not warmed/);
  expect(JSON.stringify(warning?.reasons)).toMatch(/x\[1,1024\].*Reshape|Reshape.*x\[1,1024\]/);
  const metrics = await (await fetch(rt.url + '/metrics')).text();
  expect(metrics).toMatch(/onnx_fleet_model_warmed\{model="picky_default",version="1"\} 0/);
  expect(metrics).toMatch(/onnx_fleet_model_ready\{model="picky_default",version="1"\} 1/);
  const res = await fetch(rt.url + '/v2/models/picky_default/infer', { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 14], data: Array.from({ length: 14 }, (_, i) => i) }] }) });
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).outputs[0]).toMatchObject({ name: 'y', shape: [7, 2] });
});

test('explicit warmup that runs (a shape, or a sample data file): warmed', async () => {
  for (const name of ['picky_shape', 'picky_file']) {
    expect((await get(`/v2/models/${name}`)).body.parameters).toMatchObject({ warmed: true });
  }
  const metrics = await (await fetch(rt.url + '/metrics')).text();
  expect(metrics).toMatch(/onnx_fleet_model_warmed\{model="picky_file",version="1"\} 1/);
});

test('explicit warmup that fails: that version is UNAVAILABLE with the reason; the server is not ready because picky_bad has no other version', async () => {
  const ready = await get('/v2/models/picky_bad/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.reason).toMatch(/failed its explicit warmup \(config.json "warmup"\) .*picky_bad\/1\/model\.onnx: .*Reshape/);
  const server = await get('/v2/health/ready');
  expect(server.status).toBe(503);
  expect(server.body.reason).toMatch(/^picky_bad\/1: failed its explicit warmup/);
  expect(server.body.reason).not.toMatch(/picky_default|picky_shape|picky_file|multi_input|release/);
});

test('a newest version that fails its explicit warmup gives its place to the older one (latest policy)', async () => {
  expect((await get('/v2/models/release')).body).toMatchObject({ versions: ['1'], parameters: { warmed: true } });
  const v2 = await get('/v2/models/release/versions/2/ready');
  expect(v2.status).toBe(503);
  expect(v2.body.reason).toMatch(/version 2 is not ready: failed its explicit warmup .*warmup shape of 'x' \[1,14\]: dimension 1 must be 4/);
});

/**
 * Model releases on a running runtime (in-process, real onnxruntime workers), from an S3
 * repository on s3rver and from a local directory: poll mode picks up a published version and
 * swaps make-before-break under steady load (0 failed, each response from one version, no old
 * version after the switch, readiness 200 throughout); a broken version never takes over and is
 * not retried until it changes; explicit mode's repository API behind its own tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { S3Shard, startModelStore } from '../helpers/s3';
import { addConst, versionDir } from '../helpers/release-models';
import { startTestRuntime, waitFor } from '../helpers/runtime';
import type { Runtime } from '../../runtime/server';
import { modelsCommand } from '../../runtime/models/models-command';
import { metricValue, olderAfterSwitch, sleep, SteadyLoad } from './helpers';

let modelStore: Awaited<ReturnType<typeof startModelStore>>;
let s3: S3Shard;
let tmp: string;
const runtimes: Runtime[] = [];

beforeAll(async () => {
  modelStore = await startModelStore('control');
  ({ s3, tmp } = modelStore);
});

afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  await modelStore?.stop();
});

/** Runs `onnx-fleet models ...` in-process, returning its exit code and output. */
async function models(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => ({ write: (s: string) => f(s) });
  const code = await modelsCommand(args, process.env, sink((s) => (out += s)), sink((s) => (err += s)));
  return { code, out, err };
}

async function index(url: string, headers: Record<string, string> = {}) {
  return (await (await fetch(`${url}/v2/repository/index`, { method: 'POST', headers })).json()) as Array<{ name: string; version?: string; state: string; reason?: string }>;
}

test('poll mode on S3: publish v2 under load → served within poll + load time, 0 failed, no v1 after the switch; a broken v3 changes nothing', async () => {
  const repo = `s3://models/poll?endpoint=${s3.endpoint}`;
  const src = path.join(tmp, 'src');
  const config = path.join(tmp, 'adder-config.json');
  fs.writeFileSync(config, JSON.stringify({ max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 500 } }));
  expect((await models('publish', versionDir(src, 'v1', addConst(1)), '--model', 'adder', '--config', config, '--model-repository', repo)).code).toBe(0);
  const rt = await startTestRuntime(repo, ['--model-control-mode', 'poll', '--repository-poll-secs', '1', '--model-cache-dir', path.join(tmp, 'cache')]);
  runtimes.push(rt);
  const load = new SteadyLoad(rt.url, 'adder').start(3);
  try {
    await load.untilVersion('1', 5_000);
    const published = await models('publish', versionDir(src, 'v2', addConst(2)), '--model', 'adder', '--model-repository', repo);
    expect(published.out).toMatch(/uploaded adder\/2\/model\.onnx \(\d+ bytes\) \[1\/1\]\nwrote adder\/2\/manifest\.json: version published\npublished adder version 2/);
    const tookMs = await load.untilVersion('2', 10_000);
    expect(tookMs).toBeLessThan(1_000 + 5_000); // one poll interval + load and warm-up
    await sleep(500);

    // A broken version: garbage bytes, published properly (the manifest matches the garbage).
    fs.mkdirSync(path.join(src, 'v3'), { recursive: true });
    fs.writeFileSync(path.join(src, 'v3', 'model.onnx'), 'not an onnx model');
    expect((await models('publish', path.join(src, 'v3'), '--model', 'adder', '--model-repository', repo)).code).toBe(0);
    await waitFor(async () => (await index(rt.url)).some((e) => e.version === '3' && e.state === 'UNAVAILABLE'), 10_000, 100);
    await sleep(3_000); // three more polls: the broken version is not retried while its files are unchanged
  } finally {
    await load.stop();
  }
  expect(load.failed()).toEqual([]);
  expect(load.outcomes.length).toBeGreaterThan(200);
  // Every response is one version's: y = x + version.
  expect(load.outcomes.filter((o) => o.y !== Number(o.version))).toEqual([]);
  expect(olderAfterSwitch(load.outcomes, '2')).toEqual([]);
  expect(load.outcomes.filter((o) => o.version === '3')).toEqual([]);
  expect(load.readiness.length).toBeGreaterThan(20);
  expect(load.readiness.every((s) => s === 200)).toBe(true);

  const entries = await index(rt.url);
  expect(entries.find((e) => e.version === '3')).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/failed to load .*adder\/3\/model\.onnx/) });
  expect(entries.find((e) => e.version === '2')).toMatchObject({ state: 'READY' });
  expect(entries.some((e) => e.version === '1')).toBe(false);
  expect(await metricValue(rt.url, 'onnx_fleet_model_load_failures_total', { model: 'adder', version: '3' })).toBe(1);
  const ready = await fetch(`${rt.url}/v2/models/adder/versions/3/ready`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { reason: string }).reason).toMatch(/version 3 is not ready: failed to load/);
}, 90_000);

test('per-model canary from release.json: a failing canary at 10 % is routed out within its budget; a good one is promoted; rollback', async () => {
  const repo = path.join(tmp, 'canary-repo');
  fs.mkdirSync(path.join(repo, 'adder'), { recursive: true });
  // warmup off: the failing version loads (and fails only when it runs, as a bad release would).
  fs.writeFileSync(path.join(repo, 'adder', 'config.json'), JSON.stringify({ warmup: false }));
  const src = path.join(tmp, 'canary-src');
  expect((await models('publish', versionDir(src, 'v1', addConst(1)), '--model', 'adder', '--model-repository', repo)).code).toBe(0);
  const rt = await startTestRuntime(repo, ['--model-control-mode', 'poll', '--repository-poll-secs', '1']);
  runtimes.push(rt);
  const load = new SteadyLoad(rt.url, 'adder').start(3);
  let canaryStart = 0;
  try {
    await load.untilVersion('1', 5_000);
    const { failsAtRun } = await import('../helpers/release-models');
    const pub = await models('publish', versionDir(src, 'v2', failsAtRun()), '--model', 'adder', '--canary', '10', '--min-requests', '20', '--max-failure-rate-increase', '0.05', '--model-repository', repo);
    expect(pub.out).toMatch(/adder version 2 is the canary at 10 % beside stable 1/);
    await waitFor(async () => (await metricValue(rt.url, 'onnx_fleet_model_canary_weight_percent', { model: 'adder', version: '2' })) === 10, 10_000, 50);
    canaryStart = load.outcomes.length;
    await waitFor(async () => (await metricValue(rt.url, 'onnx_fleet_model_canary_routed_out', { model: 'adder', version: '2' })) === 1, 30_000, 50);
    const routedOutAt = load.outcomes.length;
    await sleep(1_500);
    const after = load.outcomes.slice(routedOutAt + 10);
    expect(after.length).toBeGreaterThan(50);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
    const canaryFailures = load.failed();
    // The budget: the canary's weight × the requests while it was routed to.
    const budget = Math.ceil(0.1 * (routedOutAt - canaryStart)) + 10;
    expect(canaryFailures.length).toBeGreaterThanOrEqual(20);
    expect(canaryFailures.length).toBeLessThanOrEqual(budget);
    expect(canaryFailures.every((o) => o.status === 400 && /could not run/.test(o.error ?? ''))).toBe(true);
    const entry = (await index(rt.url)).find((e) => e.version === '2');
    expect(entry?.reason).toMatch(/canary routed out: failure rate 100\.0 %/);

    // Roll the canary back: release.json keeps stable 1 only, and version 2 unloads.
    expect((await models('rollback', '--model', 'adder', '--model-repository', repo)).out).toMatch(/canary version 2 rolled back; stable 1 serves everything/);
    await waitFor(async () => !(await index(rt.url)).some((e) => e.version === '2'), 10_000, 50);

    // A good canary, then promote: everything moves to it.
    expect((await models('publish', versionDir(src, 'v3', addConst(3)), '--model', 'adder', '--canary', '50', '--model-repository', repo)).code).toBe(0);
    await load.untilVersion('3', 10_000);
    const mark = load.outcomes.length;
    await sleep(500);
    const mixed = load.outcomes.slice(mark);
    expect(mixed.some((o) => o.version === '1') && mixed.some((o) => o.version === '3')).toBe(true);
    expect((await models('promote', '--model', 'adder', '--model-repository', repo)).out).toMatch(/promoted version 3 to stable \(was 1\)/);
    await waitFor(async () => !(await index(rt.url)).some((e) => e.version === '1'), 10_000, 50);
    const promotedAt = load.outcomes.length;
    await sleep(500);
    expect(load.outcomes.slice(promotedAt).every((o) => o.version === '3')).toBe(true);
    expect((await models('status', '--model', 'adder', '--model-repository', repo)).out).toMatch(/published versions: 1, 2, 3\n  stable: 3\n/);
  } finally {
    await load.stop();
  }
  expect(load.readiness.every((s) => s === 200)).toBe(true);
  expect(load.outcomes.filter((o) => o.status === 200 && o.y !== Number(o.version))).toEqual([]);
}, 120_000);

test('explicit mode: the repository API loads (with a config override) and unloads behind the admin tokens; readiness stays 200', async () => {
  const repo = path.join(tmp, 'explicit-repo');
  const src = path.join(tmp, 'explicit-src');
  expect((await models('publish', versionDir(src, 'v1', addConst(1)), '--model', 'adder', '--model-repository', repo)).code).toBe(0);
  const tokens = path.join(tmp, 'tokens');
  const admin = path.join(tmp, 'admin-tokens');
  fs.writeFileSync(tokens, 'inference-token\n');
  fs.writeFileSync(admin, '# operators\nadmin-token\n');
  const rt = await startTestRuntime(repo, ['--model-control-mode', 'explicit', '--auth-tokens-file', tokens, '--admin-tokens-file', admin]);
  runtimes.push(rt);
  const user = { authorization: 'Bearer inference-token' };
  const op = { authorization: 'Bearer admin-token', 'content-type': 'application/json' };
  const post = (p: string, headers: Record<string, string>, body?: unknown) => fetch(`${rt.url}/v2/repository${p}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  expect((await post('/models/adder/load', {})).status).toBe(401);
  expect((await post('/models/adder/load', user)).status).toBe(401);
  expect((await post('/index', user)).status).toBe(401);
  expect((await fetch(`${rt.url}/v2/models/adder`, { headers: op })).status).toBe(401);

  const overridden = await post('/models/adder/load', op, { parameters: { config: JSON.stringify({ max_batch_size: 4 }) } });
  expect(overridden.status).toBe(200);
  const meta = (await (await fetch(`${rt.url}/v2/models/adder`, { headers: user })).json()) as { parameters: { max_batch_size: number } };
  expect(meta.parameters.max_batch_size).toBe(4);
  const bad = await post('/models/adder/load', op, { parameters: { config: '{"max_batch_size": -1}' } });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toMatch(/failed to load 'adder': config override: max_batch_size: got -1/);
  expect(((await (await post('/models/adder/load', op, { parameters: { 'file:1/model.onnx': 'AAAA' } })).json()) as { error: string }).error).toMatch(/file overrides .* are not supported/);
  // The bad override changed nothing: still served.
  expect((await fetch(`${rt.url}/v2/models/adder/ready`, { headers: user })).status).toBe(200);

  expect((await post('/models/adder/unload', op)).status).toBe(200);
  await rt.models.settled();
  expect((await fetch(`${rt.url}/v2/models/adder/ready`, { headers: user })).status).toBe(503);
  expect((await fetch(`${rt.url}/v2/health/ready`)).status).toBe(200);
  expect(await (await post('/index', op)).json()).toEqual([{ name: 'adder', state: 'UNAVAILABLE', reason: 'unloaded through the repository API' }]);
  expect((await post('/models/adder/load', op)).status).toBe(200);
  const infer = await fetch(`${rt.url}/v2/models/adder/infer`, { method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] }) });
  expect(((await infer.json()) as { outputs: Array<{ data: number[] }> }).outputs[0].data).toEqual([2]);
  expect(((await (await post('/models/nope/load', op)).json()) as { error: string }).error).toMatch(/failed to load 'nope': no model directory/);
}, 60_000);

test('outside explicit mode, load and unload say how to turn them on', async () => {
  const rt = await startTestRuntime(path.join(tmp, 'explicit-repo'));
  runtimes.push(rt);
  const res = await fetch(`${rt.url}/v2/repository/models/adder/unload`, { method: 'POST' });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: "explicit model unload is not allowed in model control mode 'none'; start the server with --model-control-mode explicit" });
});

/**
 * Release gating, with real parts: s3rver as the model store and several runtimes (in-process,
 * real onnxruntime workers, poll mode, a cache each). A runtime that loaded a version without error
 * records it in the store (`<model>/loaded/<version>.json`, for that version's manifest); a runtime
 * starting in poll mode starts from the newest *proven* version and loads an unproven release only
 * beside it, at its first poll — so a release becomes what new instances start from only after it
 * loaded somewhere, and a broken one never does.
 * S3 semantics relied on: a PUT is visible whole to the next LIST/GET (strong read-after-write,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { S3Shard, startModelStore } from '../helpers/s3';
import { addConst, versionDir } from '../helpers/release-models';
import { startTestRuntime, waitFor } from '../helpers/runtime';
import type { Runtime } from '../../runtime/server';
import { modelsCommand } from '../../runtime/models/models-command';
import { parseRepositoryLocation } from '../../runtime/models/repository-location';
import { openStore, RepositoryStore } from '../../runtime/models/repository-store';
import { sha256 } from '../../runtime/models/version-manifest';

let modelStore: Awaited<ReturnType<typeof startModelStore>>;
let s3: S3Shard;
let tmp: string;
let repo: string;
let store: RepositoryStore;
const running: Runtime[] = [];

beforeAll(async () => {
  modelStore = await startModelStore('gating');
  ({ s3, tmp } = modelStore);
  repo = `s3://models/gated?endpoint=${s3.endpoint}`;
  store = openStore(parseRepositoryLocation(repo));
});

afterAll(async () => {
  for (const rt of running) await rt.stop();
  store?.close();
  await modelStore?.stop();
});

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await modelsCommand([...args, '--model-repository', repo], process.env, { write: (s: string) => (out += s) }, { write: (s: string) => (out += s) });
  return { code, out };
}
async function models(...args: string[]): Promise<string> {
  const { code, out } = await run(...args);
  if (code !== 0) throw new Error(`onnx-fleet models ${args.join(' ')}: exit ${code}\n${out}`);
  return out;
}

/** Log lines of each runtime (JSON), to see what it started from. */
const logs = new Map<string, Array<Record<string, unknown>>>();

async function start(name: string, pollSecs = 2): Promise<Runtime> {
  const lines: Array<Record<string, unknown>> = [];
  logs.set(name, lines);
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const rt = await startTestRuntime(repo, ['--model-control-mode', 'poll', '--repository-poll-secs', String(pollSecs), '--model-cache-dir', path.join(tmp, `cache-${name}`)], {}, logger);
  running.push(rt);
  return rt;
}
const startedFrom = (name: string) => logs.get(name)!.filter((l) => l.startingFrom !== undefined).map((l) => ({ model: l.model, release: l.release, startingFrom: l.startingFrom }));

async function stop(rt: Runtime): Promise<void> {
  running.splice(running.indexOf(rt), 1);
  await rt.stop();
}

/** The version that answers a request naming none. */
async function serving(rt: Runtime): Promise<string | undefined> {
  const res = await fetch(`${rt.url}/v2/models/adder/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0] }] }) });
  return ((await res.json()) as { model_version?: string }).model_version;
}

async function marker(version: number): Promise<Record<string, unknown> | undefined> {
  const body = await store.get(`adder/loaded/${version}.json`);
  return body === undefined ? undefined : JSON.parse(body.toString());
}

test('new instances start from the last version that loaded somewhere; an unproven release loads beside it; a broken one never becomes the start', async () => {
  const src = path.join(tmp, 'src');
  await models('publish', versionDir(src, 'v1', addConst(1)), '--model', 'adder');

  // A: nothing proven yet, so it starts from the release (v1) and records that v1 loaded.
  const a = await start('a');
  expect(await serving(a)).toBe('1');
  await waitFor(async () => (await marker(1)) !== undefined, 10_000);
  expect(await marker(1)).toMatchObject({ version: 1, manifest_sha256: sha256((await store.get('adder/1/manifest.json'))!) });
  await stop(a);

  // v2 is published while no runtime polls: it has loaded nowhere yet.
  await models('publish', versionDir(src, 'v2', addConst(2)), '--model', 'adder');
  expect(await marker(2)).toBeUndefined();
  const b = await start('b', 4);
  const startedOn = await serving(b);
  // B became ready on the proven v1 (it says so), then loads v2 beside it at its first poll, and records it.
  expect(startedFrom('b')).toEqual([{ model: 'adder', release: 2, startingFrom: 1 }]);
  await waitFor(async () => (await serving(b)) === '2', 30_000);
  await waitFor(async () => (await marker(2)) !== undefined, 10_000);
  expect(startedOn).toBe('1');

  // C starts after v2 loaded somewhere: straight on v2.
  const c = await start('c');
  expect(startedFrom('c')).toEqual([]);
  expect(await serving(c)).toBe('2');

  // A broken v3, published properly: the running instances try it, keep v2; nobody records it.
  fs.mkdirSync(path.join(src, 'v3'), { recursive: true });
  fs.writeFileSync(path.join(src, 'v3', 'model.onnx'), 'not an onnx model');
  // --wait-loaded: the publisher hears that no runtime loaded it (exit 1), and why to look.
  const broken = await run('publish', path.join(src, 'v3'), '--model', 'adder', '--wait-loaded', '6');
  expect(broken.code).toBe(1);
  expect(broken.out).toContain('no runtime loaded adder version 3 without error within 6 s; new instances keep starting from the last version that did');
  const index = async (rt: Runtime) => (await (await fetch(`${rt.url}/v2/repository/index`, { method: 'POST' })).json()) as Array<{ version?: string; state: string; reason?: string }>;
  for (const rt of [b, c]) await waitFor(async () => (await index(rt)).some((e) => e.version === '3' && e.state === 'UNAVAILABLE'), 30_000);
  expect(await marker(3)).toBeUndefined();
  expect([await serving(b), await serving(c)]).toEqual(['2', '2']);

  // D starts from v2 (the newest proven), never from the broken release; its own poll then refuses v3 too.
  const d = await start('d');
  expect(startedFrom('d')).toEqual([{ model: 'adder', release: 3, startingFrom: 2 }]);
  expect(await serving(d)).toBe('2');
  await waitFor(async () => (await index(d)).some((e) => e.version === '3' && e.state === 'UNAVAILABLE'), 30_000);
  expect(await serving(d)).toBe('2');
  expect(await marker(3)).toBeUndefined();

  // A good v4 with --wait-loaded returns once a polling runtime has loaded it.
  const good = await run('publish', versionDir(src, 'v4', addConst(4)), '--model', 'adder', '--wait-loaded', '30');
  expect(good.code).toBe(0);
  expect(good.out).toMatch(/adder version 4 loaded without error on \S+ at \S+: new instances now start from it/);

  // What the fleet may start from is visible to whoever publishes.
  expect(await models('status', '--model', 'adder')).toContain('loaded without error somewhere (new instances start from the newest of these at or below stable): 1, 2, 4');
}, 130_000);

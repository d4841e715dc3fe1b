/**
 * The model store's initial release (infra/aws/model-store-seed.ts), in its serialized form (what
 * the Pulumi engine runs as a dynamic provider), against a real S3-compatible server (s3rver):
 * created, it publishes the stack's local repository with `onnx-fleet models`' publishing code;
 * run again after releases made with `onnx-fleet models`, it overwrites none of them (only a model
 * the store has never held is published); deleted, it deletes nothing. What it writes is what a
 * runtime's repository cache accepts (every file matches its version's manifest).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import * as pulumi from '@pulumi/pulumi';
import { modelStoreSeedProvider, repositoryDigest } from '../../infra/aws/model-store-seed';
import { modelsCommand } from '../../runtime/models/models-command';
import { publishedVersions } from '../../runtime/models/publish';
import { RepositoryCache } from '../../runtime/models/repository-cache';
import { parseRepositoryLocation } from '../../runtime/models/repository-location';
import { openStore, RepositoryStore } from '../../runtime/models/repository-store';
import { addConst, versionDir } from '../helpers/release-models';
import { EXAMPLES } from '../helpers/runtime';
import { S3Shard, startModelStore } from '../helpers/s3';

let provider: typeof modelStoreSeedProvider;
let modelStore: Awaited<ReturnType<typeof startModelStore>>;
let s3: S3Shard;
let tmp: string;
let location: string;
let store: RepositoryStore;

const inputs = (repository: string) => ({ location, repository, digest: repositoryDigest(repository) });
const models = async (...args: string[]) => {
  let out = '';
  const code = await modelsCommand([...args, '--model-repository', location], process.env, { write: (s: string) => (out += s) }, { write: (s: string) => (out += s) });
  if (code !== 0) throw new Error(`onnx-fleet models ${args.join(' ')}: exit ${code}\n${out}`);
};
const snapshot = async () => Object.fromEntries(await Promise.all((await store.list()).map(async (o) => [o.key, (await store.get(o.key))!.toString('base64')])));

beforeAll(async () => {
  modelStore = await startModelStore('seed');
  ({ s3, tmp } = modelStore);
  const { text } = await pulumi.runtime.serializeFunction(() => modelStoreSeedProvider);
  const module = { exports: {} as { handler: () => typeof modelStoreSeedProvider } };
  new Function('exports', 'require', 'module', text)(module.exports, require, module);
  provider = module.exports.handler();
  location = `s3://models/stack/?endpoint=${s3.endpoint}&region=us-east-1`;
  store = openStore(parseRepositoryLocation(location));
}, 60_000);

afterAll(async () => {
  store?.close();
  await modelStore?.stop();
});

test('diff: another store is a replacement (a new initial release), a changed local repository an update, nothing else a change', async () => {
  const a = inputs(EXAMPLES);
  expect(await provider.diff!(location, a, a)).toMatchObject({ changes: false, replaces: [] });
  // The same files in another checkout: nothing to do.
  expect(await provider.diff!(location, a, { ...a, repository: '/elsewhere/models' })).toMatchObject({ changes: false, replaces: [] });
  expect(await provider.diff!(location, a, { ...a, digest: 'f'.repeat(64) })).toMatchObject({ changes: true, replaces: [] });
  expect(await provider.diff!(location, a, { ...a, location: 's3://other/models/' })).toMatchObject({ changes: true, replaces: ['location'] });
});

test('create publishes the local repository; later releases survive every re-run; delete deletes nothing', async () => {
  const created = await provider.create!(inputs(EXAMPLES));
  expect(created.id).toBe(location);
  expect(created.outs.published).toEqual(['iris/1', 'text-orientation/1']);
  expect(created.outs.kept).toEqual([]);
  expect(await publishedVersions(store, 'iris')).toEqual([1]);
  expect((await store.get('iris/config.json'))!.equals(fs.readFileSync(path.join(EXAMPLES, 'iris', 'config.json')))).toBe(true);
  // A runtime's cache mirrors it: every file matches its manifest.
  const cache = new RepositoryCache(store, path.join(tmp, 'cache'), pino({ level: 'silent' }));
  const sync = await cache.sync();
  expect(sync.downloaded.sort()).toEqual(['iris/1', 'text-orientation/1']);
  expect([...sync.problems]).toEqual([]);

  // Releases made since with onnx-fleet models: a new version of iris and a canary of it.
  await models('publish', versionDir(path.join(tmp, 'src'), 'iris-v2', fs.readFileSync(path.join(EXAMPLES, 'iris', '1', 'model.onnx'))), '--model', 'iris');
  await models('canary', '--model', 'iris', '--version', '2', '--weight', '10');
  const released = await snapshot();

  // The stack's local repository changes (an older iris config, one new model): pulumi up runs the step again.
  const local = path.join(tmp, 'local');
  fs.cpSync(EXAMPLES, local, { recursive: true });
  fs.writeFileSync(path.join(local, 'iris', 'config.json'), JSON.stringify({ max_batch_size: 1 }));
  versionDir(path.join(local, 'adder'), '1', addConst(1));
  expect(await provider.diff!(location, created.outs, inputs(local))).toMatchObject({ changes: true, replaces: [] });
  const updated = await provider.update!(location, created.outs, inputs(local));
  expect(updated.outs!.published).toEqual(['adder/1']);
  expect(updated.outs!.kept).toEqual(['iris (versions 1, 2 already published)', 'text-orientation (versions 1 already published)']);
  const after = await snapshot();
  // Nothing that was there changed (the canary, iris's config, every version): only adder was added.
  for (const [key, body] of Object.entries(released)) expect({ key, same: after[key] === body }).toEqual({ key, same: true });
  expect(Object.keys(after).filter((k) => !(k in released)).sort()).toEqual(['adder/1/manifest.json', 'adder/1/model.onnx']);
  expect(JSON.parse((await store.get('iris/release.json'))!.toString())).toMatchObject({ stable: 1, canary: { version: 2, weight_percent: 10 } });

  await provider.delete!(location, updated.outs);
  expect(await snapshot()).toEqual(after);
}, 60_000);

test('a missing or empty local repository is an error, before anything is written', async () => {
  expect(() => repositoryDigest(path.join(tmp, 'nope'))).toThrow(/model repository .*nope not found \(set onnx-fleet:modelRepository\)/);
  fs.mkdirSync(path.join(tmp, 'empty'));
  expect(() => repositoryDigest(path.join(tmp, 'empty'))).toThrow(/is empty/);
});

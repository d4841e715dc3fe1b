/**
 * S3 model repositories against a real S3-compatible server (s3rver): publication is atomic (a
 * version exists only once its manifest, written last, is there), the local cache never holds
 * half a version, and a file that does not match its manifest keeps the version out.
 * S3 semantics relied on: a PUT makes the whole object visible at once, and ListObjectsV2 lists
 * what exists (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel);
 * ETags are not content digests for multipart uploads
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html), hence the manifest's SHA-256.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { S3Shard, startModelStore } from '../helpers/s3';
import { addConst, versionDir } from '../helpers/release-models';
import { RepositoryCache } from '../../runtime/models/repository-cache';
import { parseRepositoryLocation } from '../../runtime/models/repository-location';
import { openStore, RepositoryStore } from '../../runtime/models/repository-store';
import { publishVersion, publishedVersions } from '../../runtime/models/publish';
import { sha256 } from '../../runtime/models/version-manifest';

let modelStore: Awaited<ReturnType<typeof startModelStore>>;
let s3: S3Shard;
let tmp: string;
let store: RepositoryStore;

beforeAll(async () => {
  modelStore = await startModelStore('s3repo');
  ({ s3, tmp } = modelStore);
  store = openStore(parseRepositoryLocation(`s3://models/prod?endpoint=${s3.endpoint}`));
});

afterAll(async () => {
  store?.close();
  await modelStore?.stop();
});

test('the location parses like the capture shards, with clear errors', () => {
  expect(parseRepositoryLocation('s3://models/prod?endpoint=http://127.0.0.1:9000')).toMatchObject({ kind: 's3', bucket: 'models', prefix: 'prod/', forcePathStyle: true });
  expect(parseRepositoryLocation('./models')).toEqual({ kind: 'dir', dir: path.resolve('models') });
  expect(() => parseRepositoryLocation('s3://Bad_Bucket')).toThrow(/model repository "s3:\/\/Bad_Bucket": "bad_bucket" is not a valid bucket name|not a valid bucket name/);
  expect(() => parseRepositoryLocation('s3://models?colour=red')).toThrow('unknown parameter "colour"');
  expect(() => parseRepositoryLocation('gs://models')).toThrow('expected a directory or s3://bucket');
});

test('a poll during a slow upload never sees half a version; after the manifest it sees all of it', async () => {
  const cache = new RepositoryCache(store, path.join(tmp, 'cache'), pino({ level: 'silent' }));
  const source = versionDir(path.join(tmp, 'src'), 'v1', addConst(1), { 'labels.txt': 'one\n', 'notes.md': '# v1\n' });
  const observed: Array<{ uploaded: string; cached: boolean }> = [];
  const cachedVersion = path.join(cache.dir, 'adder', '1');
  const result = await publishVersion(store, {
    model: 'adder',
    source,
    progress: async (e) => {
      if (e.step !== 'file') return;
      await new Promise((r) => setTimeout(r, 300)); // a slow upload: other files still to come
      const sync = await cache.sync();
      observed.push({ uploaded: e.key, cached: fs.existsSync(cachedVersion) || sync.downloaded.length > 0 });
    },
  });
  expect(result).toMatchObject({ version: 1, files: 3 });
  expect(observed.map((o) => o.uploaded)).toEqual(['adder/1/labels.txt', 'adder/1/model.onnx', 'adder/1/notes.md']);
  expect(observed.every((o) => !o.cached)).toBe(true);
  const after = await cache.sync();
  expect(after.downloaded).toEqual(['adder/1']);
  for (const f of ['model.onnx', 'labels.txt', 'notes.md']) expect(sha256(fs.readFileSync(path.join(cachedVersion, f)))).toBe(sha256(fs.readFileSync(path.join(source, f))));
  // Nothing changed: nothing downloaded again.
  expect((await cache.sync()).downloaded).toEqual([]);
  expect(await publishedVersions(store, 'adder')).toEqual([1]);
  await expect(publishVersion(store, { model: 'adder', source, version: 1 })).rejects.toThrow('adder version 1 is already published');
});

test('a file that does not match its manifest keeps the version out and the cached copy in place', async () => {
  const cache = new RepositoryCache(store, path.join(tmp, 'cache2'), pino({ level: 'silent' }));
  const source = versionDir(path.join(tmp, 'src'), 'v2', addConst(2));
  await publishVersion(store, { model: 'adder', source });
  expect((await cache.sync()).downloaded).toEqual(['adder/1', 'adder/2']);
  // Overwrite the published file behind the manifest's back (a torn re-upload).
  await store.put('adder/2/model.onnx', Buffer.from('not the published bytes'));
  const before = fs.readFileSync(path.join(cache.dir, 'adder', '2', 'model.onnx'));
  fs.rmSync(path.join(cache.dir, 'adder', '2', '.manifest-sha256'));
  const sync = await cache.sync();
  expect(sync.problems.get('adder/2')).toMatch(/model\.onnx does not match .*manifest\.json \(got 23 bytes/);
  expect(fs.readFileSync(path.join(cache.dir, 'adder', '2', 'model.onnx'))).toEqual(before);
  // A version whose manifest goes away leaves the cache.
  await store.delete('adder/2/manifest.json');
  expect((await cache.sync()).removed).toEqual(['adder/2']);
  expect(fs.existsSync(path.join(cache.dir, 'adder', '2'))).toBe(false);
});

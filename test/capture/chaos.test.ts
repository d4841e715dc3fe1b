/**
 * Data capture under failure, with real components: a PostgreSQL 15 primary + synchronous
 * streaming replica, three s3rver shards, and the compiled runtime (`node dist/cli/index.js
 * serve`) under steady inference load. While the load runs: a shard is killed for 5 s, the
 * primary is crashed and the replica promoted (the runtime follows the libpq multi-host writer
 * endpoint), and the runtime is killed with SIGKILL mid-batch and restarted on the same journal.
 * Afterwards every accepted and sampled request has exactly one object in the shard the ring
 * picks and exactly one index row, and no request failed because of capture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSampled } from '../../runtime/capture/hash';
import { HashRing } from '../../runtime/capture/hash-ring';
import { objectKey } from '../../runtime/capture/object-keys';
import { AuroraStandIn, startAuroraStandIn } from '../helpers/aurora';
import { freePort } from '../helpers/postgres';
import { ChildRuntime, EXAMPLES, isReady, spawnRuntime, waitFor } from '../helpers/runtime';
import { S3RVER_ENV, S3Shard, startS3Shards } from '../helpers/s3';

jest.setTimeout(150_000);

const SAMPLING = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: AuroraStandIn;
let s3: Awaited<ReturnType<typeof startS3Shards>>;
let work: string;
const runtimes: ChildRuntime[] = [];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-chaos-'));
  const repo = path.join(work, 'models');
  fs.cpSync(path.join(EXAMPLES, 'iris'), path.join(repo, 'iris'), { recursive: true });
  const configFile = path.join(repo, 'iris', 'config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  config.data_capture = { enabled: true, sampling_percentage: SAMPLING, capture: ['request', 'response'] };
  fs.writeFileSync(configFile, JSON.stringify(config));
  [db, s3] = await Promise.all([startAuroraStandIn(), startS3Shards(3)]);
});

afterAll(async () => {
  for (const r of runtimes) r.proc.kill('SIGKILL');
  await s3?.stop();
  await db?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Sent {
  id: string;
  key: string;
  status: number | 'no response';
  error?: string;
}

const FEATURES = [5.1, 3.5, 1.4, 0.2];

function requestFor(id: string, pk: string | undefined, binary: boolean): { body: Buffer; headers: Record<string, string> } {
  const parameters = pk ? { partition_key: pk } : undefined;
  if (!binary) {
    return { body: Buffer.from(JSON.stringify({ id, ...(parameters ? { parameters } : {}), inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: FEATURES }] })), headers: { 'content-type': 'application/json' } };
  }
  const header = Buffer.from(JSON.stringify({ id, ...(parameters ? { parameters } : {}), inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }));
  return { body: Buffer.concat([header, Buffer.from(new Float32Array(FEATURES).buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

test('nothing accepted is lost: shard outage, Aurora writer failover, kill -9 and restart under load', async () => {
  const port = await freePort();
  const journal = path.join(work, 'journal');
  const args = [
    '--model-repository', path.join(work, 'models'), '--port', String(port), '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--exit-timeout', '5',
    '--capture-journal-dir', journal, '--capture-shards', s3.shards.map((s) => s.spec).join(','), '--capture-flush-interval-ms', '100',
    '--database-writer-url', db.writerUrl, '--database-reader-urls', db.readerUrl,
  ];
  const env = { ...S3RVER_ENV, ONNX_FLEET_LOG_LEVEL: 'info' };
  const first = await spawnRuntime(args, env);
  runtimes.push(first);
  const url = first.url;

  // Steady load: 4 clients, ~35 requests/s each, every request with its own id; some share a partition key; a quarter binary.
  const sent: Sent[] = [];
  let stopLoad = false;
  const client = async (w: number) => {
    for (let n = 0; !stopLoad; n++) {
      const id = `c${w}-${n}`;
      const pk = n % 9 === 0 ? `tenant-${n % 4}` : undefined;
      const { body, headers } = requestFor(id, pk, n % 4 === 1);
      const t0 = Date.now();
      try {
        const res = await fetch(`${url}/v2/models/iris/infer`, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        sent.push({ id, key: pk ?? id, status: res.status, ...(res.status !== 200 ? { error: text } : {}) });
      } catch (err) {
        sent.push({ id, key: pk ?? id, status: 'no response', error: String((err as Error).cause ?? err) });
      }
      await sleep(Math.max(0, 28 - (Date.now() - t0)));
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(client));
  const log: string[] = [];
  const note = (s: string) => log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${s}`);
  const started = Date.now();

  // 1. A shard goes away for 5 s.
  await sleep(3000);
  const victim: S3Shard = s3.shards[1];
  await victim.stop();
  note(`shard ${victim.bucket} stopped`);
  await sleep(5000);
  const journaledDuringOutage = await metric(url, 'onnx_fleet_capture_records_journaled_total');
  await victim.start();
  note(`shard ${victim.bucket} back`);

  // 2. The writer crashes; the failover promotes the reader and the cluster endpoint follows it; the runtime must follow without a restart.
  await sleep(1500);
  db.crashWriter();
  note('writer crashed');
  await sleep(1000);
  db.promoteReader();
  const promotedAt = new Date();
  note('reader promoted, cluster endpoint repointed');
  await waitFor(async () => {
    try {
      const rows = await db.reader.query<{ n: number }>('SELECT count(*)::int AS n FROM capture_records WHERE captured_at > $1', [promotedAt.toISOString()]);
      return rows[0].n > 0;
    } catch {
      return false;
    }
  }, 20_000, 200);
  note('runtime writes to the new primary');

  // 3. kill -9 mid-batch, restart on the same journal.
  await sleep(1000);
  const segmentsAtKill = fs.readdirSync(journal).filter((n) => n.endsWith('.wal')).length;
  const capturedBeforeKill = await metric(url, 'onnx_fleet_capture_records_total');
  first.proc.kill('SIGKILL');
  await first.exited;
  note(`runtime killed with ${segmentsAtKill} journal segment(s) on disk`);
  const second = await spawnRuntime(args, env);
  runtimes.push(second);
  expect(second.url).toBe(url);
  await waitFor(() => isReady(url), 20_000);
  note('runtime restarted');
  await sleep(4000);
  stopLoad = true;
  await load;
  note('load stopped');

  // Everything flushed, then a clean stop.
  await waitFor(async () => (await metric(url, 'onnx_fleet_capture_journal_bytes')) <= 8 && (await metric(url, 'onnx_fleet_capture_records_total')) > 0, 30_000, 200);
  second.proc.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(fs.readdirSync(journal).filter((n) => n.endsWith('.wal'))).toEqual([]);
  note('runtime stopped cleanly, journal empty');

  // ---- What the clients saw.
  const answered = sent.filter((s) => s.status !== 'no response');
  const failed = answered.filter((s) => s.status !== 200);
  expect(failed).toEqual([]); // no inference request failed, whatever capture went through
  const accepted = answered.filter((s) => s.status === 200);
  const noResponse = sent.filter((s) => s.status === 'no response');
  const expected = new Map(accepted.filter((s) => isSampled(s.key, SAMPLING)).map((s) => [s.id, s]));
  const cut = new Map(noResponse.filter((s) => isSampled(s.key, SAMPLING)).map((s) => [s.id, s]));

  // ---- What the shards hold.
  const ring = new HashRing(s3.shards.map((s) => s.id));
  const objects = new Map<string, Array<{ shard: string; key: string; doc: { id: string; request_id: string; captured_at: string; status: number; request: { encoding: string } } }>>();
  let objectCount = 0;
  for (const shard of s3.shards) {
    const keys = await shard.listKeys('model=iris/');
    const docs = await shard.getAll(keys);
    for (const [key, body] of docs) {
      const doc = JSON.parse(body.toString());
      objectCount++;
      const list = objects.get(doc.request_id) ?? [];
      list.push({ shard: shard.id, key, doc });
      objects.set(doc.request_id, list);
    }
  }
  for (const [id, s] of expected) {
    const copies = objects.get(id);
    expect({ id, copies: copies?.length ?? 0 }).toEqual({ id, copies: 1 });
    const [c] = copies!;
    expect(c.shard).toBe(ring.shardFor(s.key));
    expect(c.key).toBe(objectKey('iris', new Date(c.doc.captured_at), c.doc.id));
    expect(c.doc.status).toBe(200);
  }
  const extra = [...objects.keys()].filter((id) => !expected.has(id));
  for (const id of extra) expect({ id, cutByKill: cut.has(id), copies: objects.get(id)!.length }).toEqual({ id, cutByKill: true, copies: 1 });
  const binaryCaptured = [...objects.values()].flat().filter((c) => c.doc.request.encoding === 'BASE64').length;
  expect(binaryCaptured).toBeGreaterThan(0);

  // ---- What the index holds (on the promoted reader, now the writer).
  const rows = await db.reader.query<{ id: string; request_id: string; shard: string; object_key: string }>("SELECT id, request_id, shard, object_key FROM capture_records WHERE model = 'iris'");
  const rowsByRequest = new Map<string, typeof rows>();
  for (const r of rows) rowsByRequest.set(r.request_id, [...(rowsByRequest.get(r.request_id) ?? []), r]);
  for (const id of expected.keys()) expect({ id, rows: rowsByRequest.get(id)?.length ?? 0 }).toEqual({ id, rows: 1 });
  expect(rows.length).toBe(objectCount);
  for (const r of rows) {
    const [c] = objects.get(r.request_id)!;
    expect({ id: r.id, shard: r.shard, key: r.object_key }).toEqual({ id: c.doc.id, shard: c.shard, key: c.key });
  }
  const usage = await db.reader.query<{ records: string }>("SELECT coalesce(sum(records), 0) AS records FROM model_usage WHERE model = 'iris'");
  expect(Number(usage[0].records)).toBe(rows.length);

  // ---- The runtime's own account.
  const firstLogs = first.logs.join('\n');
  // The runtime only ever knew the cluster endpoint; it reconnected through it after the failover, which led it to the promoted reader.
  const primaries = [...firstLogs.matchAll(/"primary":"([^"]+)".*capture index: connected to the primary/g)].map((m) => m[1]);
  expect(new Set(primaries)).toEqual(new Set([db.clusterEndpoint.hostPort]));
  expect(primaries.length).toBeGreaterThanOrEqual(2);
  expect(db.clusterEndpoint.served).toEqual([db.writer.hostPort, db.reader.hostPort]);
  expect(second.logs.join('\n')).toContain('capture: replaying the journal left by a previous run');
  expect(journaledDuringOutage).toBeGreaterThan(0);

  const perShard = s3.shards.map((s) => `${s.bucket}=${[...objects.values()].flat().filter((c) => c.shard === s.id).length}`).join(' ');
  process.stdout.write(
    [
      'data capture chaos test:',
      ...log.map((l) => `  ${l}`),
      `  requests sent ${sent.length}: answered ${answered.length} (200: ${accepted.length}, other: ${failed.length}), no response (runtime killed or restarting) ${noResponse.length}`,
      `  accepted and sampled (${SAMPLING} %) ${expected.size}: in shards exactly once ${[...expected.keys()].filter((id) => objects.get(id)?.length === 1).length}, in the index exactly once ${[...expected.keys()].filter((id) => rowsByRequest.get(id)?.length === 1).length}`,
      `  records of requests cut by kill -9 (written once, never answered) ${extra.length}`,
      `  objects ${objectCount} (${perShard}, binary requests ${binaryCaptured}), index rows ${rows.length}, usage records ${usage[0].records}`,
      `  journaled while the shard was down ${journaledDuringOutage}; captured by the first process before kill -9 ${capturedBeforeKill}; journal segments at kill ${segmentsAtKill}`,
      `  writer connections of the first process: ${primaries.length}, all through the cluster endpoint, which led them to ${db.clusterEndpoint.served.join(' → ')}`,
      '',
    ].join('\n'),
  );
});

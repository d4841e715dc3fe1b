/** The capture index against a real PostgreSQL 15 primary and streaming replica. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { IndexReader, IndexRow, IndexWriter } from '../../runtime/capture/index-store';
import { MIGRATIONS, migrate } from '../../runtime/capture/migrations';
import { newRecordId } from '../../runtime/capture/object-keys';
import { PgCluster, freePort, startPgCluster } from '../helpers/postgres';
import { Client } from 'pg';

jest.setTimeout(60_000);

let pg: PgCluster;
beforeAll(async () => {
  pg = await startPgCluster({ replica: true });
});
afterAll(() => pg?.stop());

const row = (i: number, at = new Date()): IndexRow => ({
  id: newRecordId(at.getTime()),
  model: 'iris',
  modelVersion: '1',
  capturedAt: at,
  shard: `s3://shard-${i % 3}/`,
  objectKey: `model=iris/date=x/hour=00/${i}.json`,
  requestId: `req-${i}`,
  status: i % 5 === 0 ? 400 : 200,
  latencyUs: 1000 + i,
  requestBytes: 10,
  responseBytes: 20,
});

async function waitReplicated(table: string, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const rows = await pg.replica.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      if (rows[0].n >= n) return;
    } catch {
      /* table not replicated yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`replica did not catch up on ${table}`);
}

test('the writer skips standbys in a multi-host endpoint, migrates, and inserts idempotently with usage counters', async () => {
  // The replica is listed first: the writer must find the primary anyway.
  const writer = new IndexWriter(`postgresql://postgres@${pg.replica.hostPort},${pg.primary.hostPort}/postgres?target_session_attrs=read-write`);
  const rows = Array.from({ length: 25 }, (_, i) => row(i));
  expect(await writer.insert(rows)).toBe(25);
  expect(writer.connectedTo).toBe(pg.primary.hostPort);
  expect(await writer.insert(rows)).toBe(0); // a replay
  expect(await writer.insert([...rows.slice(0, 5), row(100)])).toBe(1);
  await writer.close();
  const versions = await pg.primary.query<{ version: number }>('SELECT version FROM onnx_fleet_schema_migrations ORDER BY version');
  expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  const usage = await pg.primary.query<{ records: string; errors: string; latency_us_sum: string }>("SELECT records, errors, latency_us_sum FROM model_usage WHERE model = 'iris'");
  expect(usage).toHaveLength(1);
  expect(Number(usage[0].records)).toBe(26);
  expect(Number(usage[0].errors)).toBe(6); // req-0, 5, 10, 15, 20 and 100
  expect(Number(usage[0].latency_us_sum)).toBe(rows.reduce((n, r) => n + r.latencyUs, 0) + 1100);
});

test('migrations: applying again is a no-op; an edited applied migration is refused', async () => {
  const c = new Client({ connectionString: pg.primary.url });
  await c.connect();
  try {
    expect((await migrate(c)).applied).toEqual([]);
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: m.sql + ' -- edited' } : m));
    await expect(migrate(c, edited)).rejects.toThrow(/migration 1 \(capture_records\) was applied with checksum [0-9a-f]+, but this runtime has [0-9a-f]+/);
    const next = [...MIGRATIONS, { version: 99, name: 'test_extra', sql: 'CREATE TABLE capture_test_extra (x int)' }];
    expect((await migrate(c, next)).applied).toEqual([99]);
  } finally {
    await c.end();
  }
});

test('queries read a replica, skip a dead one, and fall back to the primary', async () => {
  await waitReplicated('capture_records', 26);
  const dead = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
  const since = new Date(Date.now() - 3600_000);
  const viaReplica = await new IndexReader([dead, pg.readerUrl], pg.writerUrl).list({ model: 'iris', since, limit: 1000 });
  expect(viaReplica.source).toBe(`replica ${pg.replica.hostPort}`);
  expect(viaReplica.rows).toHaveLength(26);
  const viaPrimary = await new IndexReader([dead], pg.primary.url).list({ model: 'iris', since, limit: 10 });
  expect(viaPrimary.source).toBe(`primary ${pg.primary.hostPort}`);
  expect(viaPrimary.rows).toHaveLength(10);
  await expect(new IndexReader([dead], undefined).list({ model: 'iris', since })).rejects.toThrow('no database endpoint answered');
});

test('onnx-fleet captures list / usage', async () => {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'index.js');
  const dead = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'captures', ...args], { encoding: 'utf8', env: { ...process.env, ONNX_FLEET_DATABASE_WRITER_URL: pg.primary.url } });
  const list = run('list', '--model', 'iris', '--since', '1h', '--limit', '5', '--database-reader-urls', `${dead},${pg.readerUrl}`);
  expect(list.status).toBe(0);
  expect(list.stderr).toBe(`5 record(s) from replica ${pg.replica.hostPort}\n`);
  const lines = list.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^captured_at\s+id\s+version\s+status\s+latency_ms\s+shard\s+object_key$/);
  expect(lines).toHaveLength(6);
  const json = run('list', '--model', 'iris', '--since', '1h', '--json', '--database-reader-urls', dead);
  expect(json.status).toBe(0);
  expect(json.stderr).toBe(`26 record(s) from primary ${pg.primary.hostPort}\n`);
  expect(JSON.parse(json.stdout)).toHaveLength(26);
  const usage = run('usage', '--model', 'iris', '--database-reader-urls', pg.readerUrl);
  expect(usage.status).toBe(0);
  expect(usage.stdout).toMatch(/^iris\t1\t\d{4}-\d{2}-\d{2}\trecords=26\terrors=6\tmean_latency_ms=/);
  const bad = run('list', '--since', '1h');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--model is required');
});

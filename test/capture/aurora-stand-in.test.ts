/**
 * The Aurora stand-in the capture failover test runs on (test/helpers/aurora.ts) keeps the
 * semantics it stands in for. Aurora acknowledges a commit only once it is durable on the cluster
 * volume a promoted reader reads (Aurora User Guide, "High availability for Amazon Aurora": a write
 * is replicated synchronously to six storage nodes across three zones); its cluster endpoint follows
 * the writer through a failover and its reader endpoint leads to the writer when no reader is left
 * ("Amazon Aurora endpoint connections"). Here: a commit does not return while the instance a
 * failover would promote cannot make it durable, and after the failover everything acknowledged is
 * on the new writer, reached through the same endpoints.
 */
import { Client } from 'pg';
import { AuroraStandIn, startAuroraStandIn } from '../helpers/aurora';

jest.setTimeout(90_000);

let db: AuroraStandIn;

beforeAll(async () => {
  db = await startAuroraStandIn();
});

afterAll(async () => {
  await db?.stop();
});

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

test('a commit is acknowledged only once the failover target holds it; after the failover every acknowledged row is on the new writer', async () => {
  const writer = await connect(db.writerUrl);
  await writer.query('CREATE TABLE acked (id int PRIMARY KEY)');
  await writer.query('INSERT INTO acked VALUES (1)');

  // The failover target goes away: the next commit is not acknowledged until it is back.
  db.reader.stop('fast');
  let acknowledged = false;
  const pending = writer.query('INSERT INTO acked VALUES (2)').then(() => {
    acknowledged = true;
  });
  await new Promise((r) => setTimeout(r, 1500));
  expect(acknowledged).toBe(false);
  db.reader.start();
  await pending;
  expect(acknowledged).toBe(true);
  await writer.query('INSERT INTO acked VALUES (3)');
  await writer.end();

  // Failover: the writer crashes, the reader is promoted, the cluster endpoint follows it.
  db.crashWriter();
  db.promoteReader();
  const after = await connect(db.writerUrl);
  expect((await after.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(false);
  expect((await after.query('SELECT id FROM acked ORDER BY id')).rows.map((r) => r.id)).toEqual([1, 2, 3]);
  await after.query('INSERT INTO acked VALUES (4)');
  await after.end();
  expect(db.clusterEndpoint.served).toEqual([db.writer.hostPort, db.reader.hostPort]);

  // No reader left: the reader endpoint leads to the writer.
  const reads = await connect(db.readerUrl);
  expect((await reads.query('SELECT count(*)::int AS n FROM acked')).rows[0].n).toBe(4);
  await reads.end();
});

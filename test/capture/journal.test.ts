import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { CaptureService, DataCaptureSettings, RecordHeader } from '../../runtime/capture/capture-service';
import { Journal, JournalLockedError, encodeFrame } from '../../runtime/capture/journal';
import { parseShardSpec } from '../../runtime/capture/shard-spec';
import { FileShard } from '../../runtime/capture/shards';
import { HashRing } from '../../runtime/capture/hash-ring';
import { isSampled } from '../../runtime/capture/hash';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-journal-'));
const lengths = (h: { n: number[] }) => h.n;
const frame = (i: number, size = 10) => encodeFrame({ i, n: [size] }, [Buffer.alloc(size, i % 256)]);

describe('journal', () => {
  test('frames survive seal, reopen and replay in order', async () => {
    const dir = tmp();
    const j = await Journal.open({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) expect(j.append(frame(i))).toBe('ok');
    const seg = await j.seal();
    for (let i = 5; i < 8; i++) j.append(frame(i));
    // Simulate a crash: no seal, no close, lock left behind by a dead pid.
    fs.writeFileSync(path.join(dir, 'journal.lock'), '999999');
    const again = await Journal.open({ dir, maxBytes: 1 << 20 });
    expect(again.sealed().map((s) => s.seq)).toEqual([seg!.seq, seg!.seq + 1]);
    const all = [];
    for (const s of again.sealed()) all.push(...(await again.read<{ i: number; n: number[] }>(s, lengths)).frames.map((f) => f.header.i));
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await again.close();
    await j.close().catch(() => undefined);
  });

  test('a torn or corrupt tail ends the segment; the frames before it replay', async () => {
    const dir = tmp();
    const j = await Journal.open({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 4; i++) j.append(frame(i, 100));
    const seg = (await j.seal())!;
    const data = fs.readFileSync(seg.file);
    fs.writeFileSync(seg.file, data.subarray(0, data.length - 30)); // cut the last frame short
    let r = await j.read<{ i: number; n: number[] }>({ ...seg, bytes: data.length - 30 }, lengths);
    expect(r.frames.map((f) => f.header.i)).toEqual([0, 1, 2]);
    expect(r.tornAt).toBeGreaterThan(0);
    const flipped = Buffer.from(data);
    flipped[flipped.length - 5] ^= 0xff; // a bit flip in the last frame's payload
    fs.writeFileSync(seg.file, flipped);
    r = await j.read<{ i: number; n: number[] }>(seg, lengths);
    expect(r.frames.map((f) => f.header.i)).toEqual([0, 1, 2]);
    await j.close();
  });

  test('bounded: appends beyond maxBytes are refused, and accepted again once segments are removed', async () => {
    const dir = tmp();
    const j = await Journal.open({ dir, maxBytes: 4096 });
    let ok = 0;
    while (j.append(frame(ok, 500)) === 'ok') ok++;
    expect(ok).toBeGreaterThan(5);
    expect(j.append(frame(0, 500))).toBe('full');
    const seg = (await j.seal())!;
    await j.remove(seg);
    expect(j.append(frame(0, 500))).toBe('ok');
    await j.close();
  });

  test('one journal per process: a live owner keeps others out', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'journal.lock'), String(process.ppid));
    await expect(Journal.open({ dir, maxBytes: 1 << 20 })).rejects.toThrow(JournalLockedError);
  });
});

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const ALL: DataCaptureSettings = { enabled: true, samplingPercentage: 100, captureRequest: true, captureResponse: true };

function input(i: number, settings = ALL, pk?: string) {
  return {
    model: 'iris',
    version: '1',
    settings,
    requestId: `req-${i}`,
    partitionKey: pk,
    status: 200,
    latencyUs: 1234,
    request: { body: Buffer.from(JSON.stringify({ id: `req-${i}`, inputs: [] })), contentType: 'application/json' },
    response: { body: Buffer.from(JSON.stringify({ model_name: 'iris', outputs: [] })), contentType: 'application/json' },
  };
}

async function readAll(dirs: string[]): Promise<Map<string, Array<{ shard: string; key: string; doc: Record<string, unknown> }>>> {
  const byRequest = new Map<string, Array<{ shard: string; key: string; doc: Record<string, unknown> }>>();
  for (const dir of dirs) {
    const shard = new FileShard(dir);
    for (const key of await shard.list('model=')) {
      const doc = JSON.parse((await shard.get(key))!.toString());
      const list = byRequest.get(doc.request_id) ?? [];
      list.push({ shard: `file://${dir}`, key, doc });
      byRequest.set(doc.request_id, list);
    }
  }
  return byRequest;
}

describe('capture service with local shards', () => {
  test('records land once each, in the shard the ring picks, under range-partitioned keys', async () => {
    const base = tmp();
    const dirs = [0, 1, 2].map((i) => path.join(base, `shard-${i}`));
    const svc = await CaptureService.start({ journalDir: path.join(base, 'journal'), journalMaxBytes: 1 << 24, flushIntervalMs: 20, shards: dirs.map((d) => parseShardSpec(`file://${d}`)), logger: quiet });
    for (let i = 0; i < 300; i++) svc.record(input(i, ALL, i % 10 === 0 ? 'tenant-7' : undefined));
    expect(await svc.flush(10_000)).toBe(true);
    await svc.close();
    const ring = new HashRing(dirs.map((d) => `file://${d}`));
    const found = await readAll(dirs);
    expect(found.size).toBe(300);
    for (let i = 0; i < 300; i++) {
      const copies = found.get(`req-${i}`)!;
      expect(copies).toHaveLength(1);
      const pk = i % 10 === 0 ? 'tenant-7' : undefined;
      expect(copies[0].shard).toBe(ring.shardFor(pk ?? `req-${i}`));
      expect(copies[0].key).toMatch(/^model=iris\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f-]{36}\.json$/);
      expect(copies[0].doc).toMatchObject({ model: 'iris', model_version: '1', status: 200, request: { encoding: 'JSON', data: { id: `req-${i}` } }, response: { encoding: 'JSON' } });
    }
    // Every record of one partition key is in one shard.
    expect(new Set([...found.values()].flat().filter((c) => c.doc.partition_key === 'tenant-7').map((c) => c.shard)).size).toBe(1);
  });

  test('sampling, on/off and what to keep are per model', async () => {
    const base = tmp();
    const svc = await CaptureService.start({ journalDir: path.join(base, 'journal'), journalMaxBytes: 1 << 24, flushIntervalMs: 20, shards: [parseShardSpec(`file://${base}/s`)], logger: quiet });
    const half = { ...ALL, samplingPercentage: 50, captureResponse: false };
    for (let i = 0; i < 400; i++) svc.record(input(i, half));
    for (let i = 400; i < 450; i++) svc.record(input(i, { ...ALL, enabled: false }));
    for (let i = 450; i < 460; i++) svc.record({ ...input(i), settings: undefined }); // no data_capture key
    await svc.close();
    const found = await readAll([`${base}/s`]);
    const expected = Array.from({ length: 400 }, (_, i) => `req-${i}`).filter((k) => isSampled(k, 50));
    expect([...found.keys()].sort()).toEqual(expected.sort());
    for (const [, [c]] of found) {
      expect(c.doc.request).toBeDefined();
      expect(c.doc.response).toBeUndefined();
    }
  });

  test('an unreachable shard: records wait in the journal, survive a restart, and land exactly once when it is back', async () => {
    const base = tmp();
    const good = path.join(base, 'good');
    const bad = path.join(base, 'bad');
    fs.writeFileSync(bad, 'not a directory'); // every put into this shard fails (ENOTDIR)
    const specs = [parseShardSpec(`file://${good}`), parseShardSpec(`file://${bad}`)];
    const journalDir = path.join(base, 'journal');
    const opts = { journalDir, journalMaxBytes: 1 << 24, flushIntervalMs: 20, shards: specs, logger: quiet, backoffBaseMs: 20, backoffMaxMs: 100 };
    const first = await CaptureService.start(opts);
    for (let i = 0; i < 200; i++) first.record(input(i));
    expect(await first.flush(1500)).toBe(false);
    const stats = first.stats();
    expect(stats.shardsDown).toEqual([specs[1].id]);
    expect(stats.pendingSegments).toBeGreaterThan(0);
    const left = await first.close(200);
    expect(left.flushed).toBe(false);
    const ring = new HashRing(specs.map((s) => s.id));
    const toBad = Array.from({ length: 200 }, (_, i) => `req-${i}`).filter((k) => ring.shardFor(k) === specs[1].id);
    expect(toBad.length).toBeGreaterThan(50);
    expect((await readAll([good])).size).toBe(200 - toBad.length);

    // The shard comes back; a new process replays the journal.
    fs.rmSync(bad);
    const second = await CaptureService.start(opts);
    expect(await second.flush(10_000)).toBe(true);
    await second.close();
    const found = await readAll([good, bad]);
    expect(found.size).toBe(200);
    for (const copies of found.values()) expect(copies).toHaveLength(1);
    expect(fs.readdirSync(journalDir).filter((n) => n.endsWith('.wal'))).toEqual([]);
  });

  test('journal full: capture degrades (counted), record() never throws', async () => {
    const base = tmp();
    const bad = path.join(base, 'bad');
    fs.writeFileSync(bad, 'x');
    const svc = await CaptureService.start({ journalDir: path.join(base, 'journal'), journalMaxBytes: 1 << 20, flushIntervalMs: 20, shards: [parseShardSpec(`file://${bad}`)], logger: quiet });
    const big = { ...input(0), request: { body: Buffer.alloc(64 * 1024), contentType: 'application/octet-stream' } };
    for (let i = 0; i < 40; i++) expect(() => svc.record({ ...big, requestId: `big-${i}` })).not.toThrow();
    const stats = svc.stats();
    expect(stats.captured).toBeGreaterThan(5);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.captured + stats.dropped).toBe(40);
    await svc.close(100);
  });

  test('frames carry binary payloads intact', () => {
    const h: RecordHeader = { v: 1, id: 'x', model: 'm', version: '1', t: 0, rid: 'r', st: 200, lat: 1, req: { n: 3 } };
    const parts = encodeFrame(h, [Buffer.from([1, 2, 3])]);
    expect(Buffer.concat(parts).length).toBeGreaterThan(12);
  });
});

import { newRecordId, objectKey, prefixesForWindow, encodeModel } from '../../runtime/capture/object-keys';
import { parseShardList, parseShardSpec } from '../../runtime/capture/shard-spec';
import { parsePostgresUrl, redactUrl, splitUrlList } from '../../runtime/capture/pg-url';
import { parseTime } from '../../runtime/capture/time-window';

describe('object keys', () => {
  test('range-partitioned by model, date and hour (UTC)', () => {
    const t = new Date('2025-03-09T07:45:12.345Z');
    expect(objectKey('iris', t, '0195b9c2-1f00-7abc-8def-0123456789ab')).toBe('model=iris/date=2025-03-09/hour=07/0195b9c2-1f00-7abc-8def-0123456789ab.json');
    expect(encodeModel('a b/c')).toBe('a%20b%2Fc');
  });

  test('a time window lists one prefix per hour', () => {
    const p = prefixesForWindow('iris', new Date('2025-03-09T22:30:00Z'), new Date('2025-03-10T01:05:00Z'));
    expect(p).toEqual(['model=iris/date=2025-03-09/hour=22/', 'model=iris/date=2025-03-09/hour=23/', 'model=iris/date=2025-03-10/hour=00/', 'model=iris/date=2025-03-10/hour=01/']);
  });

  test('record ids are UUIDv7: unique and ordered by time', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newRecordId(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('shard specs', () => {
  test('S3 with an S3-compatible endpoint, and local directories', () => {
    expect(parseShardSpec('s3://captures-a/prod?endpoint=http://127.0.0.1:4569&region=eu-west-1')).toEqual({
      kind: 's3', id: 's3://captures-a/prod/', bucket: 'captures-a', prefix: 'prod/', endpoint: 'http://127.0.0.1:4569', region: 'eu-west-1', forcePathStyle: true,
    });
    expect(parseShardSpec('s3://captures-b')).toMatchObject({ id: 's3://captures-b/', prefix: '', endpoint: undefined, forcePathStyle: false });
    expect(parseShardSpec('file:///var/lib/onnx-fleet/shard-0')).toEqual({ kind: 'file', id: 'file:///var/lib/onnx-fleet/shard-0', dir: '/var/lib/onnx-fleet/shard-0' });
  });

  test('errors name the shard and what is expected', () => {
    expect(() => parseShardSpec('http://x')).toThrow('shard "http://x": expected file:///absolute/dir or s3://bucket[/prefix][?endpoint=…]');
    expect(() => parseShardSpec('s3://Bad_Bucket')).toThrow('is not a valid bucket name');
    expect(() => parseShardSpec('s3://bucket?endpoint=ftp://x')).toThrow('must be an http(s) URL');
    expect(() => parseShardSpec('s3://bucket?colour=red')).toThrow('unknown parameter "colour"');
    expect(() => parseShardList('file:///a,file:///a')).toThrow('listed twice');
  });
});

describe('PostgreSQL URLs', () => {
  test('libpq multi-host form', () => {
    const t = parsePostgresUrl('postgresql://app:s%40cret@db-a:5432,db-b:6543/captures?target_session_attrs=read-write&connect_timeout=3&sslmode=require');
    expect(t).toEqual({
      hosts: [{ host: 'db-a', port: 5432 }, { host: 'db-b', port: 6543 }],
      user: 'app', password: 's@cret', database: 'captures', targetSessionAttrs: 'read-write', connectTimeoutMs: 3000, ssl: { rejectUnauthorized: false },
    });
    expect(redactUrl('postgresql://app:s3cret@db:5432/x')).toBe('postgresql://app:***@db:5432/x');
    expect(() => parsePostgresUrl('mysql://x')).toThrow('not a PostgreSQL URL');
  });

  test('URL lists keep multi-host URLs whole', () => {
    expect(splitUrlList('postgresql://a:1,b:2/db, postgres://c/db')).toEqual(['postgresql://a:1,b:2/db', 'postgres://c/db']);
  });
});

describe('time windows', () => {
  test('durations back from now and ISO times', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(parseTime('15m', now).toISOString()).toBe('2025-01-01T11:45:00.000Z');
    expect(parseTime('2h', now).toISOString()).toBe('2025-01-01T10:00:00.000Z');
    expect(parseTime('2024-12-31T00:00:00Z').toISOString()).toBe('2024-12-31T00:00:00.000Z');
    expect(() => parseTime('yesterday')).toThrow('is not a time');
  });
});

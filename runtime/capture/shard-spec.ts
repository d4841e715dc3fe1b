/**
 * Shard specifications, parsed without loading any storage client (config validation uses this):
 *   file:///absolute/dir
 *   s3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&force_path_style=true]
 * A shard's id (its place on the hash ring) is its location without the query string, so moving
 * a bucket to another endpoint or region does not reshuffle keys.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ShardSpec =
  | { kind: 'file'; id: string; dir: string }
  | { kind: 's3'; id: string; bucket: string; prefix: string; endpoint?: string; region: string; forcePathStyle: boolean };

export class ShardSpecError extends Error {}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseShardSpec(text: string): ShardSpec {
  const raw = text.trim();
  if (raw.startsWith('file:')) {
    let dir: string;
    try {
      dir = fileURLToPath(raw);
    } catch (err) {
      throw new ShardSpecError(`shard ${JSON.stringify(raw)}: ${(err as Error).message}; expected file:///absolute/dir`);
    }
    dir = path.resolve(dir);
    return { kind: 'file', id: `file://${dir}`, dir };
  }
  if (raw.startsWith('s3://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ShardSpecError(`shard ${JSON.stringify(raw)}: not a valid URL; expected s3://bucket[/prefix][?endpoint=…&region=…&force_path_style=true]`);
    }
    const bucket = url.hostname;
    if (!BUCKET.test(bucket)) throw new ShardSpecError(`shard ${JSON.stringify(raw)}: ${JSON.stringify(bucket)} is not a valid bucket name`);
    let prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    const known = ['endpoint', 'region', 'force_path_style'];
    for (const k of url.searchParams.keys()) {
      if (!known.includes(k)) throw new ShardSpecError(`shard ${JSON.stringify(raw)}: unknown parameter ${JSON.stringify(k)}; known: ${known.join(', ')}`);
    }
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) throw new ShardSpecError(`shard ${JSON.stringify(raw)}: endpoint ${JSON.stringify(endpoint)} must be an http(s) URL`);
    const fps = url.searchParams.get('force_path_style');
    if (fps !== null && fps !== 'true' && fps !== 'false') throw new ShardSpecError(`shard ${JSON.stringify(raw)}: force_path_style must be true or false`);
    return {
      kind: 's3',
      id: `s3://${bucket}/${prefix}`,
      bucket,
      prefix,
      endpoint,
      region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
      // S3-compatible servers (s3rver, MinIO) usually need path-style addressing.
      forcePathStyle: fps === null ? endpoint !== undefined : fps === 'true',
    };
  }
  throw new ShardSpecError(`shard ${JSON.stringify(raw)}: expected file:///absolute/dir or s3://bucket[/prefix][?endpoint=…]`);
}

/** A comma-separated list of shards, in ring order (the order does not change routing). */
export function parseShardList(text: string): ShardSpec[] {
  const specs = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseShardSpec);
  if (specs.length === 0) throw new ShardSpecError('no shards given');
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new ShardSpecError(`shard ${s.id} is listed twice`);
    ids.add(s.id);
  }
  return specs;
}

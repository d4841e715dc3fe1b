/**
 * Shard specifications, parsed without loading any storage client (config validation uses this):
 *   file:///absolute/dir
 *   s3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&force_path_style=true]
 * A shard's id (its place on the hash ring) is its location without the query string, so moving
 * a bucket to another endpoint or region does not reshuffle keys.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseS3Location, S3Location } from '../s3-location';

export type ShardSpec =
  | { kind: 'file'; id: string; dir: string }
  | ({ kind: 's3'; id: string } & S3Location);

export class ShardSpecError extends Error {}

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
    let loc: S3Location;
    try {
      loc = parseS3Location(raw, 'shard');
    } catch (err) {
      throw new ShardSpecError((err as Error).message);
    }
    return { kind: 's3', id: `s3://${loc.bucket}/${loc.prefix}`, ...loc };
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

/** `--model-repository`: a directory, or s3://bucket[/prefix][?endpoint=…&region=…&force_path_style=true]. Parsed without the AWS SDK. */
import path from 'node:path';
import { formatS3Location, parseS3Location, S3Location } from '../s3-location';

export type RepositoryLocation = { kind: 'dir'; dir: string } | ({ kind: 's3' } & S3Location);

export function parseRepositoryLocation(text: string, env: NodeJS.ProcessEnv = process.env): RepositoryLocation {
  const raw = text.trim();
  if (raw.startsWith('s3://')) return { kind: 's3', ...parseS3Location(raw, 'model repository', env) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error(`model repository ${JSON.stringify(raw)}: expected a directory or s3://bucket[/prefix][?endpoint=…]`);
  return { kind: 'dir', dir: path.resolve(raw) };
}

export function describeLocation(loc: RepositoryLocation): string {
  return loc.kind === 'dir' ? loc.dir : formatS3Location(loc);
}

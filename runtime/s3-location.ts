/**
 * `s3://bucket[/prefix][?endpoint=http://host:port&region=…&force_path_style=true]`: where an
 * S3 location is, for any S3-compatible store. Parsed without loading the AWS SDK (config
 * validation uses this). Credentials are never part of the location: the client takes them from
 * the standard AWS chain (instance role or pod identity on AWS, `AWS_*` variables elsewhere).
 * Used by the capture shards and the model repository.
 */
export interface S3Location {
  bucket: string;
  /** Empty, or ends with '/'. */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PARAMS = ['endpoint', 'region', 'force_path_style'];

/** Parses an s3:// URL; `what` names it in errors ("shard", "--model-repository"). */
export function parseS3Location(raw: string, what: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  const text = raw.trim();
  const fail = (why: string): never => {
    throw new Error(`${what} ${JSON.stringify(text)}: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL; expected s3://bucket[/prefix][?endpoint=…&region=…&force_path_style=true]');
  }
  if (url.protocol !== 's3:') fail('expected s3://bucket[/prefix]');
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) fail(`${JSON.stringify(bucket)} is not a valid bucket name`);
  let prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  for (const k of url.searchParams.keys()) {
    if (!PARAMS.includes(k)) fail(`unknown parameter ${JSON.stringify(k)}; known: ${PARAMS.join(', ')}`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) fail(`endpoint ${JSON.stringify(endpoint)} must be an http(s) URL`);
  const fps = url.searchParams.get('force_path_style');
  if (fps !== null && fps !== 'true' && fps !== 'false') fail('force_path_style must be true or false');
  return {
    bucket,
    prefix,
    endpoint,
    region: url.searchParams.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // S3-compatible servers (s3rver, MinIO) usually need path-style addressing.
    forcePathStyle: fps === null ? endpoint !== undefined : fps === 'true',
  };
}

export function formatS3Location(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.prefix}`;
}

/**
 * Shard storage: an S3 bucket (any S3-compatible endpoint) or a local directory. Writes are
 * idempotent puts of whole objects under keys derived from the record, so a replay overwrites
 * an object with the same bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ShardSpec } from './shard-spec';
import { s3Client } from '../s3-client';

const fsyncFd = promisify(fs.fsync);

export interface Shard {
  readonly id: string;
  put(key: string, body: Buffer): Promise<void>;
  /** Makes every completed put durable (directory entries of a local shard); S3 puts already are. */
  sync(): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
  close(): void;
}

export class FileShard implements Shard {
  readonly id: string;
  private readonly dirty = new Set<string>();

  constructor(readonly dir: string, id = `file://${dir}`) {
    this.id = id;
  }

  private pathOf(key: string): string {
    const p = path.join(this.dir, ...key.split('/'));
    if (!p.startsWith(this.dir + path.sep)) throw new Error(`object key ${JSON.stringify(key)} escapes the shard directory`);
    return p;
  }

  /** Write to a temporary name, fsync, rename: readers never see half an object. */
  async put(key: string, body: Buffer): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
    this.dirty.add(dir);
  }

  async sync(): Promise<void> {
    const dirs = [...this.dirty];
    this.dirty.clear();
    for (const dir of dirs) {
      const fd = fs.openSync(dir, 'r');
      try {
        await fsyncFd(fd);
      } catch {
        /* not supported here */
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.promises.readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(path.join(this.dir, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix.replace(/\/$/, '')) || `${key}/`.startsWith(prefix)) await walk(key);
        } else if (!e.name.endsWith('.tmp') && key.startsWith(prefix)) out.push(key);
      }
    };
    await walk('');
    return out.sort();
  }

  close(): void {}
}

export interface S3ShardOptions {
  /** Milliseconds to establish a connection / to get a response; a dead endpoint must fail fast so the record is journaled. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export class S3Shard implements Shard {
  readonly id: string;
  private readonly client: S3Client;

  constructor(private readonly spec: Extract<ShardSpec, { kind: 's3' }>, options: S3ShardOptions = {}) {
    this.id = spec.id;
    // Retries are the journal's job (with backoff, across restarts); the SDK must fail fast.
    this.client = s3Client(spec, { maxAttempts: 1, connectTimeoutMs: options.connectTimeoutMs ?? 2000, requestTimeoutMs: options.requestTimeoutMs ?? 10_000 });
  }

  private key(key: string): string {
    return this.spec.prefix + key;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key), Body: body, ContentType: 'application/json' }));
  }

  async sync(): Promise<void> {}

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.spec.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  close(): void {
    this.client.destroy();
  }
}

export function openShard(spec: ShardSpec, options?: S3ShardOptions): Shard {
  return spec.kind === 'file' ? new FileShard(spec.dir, spec.id) : new S3Shard(spec, options);
}

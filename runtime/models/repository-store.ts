/**
 * Where a model repository lives: a local directory, or an S3 location
 * (`s3://bucket/prefix[?endpoint=…]`, any S3-compatible store). Both hold the same layout:
 *   <model>/config.json            optional, Triton's model configuration as JSON
 *   <model>/release.json           optional, the release manifest (release-manifest.ts)
 *   <model>/<version>/model.onnx   (and any other files of the version)
 *   <model>/<version>/manifest.json  SHA-256 of every file, written last (version-manifest.ts)
 * A local directory is served as it is (manifests optional); an S3 repository is mirrored into a
 * local cache (repository-cache.ts) and only versions with a manifest exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client, s3Sdk } from '../s3-client';
import { formatS3Location, S3Location } from '../s3-location';
import type { RepositoryLocation } from './repository-location';

export interface StoredObject {
  key: string;
  /** Changes whenever the object's content does (S3 ETag, or size + mtime on disk). */
  tag: string;
  bytes: number;
}

/** The object operations the repository cache and `onnx-fleet models` need, on keys relative to the repository root. */
export interface RepositoryStore {
  readonly location: string;
  list(prefix?: string): Promise<StoredObject[]>;
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, body: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  close(): void;
}

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

export class S3Store implements RepositoryStore {
  readonly location: string;
  private readonly client: S3Client;

  constructor(private readonly loc: S3Location) {
    this.location = formatS3Location(loc);
    this.client = s3Client(loc, { maxAttempts: 3 });
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new (s3Sdk().ListObjectsV2Command)({ Bucket: this.loc.bucket, Prefix: this.loc.prefix + prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.loc.prefix.length), tag: o.ETag ?? '', bytes: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: this.loc.bucket, Key: this.loc.prefix + key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new (s3Sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key: this.loc.prefix + key, Body: body }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new (s3Sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: this.loc.prefix + key }));
  }

  close(): void {
    this.client.destroy();
  }
}

/** A local repository directory; writes go to a temporary name and are renamed into place. */
export class DirStore implements RepositoryStore {
  constructor(readonly location: string) {}

  private pathOf(key: string): string {
    const p = path.join(this.location, ...key.split('/'));
    if (!p.startsWith(this.location + path.sep)) throw new Error(`key ${JSON.stringify(key)} escapes the repository directory`);
    return p;
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = (rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(this.location, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(key);
        else if (e.isFile() && key.startsWith(prefix)) {
          const st = fs.statSync(path.join(this.location, key));
          out.push({ key, tag: `${st.size}:${st.mtimeMs}`, bytes: st.size });
        }
      }
    };
    walk('');
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return fs.readFileSync(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const file = this.pathOf(key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, file);
  }

  async delete(key: string): Promise<void> {
    fs.rmSync(this.pathOf(key), { force: true });
  }

  close(): void {}
}

export function openStore(loc: RepositoryLocation): RepositoryStore {
  return loc.kind === 'dir' ? new DirStore(loc.dir) : new S3Store(loc);
}

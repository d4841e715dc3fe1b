/**
 * S3-compatible shards for tests: s3rver instances, each in its own child process on a loopback
 * port with its own directory, so a test can kill one (an outage) and start it again on the same
 * port and data.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './postgres';

const ROOT = path.resolve(__dirname, '..', '..');

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const S3RVER_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

const CHILD = `
const S3rver = require('s3rver');
const [port, directory, bucket] = process.argv.slice(1);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, configureBuckets: [{ name: bucket }] });
server.run().then(() => process.stdout.write('ready\\n'), (err) => { console.error(err); process.exit(1); });
`;

export class S3Shard {
  private proc?: ChildProcess;

  constructor(
    readonly bucket: string,
    readonly port: number,
    readonly directory: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The --capture-shards entry for this shard. */
  get spec(): string {
    return `s3://${this.bucket}?endpoint=${this.endpoint}&region=us-east-1&force_path_style=true`;
  }

  /** Ring id the runtime gives this shard. */
  get id(): string {
    return `s3://${this.bucket}/`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn(process.execPath, ['-e', CHILD, String(this.port), this.directory, this.bucket], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      proc.once('exit', (code) => reject(new Error(`s3rver ${this.bucket} exited with ${code}: ${stderr}`)));
    });
  }

  /** SIGKILL: connections are refused until start() (same port, same data). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  client(): S3Client {
    return new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  }

  async listKeys(prefix = ''): Promise<string[]> {
    const client = this.client();
    try {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) keys.push(o.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    } finally {
      client.destroy();
    }
  }

  /** Reads objects with bounded concurrency. */
  async getAll(keys: string[], concurrency = 16): Promise<Map<string, Buffer>> {
    const client = this.client();
    const out = new Map<string, Buffer>();
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < keys.length) {
            const key = keys[next++];
            const r = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
            out.set(key, Buffer.from(await r.Body!.transformToByteArray()));
          }
        }),
      );
      return out;
    } finally {
      client.destroy();
    }
  }
}

export async function startS3Shards(n: number): Promise<{ shards: S3Shard[]; base: string; stop(): Promise<void> }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-s3-'));
  const shards: S3Shard[] = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(base, `shard-${i}`);
    fs.mkdirSync(dir);
    shards.push(new S3Shard(`shard-${i}`, await freePort(), dir));
  }
  await Promise.all(shards.map((s) => s.start()));
  return {
    shards,
    base,
    async stop() {
      await Promise.all(shards.map((s) => s.stop()));
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * The model store of the release tests: one s3rver bucket, `models`, in a fresh temporary
 * directory (`tmp`, which the test may use for its other files too), with the s3rver credentials
 * put in process.env, where the runtime and `onnx-fleet models` read them. stop() stops the
 * server, removes `tmp` and restores process.env as it was.
 */
export async function startModelStore(tag: string): Promise<{ s3: S3Shard; tmp: string; stop(): Promise<void> }> {
  const savedEnv = { ...process.env };
  Object.assign(process.env, S3RVER_ENV);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-fleet-${tag}-`));
  fs.mkdirSync(path.join(tmp, 's3'));
  const s3 = new S3Shard('models', await freePort(), path.join(tmp, 's3'));
  await s3.start();
  return {
    s3,
    tmp,
    async stop() {
      await s3.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
      process.env = savedEnv;
    },
  };
}

/**
 * The artifact bucket and what instances install from it: the runtime bundle and the model
 * repository, each under a content-hashed key, so a new bundle or model set is a new key, a new
 * launch template version and therefore a rolling instance refresh.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createTarGz, TarEntry } from '../../packaging/tar';
import { AccessLogTarget, SecureBucket } from './secure-bucket';

export interface ArtifactsArgs {
  kmsKeyArn: pulumi.Input<string>;
  /** Path of the runtime bundle (`npm run bundle`). */
  bundleFile: string;
  /** Directory of the model repository to ship. */
  modelRepository: string;
  /** Server access logging of the artifact bucket (absent = none). */
  accessLogs?: AccessLogTarget;
  tags?: Record<string, string>;
}

export interface ArtifactRef {
  key: string;
  sha256: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The model repository as a deterministic tar.gz (same files, same bytes). */
export function packModelRepository(dir: string): Buffer {
  const entries: TarEntry[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const a = path.join(abs, d.name);
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(a, r);
      else if (d.isFile()) entries.push({ path: r, data: fs.readFileSync(a), executable: false });
    }
  };
  walk(dir, '');
  if (entries.length === 0) throw new Error(`model repository ${dir} is empty`);
  return createTarGz(entries);
}

export class Artifacts extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly bundle: ArtifactRef;
  readonly models: ArtifactRef;

  constructor(name: string, args: ArtifactsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Artifacts', name, {}, opts);
    if (!fs.existsSync(args.bundleFile)) {
      throw new Error(`runtime bundle ${args.bundleFile} not found: build it with \`npm run bundle\` (or set onnx-fleet:runtimeBundle)`);
    }
    if (!fs.existsSync(args.modelRepository)) throw new Error(`model repository ${args.modelRepository} not found (set onnx-fleet:modelRepository)`);
    this.bucket = new SecureBucket(`${name}`, { kmsKeyArn: args.kmsKeyArn, noncurrentDays: 90, accessLogs: args.accessLogs, tags: args.tags }, { parent: this }).bucket;

    const bundleBytes = fs.readFileSync(args.bundleFile);
    this.bundle = { key: `runtime/${sha256(bundleBytes)}/${path.basename(args.bundleFile)}`, sha256: sha256(bundleBytes) };
    const modelBytes = packModelRepository(args.modelRepository);
    this.models = { key: `models/${sha256(modelBytes)}/models.tar.gz`, sha256: sha256(modelBytes) };

    new aws.s3.BucketObjectv2(`${name}-bundle`, { bucket: this.bucket.bucket, key: this.bundle.key, source: new pulumi.asset.FileAsset(args.bundleFile), contentType: 'application/gzip', checksumAlgorithm: 'SHA256' }, { parent: this });
    // The packed repository is written next to the bundle so Pulumi uploads it as a file.
    const modelsFile = path.join(path.dirname(args.bundleFile), `models-${this.models.sha256}.tar.gz`);
    if (!fs.existsSync(modelsFile)) fs.writeFileSync(modelsFile, modelBytes);
    new aws.s3.BucketObjectv2(`${name}-models`, { bucket: this.bucket.bucket, key: this.models.key, source: new pulumi.asset.FileAsset(modelsFile), contentType: 'application/gzip', checksumAlgorithm: 'SHA256' }, { parent: this });
    this.registerOutputs({ bucket: this.bucket.bucket, bundleKey: this.bundle.key, modelsKey: this.models.key });
  }
}

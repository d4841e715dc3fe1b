/**
 * The artifact bucket and what instances install from it: the runtime bundle, under a
 * content-hashed key, so a new bundle is a new key, a new launch template version and therefore a
 * rolling instance refresh (a fleet release). Models are not artifacts: they live in the model
 * store (model-store.ts), which runtimes poll, so a model release replaces no instance.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { AccessLogTarget, SecureBucket } from './secure-bucket';

export interface ArtifactsArgs {
  kmsKeyArn: pulumi.Input<string>;
  /** Path of the runtime bundle (`npm run bundle`). */
  bundleFile: string;
  /** Server access logging of the artifact bucket (absent = none). */
  accessLogs?: AccessLogTarget;
  tags?: Record<string, string>;
}

export interface ArtifactRef {
  key: string;
  sha256: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export class Artifacts extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly bundle: ArtifactRef;

  constructor(name: string, args: ArtifactsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Artifacts', name, {}, opts);
    if (!fs.existsSync(args.bundleFile)) {
      throw new Error(`runtime bundle ${args.bundleFile} not found: build it with \`npm run bundle\` (or set onnx-fleet:runtimeBundle)`);
    }
    this.bucket = new SecureBucket(`${name}`, { kmsKeyArn: args.kmsKeyArn, noncurrentDays: 90, accessLogs: args.accessLogs, tags: args.tags }, { parent: this }).bucket;

    const bundleBytes = fs.readFileSync(args.bundleFile);
    this.bundle = { key: `runtime/${sha256(bundleBytes)}/${path.basename(args.bundleFile)}`, sha256: sha256(bundleBytes) };

    new aws.s3.BucketObjectv2(`${name}-bundle`, { bucket: this.bucket.bucket, key: this.bundle.key, source: new pulumi.asset.FileAsset(args.bundleFile), contentType: 'application/gzip', checksumAlgorithm: 'SHA256' }, { parent: this });
    this.registerOutputs({ bucket: this.bucket.bucket, bundleKey: this.bundle.key });
  }
}

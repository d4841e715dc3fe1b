/**
 * The model store: the S3 location every runtime polls for model releases (the layout of a local
 * model repository, a version's manifest written last: runtime/models/). Either a bucket the stack
 * creates — versioned, SSE-KMS with the stack key, public access blocked, TLS only, noncurrent
 * versions (an overwritten release.json) expiring like the other buckets' — or an existing
 * `s3://bucket/prefix` the stack only points at. Pulumi owns the bucket, never the releases in it:
 * nothing here writes, replaces or deletes an object but the initial release (ModelStoreSeed:
 * the local repository's models the store has never held, published once).
 */
import * as pulumi from '@pulumi/pulumi';
import { parseS3Location } from '../../runtime/s3-location';
import { CREATED_MODEL_STORE_PREFIX } from '../config/stack-schema';
import { ModelStoreSeed } from './model-store-seed';
import { AccessLogTarget, SecureBucket } from './secure-bucket';

export interface ModelStoreArgs {
  /** The stack's region: the runtime's S3 client and the instance role's kms:ViaService use it. */
  region: string;
  /** Key of a created store (the stack key). */
  kmsKeyArn: pulumi.Input<string>;
  /** An existing store instead of a created one: `s3://bucket[/prefix]` and the KMS key its objects use, if any. */
  existing?: { location: string; kmsKeyArn?: string };
  /** Days an overwritten object is kept as a noncurrent version (created store). */
  noncurrentDays?: number;
  /** Local model repository (absolute path) published as the initial release; absent: none. */
  initialRelease?: string;
  accessLogs?: AccessLogTarget;
  tags?: Record<string, string>;
}

export const MODEL_STORE_DEFAULTS = { noncurrentDays: 90 };

export class ModelStore extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** Key prefix of the store inside its bucket: empty, or ends with '/'. */
  readonly prefix: string;
  /** A KMS key other than the stack key that instances must decrypt with (an existing SSE-KMS store). */
  readonly foreignKmsKeyArn?: string;
  /** What `--model-repository` is on instances: `s3://bucket/prefix?region=…`. */
  readonly location: pulumi.Output<string>;
  /** True when the stack created the bucket (and may delete it with the stack). */
  readonly created: boolean;
  /** The initial release step: instances should launch after it (their first boot reads the store). */
  readonly seed?: ModelStoreSeed;

  constructor(name: string, args: ModelStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:ModelStore', name, {}, opts);
    let bucket: SecureBucket | undefined;
    if (args.existing) {
      const loc = parseS3Location(args.existing.location, 'model store', {});
      if (loc.endpoint !== undefined) throw new Error(`ModelStore ${name}: ${args.existing.location}: the AWS target reads an AWS S3 bucket (no ?endpoint=)`);
      this.created = false;
      this.bucketName = pulumi.output(loc.bucket);
      this.bucketArn = pulumi.output(`arn:aws:s3:::${loc.bucket}`);
      this.prefix = loc.prefix;
      this.foreignKmsKeyArn = args.existing.kmsKeyArn;
    } else {
      bucket = new SecureBucket(name, { kmsKeyArn: args.kmsKeyArn, noncurrentDays: args.noncurrentDays ?? MODEL_STORE_DEFAULTS.noncurrentDays, accessLogs: args.accessLogs, tags: args.tags }, { parent: this });
      this.created = true;
      this.bucketName = bucket.bucket.bucket;
      this.bucketArn = bucket.bucket.arn;
      this.prefix = CREATED_MODEL_STORE_PREFIX;
    }
    this.location = pulumi.interpolate`s3://${this.bucketName}/${this.prefix}?region=${args.region}`;
    // Objects are written only once the bucket's encryption, policy and versioning are in place.
    if (args.initialRelease) this.seed = new ModelStoreSeed(`${name}-initial-release`, { location: this.location, repository: args.initialRelease, after: bucket ? [bucket] : [] }, { parent: this });
    this.registerOutputs({ bucket: this.bucketName, prefix: this.prefix, location: this.location });
  }
}

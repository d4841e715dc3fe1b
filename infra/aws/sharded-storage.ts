/**
 * Capture storage sharded over N buckets. The runtime picks a shard by consistent hashing of the
 * record key, so the order of the shard list is part of the contract: it is exported as is.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { AccessLogTarget, SecureBucket } from './secure-bucket';

export interface ShardedStorageArgs {
  shards: number;
  kmsKeyArn: pulumi.Input<string>;
  /** Captured records move to infrequent access after this many days. Default 30. */
  infrequentAccessDays?: number;
  /** Captured records expire after this many days. Default 365. */
  retentionDays?: number;
  /** Server access logging of every shard bucket (absent = none). */
  accessLogs?: AccessLogTarget;
  tags?: Record<string, string>;
}

export const SHARDED_STORAGE_DEFAULTS = { infrequentAccessDays: 30, retentionDays: 365 };

export class ShardedStorage extends pulumi.ComponentResource {
  readonly buckets: aws.s3.Bucket[];
  /** Bucket names in shard order. */
  readonly shardNames: pulumi.Output<string[]>;
  readonly shardArns: pulumi.Output<string>[];

  constructor(name: string, args: ShardedStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:ShardedStorage', name, {}, opts);
    if (!Number.isInteger(args.shards) || args.shards < 1) throw new Error(`ShardedStorage ${name}: shards must be a positive integer, got ${args.shards}`);
    this.buckets = Array.from({ length: args.shards }, (_, i) =>
      new SecureBucket(`${name}-${i}`, {
        kmsKeyArn: args.kmsKeyArn,
        infrequentAccessDays: args.infrequentAccessDays ?? SHARDED_STORAGE_DEFAULTS.infrequentAccessDays,
        expireDays: args.retentionDays ?? SHARDED_STORAGE_DEFAULTS.retentionDays,
        accessLogs: args.accessLogs,
        tags: { ...(args.tags ?? {}), 'onnx-fleet:shard': String(i) },
      }, { parent: this }).bucket,
    );
    this.shardNames = pulumi.all(this.buckets.map((b) => b.bucket));
    this.shardArns = this.buckets.map((b) => b.arn);
    this.registerOutputs({ shardNames: this.shardNames });
  }
}

/**
 * What a runtime instance may do, and nothing more: read the artifact bucket, read (and list) the
 * model store's prefix only and write its load markers (release gating), with its own KMS key
 * through S3 when it has one, write (and list)
 * the capture shard buckets, read the Aurora cluster's master secret, use the stack's key only
 * through S3 (for the buckets) and through Secrets Manager for that one secret (the encryption
 * context Secrets Manager passes names the secret), and, in its own stack's Auto Scaling groups,
 * complete its launch lifecycle action and mark itself unhealthy; publish the saturation signal,
 * in its namespace only. Plus SSM Session Manager.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { SATURATION_METRIC } from '../../runtime/contract';

export interface InstanceRoleArgs {
  artifactBucketArn: pulumi.Input<string>;
  shardBucketArns: pulumi.Input<string>[];
  /** The cluster's managed master secret (`masterUserSecrets[0].secretArn` of the Aurora cluster). */
  databaseSecretArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  /** The model store every runtime polls: its bucket, the prefix it may read, and its own KMS key (an existing SSE-KMS store). */
  modelStore: { bucketArn: pulumi.Input<string>; prefix: string; kmsKeyArn?: string };
  /** Region of the stack: kms:ViaService names the regional S3 and Secrets Manager endpoints. */
  region: string;
  /** Value of the `onnx-fleet:stack` tag on the stack's Auto Scaling groups. */
  stackTag: string;
  tags?: Record<string, string>;
}

export const STACK_TAG_KEY = 'onnx-fleet:stack';

/**
 * Read access to exactly the store's prefix. GetObject is an object action (resource
 * `bucket/prefix*`); ListBucket is a bucket action (resource the bucket) whose listing is limited
 * to the prefix by the `s3:prefix` condition key (AWS rule s3-list-bucket-prefix-condition). An
 * existing store with its own key: kms:Decrypt (and GenerateDataKey, for the markers) through S3
 * only. The one write: release gating's load markers under `<prefix><model>/loaded/` (runtime/models/load-markers.ts).
 */
export function modelStoreStatements(bucketArn: string, prefix: string, kmsKeyArn: string | undefined, region: string): Record<string, unknown>[] {
  return [
    { Sid: 'ReadModelStore', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucketArn}/${prefix}*`] },
    {
      Sid: 'ListModelStore',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucketArn],
      ...(prefix ? { Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}),
    },
    // "This version loaded here without error": what new instances may start from.
    { Sid: 'RecordModelLoads', Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`${bucketArn}/${prefix}*/loaded/*`] },
    ...(kmsKeyArn
      ? [{ Sid: 'UseModelStoreKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [kmsKeyArn], Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } } }]
      : []),
  ];
}

export class InstanceRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly profile: aws.iam.InstanceProfile;
  readonly policy: aws.iam.RolePolicy;

  constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:InstanceRole', name, {}, opts);
    const parent = { parent: this };
    this.role = new aws.iam.Role(
      name,
      {
        assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        tags: args.tags,
      },
      parent,
    );
    const document = pulumi.all([args.artifactBucketArn, pulumi.all(args.shardBucketArns), args.databaseSecretArn, args.kmsKeyArn, args.modelStore.bucketArn]).apply(([artifacts, shards, secret, key, store]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'ReadArtifacts', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${artifacts}/*`] },
          ...modelStoreStatements(store, args.modelStore.prefix, args.modelStore.kmsKeyArn, args.region),
          { Sid: 'WriteCaptureShards', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: shards.map((s) => `${s}/*`) },
          { Sid: 'ListCaptureShards', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: shards },
          { Sid: 'ReadDatabaseSecret', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [secret] },
          {
            Sid: 'UseStackKeyThroughS3',
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: [key],
            Condition: { StringEquals: { 'kms:ViaService': `s3.${args.region}.amazonaws.com` } },
          },
          {
            // Secrets Manager decrypts the secret with the stack key on the caller's behalf, passing SecretARN as encryption context.
            Sid: 'DecryptDatabaseSecret',
            Effect: 'Allow',
            Action: ['kms:Decrypt'],
            Resource: [key],
            Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${args.region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': secret } },
          },
          {
            // Scoped by the stack tag, not the group ARN: creating the group waits for its first
            // instances to pass the launch hook, so the permission must exist before the group does.
            Sid: 'ReportOwnHealth',
            Effect: 'Allow',
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:SetInstanceHealth'],
            Resource: ['*'],
            Condition: { StringEquals: { [`autoscaling:ResourceTag/${STACK_TAG_KEY}`]: args.stackTag } },
          },
          {
            // PutMetricData has no resource-level permissions; the namespace condition key is its scope
            // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
            Sid: 'PublishSaturationSignal',
            Effect: 'Allow',
            Action: ['cloudwatch:PutMetricData'],
            Resource: ['*'],
            Condition: { StringEquals: { 'cloudwatch:namespace': SATURATION_METRIC.namespace } },
          },
        ],
      }),
    );
    this.policy = new aws.iam.RolePolicy(name, { role: this.role.id, policy: document }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: this.role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }, parent);
    this.profile = new aws.iam.InstanceProfile(name, { role: this.role.name, tags: args.tags }, parent);
    this.registerOutputs({ roleArn: this.role.arn, profileArn: this.profile.arn });
  }
}

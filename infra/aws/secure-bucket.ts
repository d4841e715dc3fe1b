/**
 * An S3 bucket with the hardening every onnx-fleet bucket shares: owner-enforced objects, all
 * public access blocked, versioning, default encryption (SSE-KMS with the stack's key, or SSE-S3
 * where AWS requires it, e.g. ALB access logs), a TLS-only bucket policy, lifecycle rules and,
 * given a log sink, S3 server access logging.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface SecureBucketArgs {
  /** KMS key for SSE-KMS; absent = SSE-S3 (AES256). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Expire current objects after this many days (absent = keep). */
  expireDays?: number;
  /** Delete noncurrent versions after this many days. Default 30. */
  noncurrentDays?: number;
  /** Move objects to infrequent access after this many days (absent = never). */
  infrequentAccessDays?: number;
  /** Extra statements for the bucket policy (e.g. ELB log delivery). */
  extraStatements?: (bucketArn: pulumi.Output<string>) => aws.iam.PolicyStatement[];
  forceDestroy?: boolean;
  /** Where S3 server access logs of this bucket go (the stack's log sink); absent = not logged. */
  accessLogs?: AccessLogTarget;
  tags?: Record<string, string>;
}

/** A log sink bucket and the key prefix under which a bucket's server access logs land. */
export interface AccessLogTarget {
  bucket: pulumi.Input<string>;
  /** Prefix for this bucket's logs; the bucket's logical name is appended. */
  prefix: string;
}

export class SecureBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:SecureBucket', name, {}, opts);
    const parent = { parent: this };
    this.bucket = new aws.s3.Bucket(name, { forceDestroy: args.forceDestroy ?? false, tags: args.tags }, parent);
    const bucketName = this.bucket.bucket;
    new aws.s3.BucketOwnershipControls(name, { bucket: bucketName, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const pab = new aws.s3.BucketPublicAccessBlock(name, { bucket: bucketName, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, parent);
    new aws.s3.BucketVersioning(name, { bucket: bucketName, versioningConfiguration: { status: 'Enabled' } }, parent);
    if (args.accessLogs) new aws.s3.BucketLogging(name, { bucket: bucketName, targetBucket: args.accessLogs.bucket, targetPrefix: `${args.accessLogs.prefix}${name}/` }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      {
        bucket: bucketName,
        rules: [
          args.kmsKeyArn
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
        ],
      },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucketName,
        rules: [
          {
            id: 'housekeeping',
            status: 'Enabled',
            filter: { prefix: '' },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays ?? 30 },
            ...(args.expireDays ? { expiration: { days: args.expireDays } } : {}),
            ...(args.infrequentAccessDays ? { transitions: [{ days: args.infrequentAccessDays, storageClass: 'STANDARD_IA' }] } : {}),
          },
        ],
      },
      parent,
    );
    const statements = (arn: pulumi.Output<string>): aws.iam.PolicyStatement[] => [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [arn, pulumi.interpolate`${arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      ...(args.extraStatements?.(arn) ?? []),
    ];
    new aws.s3.BucketPolicy(name, { bucket: bucketName, policy: pulumi.output(statements(this.bucket.arn)).apply((s) => JSON.stringify({ Version: '2012-10-17', Statement: s })) }, { parent: this, dependsOn: [pab] });
    this.registerOutputs({ bucket: bucketName, arn: this.bucket.arn });
  }
}

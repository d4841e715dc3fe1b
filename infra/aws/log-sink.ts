/**
 * The stack's log sink (staging and prod): one bucket for the ALB's access logs (`alb/`) and every
 * other bucket's S3 server access logs (`s3/<bucket>/`). Both deliveries require SSE-S3, so the
 * sink is the one bucket not encrypted with the stack's key, and it is not logged itself.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { accessLogStatements } from './load-balancer';
import { AccessLogTarget, SecureBucket } from './secure-bucket';

export interface LogSinkArgs {
  region: string;
  /** Days logs are kept. Default 90. */
  retentionDays?: number;
  tags?: Record<string, string>;
}

export class LogSink extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  /** Where a bucket's server access logs go. */
  readonly serverAccessLogs: AccessLogTarget;

  constructor(name: string, args: LogSinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:LogSink', name, {}, opts);
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    // S3 log delivery writes with a bucket policy (object ownership is enforced, so no ACL grants).
    const statements = (arn: pulumi.Output<string>): aws.iam.PolicyStatement[] => [
      ...accessLogStatements(args.region)(arn),
      { Sid: 'S3ServerAccessLogs', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: pulumi.interpolate`${arn}/s3/*`, Condition: { StringEquals: { 'aws:SourceAccount': account } } },
    ];
    this.bucket = new SecureBucket(name, { expireDays: args.retentionDays ?? 90, extraStatements: statements, tags: args.tags }, { parent: this }).bucket;
    this.serverAccessLogs = { bucket: this.bucket.bucket, prefix: 's3/' };
    this.registerOutputs({ bucket: this.bucket.bucket });
  }
}

/**
 * The key policy of the stack's data key. The account administers the key through IAM (KMS's
 * default statement, which also keeps the key manageable: KMS refuses a policy that would lock
 * the account out), and CloudWatch alarms may use it: the alarm topic is encrypted with this key,
 * and without kms:Decrypt / kms:GenerateDataKey* for cloudwatch.amazonaws.com every alarm
 * action fails ("CloudWatch Alarms does not have authorization to access the SNS topic
 * encryption key"; https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export function dataKeyPolicy(opts: pulumi.InvokeOptions): pulumi.Output<string> {
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  const partition = aws.getPartitionOutput({}, opts).partition;
  return pulumi.all([account, partition]).apply(([id, p]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: `arn:${p}:iam::${id}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'CloudWatchAlarmsPublish', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' },
      ],
    }),
  );
}

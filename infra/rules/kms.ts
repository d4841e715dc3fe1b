/** KMS keys: deletion window and key policies (the platform's one key encrypts S3, RDS, secrets and the alarm topic). */
import type { StackConfig } from '../config';
import { asList, byArn, describe, eachResource, inputsOf, num, policyDocument, statements } from './graph';
import type { AwsRule } from './types';

const KEY = 'aws:kms/key:Key';
const TOPIC = 'aws:sns/topic:Topic';
const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';
const allows = (s: any, action: string) => s.Effect === 'Allow' && asList(s.Action).some((a) => a === 'kms:*' || a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));

export const kmsRules: AwsRule[] = [
  {
    id: 'kms-deletion-window',
    resourceTypes: [KEY],
    resource: 'KMS key',
    setting: 'PendingWindowInDays',
    rule: 'A key scheduled for deletion waits 7 to 30 days.',
    sources: ['https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html'],
    keys: ['environment'],
    checkGraph: eachResource([KEY], (i) => {
      const d = num(i.deletionWindowInDays ?? 30)!;
      return Number.isInteger(d) && d >= 7 && d <= 30 ? undefined : `deletion window ${d} days, expected 7–30`;
    }),
    violation: { base: 'dev', patch: [{ type: KEY, set: { deletionWindowInDays: 5 } }] },
  },
  {
    id: 'kms-key-policy-lockout',
    resourceTypes: [KEY],
    resource: 'KMS key',
    setting: 'Policy',
    rule: "A key policy must let the account manage the key (PutKeyPolicy) or KMS refuses it (the policy lockout safety check).",
    sources: ['https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html', 'https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html'],
    keys: [],
    checkGraph: eachResource([KEY], (i) => {
      if (i.policy === undefined || i.bypassPolicyLockoutSafetyCheck) return undefined;
      const doc = policyDocument(i.policy);
      const root = statements(doc).some((s) => allows(s, 'kms:PutKeyPolicy') && asList(s.Principal?.AWS).some((p) => /^arn:aws[\w-]*:iam::\d{12}:root$/.test(p)));
      return root ? undefined : 'key policy does not let the account root manage the key';
    }),
    violation: { base: 'dev', patch: [{ type: KEY, set: { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Alarms', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }] }) } }] },
  },
  {
    id: 'kms-key-s3-same-region',
    resourceTypes: ['aws:iam/rolePolicy:RolePolicy'],
    resource: 'KMS key of an SSE-KMS bucket',
    setting: 'key ARN (region), kms:ViaService',
    rule: "An SSE-KMS bucket's key is in the bucket's Region; S3 calls KMS on a reader's behalf through s3.<region>.amazonaws.com, so the key the instances decrypt with is a key (not an alias) of the stack's Region.",
    sources: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html', 'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service', 'https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html'],
    keys: ['modelStore.kmsKeyArn', 'aws:region'],
    checkConfig: (c: StackConfig) => {
      const arn = c.modelStore.kmsKeyArn;
      const region = arn?.split(':')[3];
      return arn !== undefined && region !== c.region ? { key: 'modelStore.kmsKeyArn', message: `got ${JSON.stringify(arn)}, a key in ${region}, expected a key in the stack's region ${c.region} (where the model store bucket and its S3 endpoint are)` } : undefined;
    },
    violation: { base: 'prod-eu-west-1', config: { modelStore: { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/5b7e2c1a-9d4f-4e8b-a3c6-0f1d2e3b4a59' } } },
  },
  {
    id: 'kms-key-policy-cloudwatch-alarms',
    resourceTypes: [KEY, TOPIC, ALARM],
    resource: 'KMS key of an encrypted SNS topic',
    setting: 'Policy (cloudwatch.amazonaws.com)',
    rule: 'CloudWatch alarms can publish to an encrypted topic only if it uses a customer managed key whose policy lets cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*; with aws/sns or without that statement the alarm actions fail.',
    sources: ['https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html', 'https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns'],
    keys: ['alarmEmail'],
    checkGraph: (all) =>
      all
        .filter((t) => t.type === TOPIC && inputsOf(t).kmsMasterKeyId)
        .filter((t) => all.some((a) => a.type === ALARM && [...asList(inputsOf(a).alarmActions), ...asList(inputsOf(a).okActions)].includes(`arn:aws:mock:${t.name}`)))
        .flatMap((t) => {
          const keyRef = inputsOf(t).kmsMasterKeyId;
          const key = byArn(all, keyRef);
          if (!key) return [{ resource: describe(t), message: `alarm topic encrypted with ${keyRef}, not a customer managed key of the stack` }];
          const ok = statements(policyDocument(inputsOf(key).policy)).some(
            (s) => asList(s.Principal?.Service).includes('cloudwatch.amazonaws.com') && allows(s, 'kms:Decrypt') && allows(s, 'kms:GenerateDataKey'),
          );
          return ok ? [] : [{ resource: describe(key), message: `key of alarm topic ${t.name} does not let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*` }];
        }),
    violation: { base: 'staging', patch: [{ type: TOPIC, set: { kmsMasterKeyId: 'alias/aws/sns' } }] },
  },
];

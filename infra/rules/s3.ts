/** S3 buckets: names (the platform's buckets and the Kubernetes target's shard buckets) and lifecycle rules. */
import type { StackConfig } from '../config';
import { asList, autoName, eachResource, inputsOf, inRange, policyDocument, statements } from './graph';
import type { AwsRule } from './types';

const BUCKET = 'aws:s3/bucket:Bucket';
const LIFECYCLE = 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration';
const LOGGING = 'aws:s3/bucketLogging:BucketLogging';
const BUCKET_POLICY = 'aws:s3/bucketPolicy:BucketPolicy';
const OWNERSHIP = 'aws:s3/bucketOwnershipControls:BucketOwnershipControls';
const ROLE_POLICY = 'aws:iam/rolePolicy:RolePolicy';
/** S3 actions whose resource is the bucket (ListBucket) or an object (the rest used here). */
const BUCKET_ACTIONS = ['s3:ListBucket'];
const OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
const S3_ARN = /^arn:aws[\w-]*:s3:::([^/]+)(\/.*)?$/;
/** Does an IAM resource pattern (`*` and `?` wildcards) match `arn`? */
const matches = (pattern: string, arn: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(arn);

/** What is wrong with a general purpose bucket name, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `${name.length} characters, expected 3–63`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'expected lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit';
  if (name.includes('..')) return 'two adjacent periods';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'formatted as an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return 'a reserved prefix (xn--, sthree-, amzn-s3-demo-)';
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(name)) return 'a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3)';
  return undefined;
}


export const s3Rules: AwsRule[] = [
  {
    id: 's3-bucket-name',
    resourceTypes: [BUCKET],
    resource: 'S3 general purpose bucket',
    setting: 'Bucket (name)',
    rule: 'A bucket name is 3–63 characters of lowercase letters, digits, dots and hyphens, begins and ends with a letter or digit, has no "..", is not an IP address and uses no reserved prefix or suffix.',
    sources: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html'],
    keys: ['kubernetes.storage.bucketPrefix', 'shards'],
    checkConfig: (c: StackConfig) => {
      const prefix = c.kubernetes?.storage.bucketPrefix;
      if (prefix === undefined) return undefined;
      // The Kubernetes target names its shard buckets `<prefix>-<i>`.
      const problem = bucketNameProblem(`${prefix}-${c.shards - 1}`);
      return problem ? { key: 'kubernetes.storage.bucketPrefix', message: `got ${JSON.stringify(prefix)}, which makes bucket names such as ${JSON.stringify(`${prefix}-${c.shards - 1}`)}: ${problem}` } : undefined;
    },
    checkGraph: eachResource([BUCKET], (i, r) => {
      const { name, generated } = autoName(r, 'bucket');
      const problem = bucketNameProblem(name);
      return problem ? `${generated ? 'generated ' : ''}name ${name}: ${problem}` : undefined;
    }),
    violation: { base: 'prod-k8s', config: { kubernetes: { storage: { bucketPrefix: 'Onnx_Fleet_Capture', credentialsSecret: 'onnx-fleet-storage' } } } },
  },
  {
    id: 's3-lifecycle-standard-ia',
    resourceTypes: [LIFECYCLE],
    resource: 'S3 lifecycle rule',
    setting: 'Transition (STANDARD_IA), Expiration',
    rule: 'Objects move to S3 Standard-IA no earlier than 30 days after creation, and expire after their last transition.',
    sources: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html'],
    keys: [],
    checkGraph: eachResource([LIFECYCLE], (i) =>
      (i.rules ?? []).flatMap((rule: any) =>
        (rule.transitions ?? []).flatMap((t: any) => [
          ...(t.storageClass === 'STANDARD_IA' && !(t.days >= 30) ? [`rule ${rule.id}: STANDARD_IA after ${t.days} days, expected at least 30`] : []),
          ...(rule.expiration?.days !== undefined && !(rule.expiration.days > t.days) ? [`rule ${rule.id}: expires after ${rule.expiration.days} days, before its transition at ${t.days}`] : []),
        ]),
      ),
    ),
    violation: { base: 'dev', patch: [{ type: LIFECYCLE, name: 'onnx-fleet-shard-0', set: { 'rules.0.transitions.0.days': 7 } }] },
  },
  {
    id: 's3-lifecycle-days',
    resourceTypes: [LIFECYCLE],
    resource: 'S3 lifecycle rule',
    setting: 'Expiration.Days, NoncurrentVersionExpiration.NoncurrentDays, AbortIncompleteMultipartUpload.DaysAfterInitiation',
    rule: 'Lifecycle day counts are positive integers, and a rule has a filter (or prefix) and a status.',
    sources: ['https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html', 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html'],
    keys: [],
    checkGraph: eachResource([LIFECYCLE], (i) =>
      (i.rules ?? []).flatMap((rule: any) => {
        const days = { 'expiration.days': rule.expiration?.days, 'noncurrentVersionExpiration.noncurrentDays': rule.noncurrentVersionExpiration?.noncurrentDays, 'abortIncompleteMultipartUpload.daysAfterInitiation': rule.abortIncompleteMultipartUpload?.daysAfterInitiation };
        return [
          ...Object.entries(days).filter(([, v]) => v !== undefined && !inRange(v, 1)).map(([k, v]) => `rule ${rule.id}: ${k} ${v}, expected a positive integer`),
          ...(['Enabled', 'Disabled'].includes(rule.status) ? [] : [`rule ${rule.id}: status ${rule.status}`]),
          ...(rule.filter !== undefined || rule.prefix !== undefined ? [] : [`rule ${rule.id}: no filter`]),
        ];
      }),
    ),
    violation: { base: 'dev', patch: [{ type: LIFECYCLE, name: 'onnx-fleet-artifacts', set: { 'rules.0.noncurrentVersionExpiration.noncurrentDays': 0 } }] },
  },
  {
    id: 's3-list-bucket-prefix-condition',
    resourceTypes: [ROLE_POLICY],
    resource: 'IAM policy for S3',
    setting: 'Statement[].Resource, Condition s3:prefix',
    rule: 's3:ListBucket is a bucket action: its resource is the bucket ARN (never bucket/key), and a listing is limited to a prefix only by the s3:prefix condition key; GetObject and PutObject are object actions on bucket/key ARNs, where s3:prefix does not apply.',
    sources: ['https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html', 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html'],
    keys: ['modelStore.location'],
    checkGraph: eachResource([ROLE_POLICY], (i) =>
      statements(policyDocument(i.policy)).flatMap((st: any) => {
        const actions = asList(st.Action);
        const arns = asList(st.Resource).filter((r) => S3_ARN.test(r));
        const prefixed = JSON.stringify(st.Condition ?? {}).includes('"s3:prefix"');
        return [
          ...(actions.some((a) => BUCKET_ACTIONS.includes(a)) ? arns.filter((r) => S3_ARN.exec(r)![2] !== undefined).map((r) => `statement ${st.Sid ?? '?'}: s3:ListBucket on ${r}, expected the bucket ARN (limit the listing with s3:prefix)`) : []),
          ...(actions.some((a) => OBJECT_ACTIONS.includes(a)) ? arns.filter((r) => S3_ARN.exec(r)![2] === undefined).map((r) => `statement ${st.Sid ?? '?'}: ${actions.filter((a) => OBJECT_ACTIONS.includes(a)).join(', ')} on the bucket ${r}, expected object ARNs (bucket/key)`) : []),
          ...(prefixed && !actions.some((a) => BUCKET_ACTIONS.includes(a)) ? [`statement ${st.Sid ?? '?'}: an s3:prefix condition on ${actions.join(', ')}, which do not have that condition key`] : []),
        ];
      }),
    ),
    violation: {
      base: 'dev',
      patch: [{ type: ROLE_POLICY, set: { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'ListModelStore', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::onnx-fleet-models-bucket/models/*'] }] }) } }],
    },
  },
  {
    id: 's3-access-log-delivery',
    resourceTypes: [LOGGING, BUCKET_POLICY],
    resource: 'S3 server access logging',
    setting: 'TargetBucket, TargetPrefix, TargetGrants',
    rule: 'Log delivery to a target bucket whose object ownership is BucketOwnerEnforced is granted by its bucket policy (logging.s3.amazonaws.com, s3:PutObject on the target prefix), never by target grants.',
    sources: ['https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html', 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html'],
    keys: ['environment'],
    checkGraph: eachResource([LOGGING], (i, _r, all) => {
      const target = String(i.targetBucket);
      const enforced = all.some((o) => o.type === OWNERSHIP && inputsOf(o).bucket === target && inputsOf(o).rule?.objectOwnership === 'BucketOwnerEnforced');
      if (enforced && (i.targetGrants ?? []).length > 0) return `target grants on ${target}, whose objects the bucket owner owns`;
      const key = `arn:aws:s3:::${target}/${i.targetPrefix ?? ''}log-object`;
      const granted = all
        .filter((p) => p.type === BUCKET_POLICY && inputsOf(p).bucket === target)
        .flatMap((p) => statements(policyDocument(inputsOf(p).policy)))
        .some((st) => st.Effect === 'Allow' && asList(st.Principal?.Service).includes('logging.s3.amazonaws.com') && asList(st.Action).some((a) => a === 's3:PutObject' || a === 's3:*') && asList(st.Resource).some((res) => matches(res, key)));
      return granted ? undefined : `the policy of ${target} does not let logging.s3.amazonaws.com put objects under ${i.targetPrefix ?? ''}`;
    }),
    violation: { base: 'staging', patch: [{ type: LOGGING, name: 'onnx-fleet-artifacts', set: { targetPrefix: 'access-logs/onnx-fleet-artifacts/' } }] },
  },
];

/** IAM roles, instance profiles and their policies: names, sizes, statement ids. */
import { autoName, describe, eachResource, inputsOf, policyDocument, statements } from './graph';
import type { AwsRule } from './types';

const ROLE = 'aws:iam/role:Role';
const ROLE_POLICY = 'aws:iam/rolePolicy:RolePolicy';
const PROFILE = 'aws:iam/instanceProfile:InstanceProfile';
const QUOTAS = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html';
/** IAM counts policy size without white space. */
const size = (doc: unknown) => (typeof doc === 'string' ? doc : JSON.stringify(doc)).replace(/\s/g, '').length;

export const iamRules: AwsRule[] = [
  {
    id: 'iam-name-length',
    resourceTypes: [ROLE, PROFILE],
    resource: 'IAM role, instance profile',
    setting: 'RoleName, InstanceProfileName',
    rule: 'Role names have at most 64 characters and instance profile names at most 128, of letters, digits and +=,.@_- (Pulumi adds 8 characters to a logical name).',
    sources: [QUOTAS],
    keys: [],
    checkGraph: eachResource([ROLE, PROFILE], (_i, r) => {
      const { name } = autoName(r);
      const max = r.type === ROLE ? 64 : 128;
      return name.length <= max && /^[\w+=,.@-]+$/.test(name) ? undefined : `name ${name} (${name.length} characters), expected at most ${max} of letters, digits and +=,.@_-`;
    }),
    violation: { base: 'dev', patch: [{ type: ROLE, set: { name: `onnx-fleet-${'runtime-instance-'.repeat(4)}role` } }] },
  },
  {
    id: 'iam-role-policy-size',
    resourceTypes: [ROLE, ROLE_POLICY],
    resource: 'IAM role',
    setting: 'inline policies, AssumeRolePolicyDocument',
    rule: "A role's inline policies total at most 10,240 characters and its trust policy at most 2,048 (white space not counted).",
    sources: [QUOTAS],
    keys: ['shards'],
    checkGraph: (all) =>
      all
        .filter((r) => r.type === ROLE)
        .flatMap((role) => {
          const inline = all.filter((p) => p.type === ROLE_POLICY && inputsOf(p).role === `${role.name}-id`).reduce((n, p) => n + size(inputsOf(p).policy ?? ''), 0);
          const trust = size(inputsOf(role).assumeRolePolicy ?? '');
          return [
            ...(inline > 10240 ? [{ resource: describe(role), message: `inline policies total ${inline} characters, expected at most 10240` }] : []),
            ...(trust > 2048 ? [{ resource: describe(role), message: `trust policy is ${trust} characters, expected at most 2048` }] : []),
          ];
        }),
    violation: {
      base: 'dev',
      patch: [{ type: ROLE_POLICY, set: { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'ReadArtifacts', Effect: 'Allow', Action: ['s3:GetObject'], Resource: Array.from({ length: 300 }, (_, k) => `arn:aws:s3:::onnx-fleet-shard-${k}-bucket/*`) }] }) } }],
    },
  },
  {
    id: 'iam-policy-sid',
    resourceTypes: [ROLE, ROLE_POLICY],
    resource: 'IAM policy document',
    setting: 'Statement[].Sid',
    rule: 'An IAM policy statement id has only ASCII letters and digits and is unique within its policy.',
    sources: ['https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html'],
    keys: [],
    checkGraph: eachResource([ROLE, ROLE_POLICY], (i, r) => {
      const sids = statements(policyDocument(r.type === ROLE ? i.assumeRolePolicy : i.policy)).map((s) => s.Sid).filter((s) => s !== undefined);
      return [
        ...sids.filter((s) => !/^[A-Za-z0-9]+$/.test(String(s))).map((s) => `statement id ${JSON.stringify(s)}: expected letters and digits only`),
        ...sids.filter((s, k) => sids.indexOf(s) !== k).map((s) => `statement id ${s} used twice`),
      ];
    }),
    violation: { base: 'dev', patch: [{ type: ROLE_POLICY, set: { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Read-Artifacts', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::onnx-fleet-artifacts-bucket/*'] }] }) } }] },
  },
];

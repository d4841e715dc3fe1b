/** Tags on every AWS resource the platform declares. */
import { eachResource, inputsOf } from './graph';
import type { AwsRule } from './types';
import type { ResourceRecord } from '../testing/mock-run';

/** Tags as key → value, whether a resource takes a map or (Auto Scaling groups) a list of {key, value}. */
const tagsOf = (r: ResourceRecord): Record<string, unknown> | undefined => {
  const t = inputsOf(r).tags;
  if (Array.isArray(t)) return Object.fromEntries(t.map((x: any) => [x.key, x.value]));
  return t && typeof t === 'object' ? t : undefined;
};

export const tagRules: AwsRule[] = [
  {
    id: 'tags-restrictions',
    resourceTypes: ['aws:*'],
    resource: 'Every tagged AWS resource',
    setting: 'Tags',
    rule: 'A resource has at most 50 tags; keys are 1–128 characters and do not begin with aws:, values at most 256 characters.',
    sources: ['https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html', 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html'],
    keys: [],
    checkGraph: (all) =>
      eachResource(
        [...new Set(all.filter((r) => r.type.startsWith('aws:')).map((r) => r.type))],
        (_i, r) => {
          const tags = tagsOf(r);
          if (!tags) return undefined;
          const keys = Object.keys(tags);
          return [
            ...(keys.length > 50 ? [`${keys.length} tags, expected at most 50`] : []),
            ...keys.filter((k) => k.length < 1 || k.length > 128 || k.toLowerCase().startsWith('aws:')).map((k) => `tag key ${JSON.stringify(k)}`),
            ...keys.filter((k) => String(tags[k]).length > 256).map((k) => `tag ${k} value longer than 256 characters`),
          ];
        },
      )(all),
    violation: { base: 'dev', patch: [{ type: 'aws:ec2/vpc:Vpc', set: { 'tags.aws:owner': 'platform' } }] },
  },
];

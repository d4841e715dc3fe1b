/** SNS topics (the alarm topic). */
import { autoName, eachResource } from './graph';
import type { AwsRule } from './types';

const TOPIC = 'aws:sns/topic:Topic';

export const snsRules: AwsRule[] = [
  {
    id: 'sns-topic-name',
    resourceTypes: [TOPIC],
    resource: 'SNS topic',
    setting: 'Name',
    rule: 'A standard topic name is 1 to 256 letters, digits, hyphens and underscores (Pulumi adds 8 characters to a logical name).',
    sources: ['https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html'],
    keys: [],
    checkGraph: eachResource([TOPIC], (_i, r) => {
      const { name } = autoName(r);
      return /^[A-Za-z0-9_-]{1,256}$/.test(name) ? undefined : `topic name ${JSON.stringify(name)}`;
    }),
    violation: { base: 'dev', patch: [{ type: TOPIC, set: { name: 'onnx-fleet.alarms' } }] },
  },
];

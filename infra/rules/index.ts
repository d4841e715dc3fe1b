/**
 * The AWS rules suite: every AWS API constraint the platform relies on, one definition each
 * (see types.ts), registered here. RULES.md is generated from these definitions
 * (`npm run rules:table`); test/infra/rules.test.ts runs every rule over every stack's graph and
 * proves each rule's violating stack is caught.
 *
 * Adding rules: write (or extend) a file in this directory exporting an `AwsRule[]`, and add it
 * to RULE_FILES below. See README.md here.
 */
import type { StackConfig } from '../config';
import type { ResourceRecord } from '../testing/mock-run';
import { autoScalingRules } from './auto-scaling';
import { cloudWatchRules } from './cloudwatch';
import { iamRules } from './iam';
import { instanceRefreshRules } from './instance-refresh';
import { kmsRules } from './kms';
import { launchTemplateRules } from './launch-template';
import { loadBalancerRules } from './load-balancer';
import { networkRules } from './network';
import { rdsRules } from './rds';
import { s3Rules } from './s3';
import { snsRules } from './sns';
import { tagRules } from './tags';
import type { AwsRule } from './types';

/** One entry per rule file, in the order the table lists them. */
const RULE_FILES: AwsRule[][] = [loadBalancerRules, autoScalingRules, instanceRefreshRules, launchTemplateRules, networkRules, rdsRules, s3Rules, kmsRules, iamRules, cloudWatchRules, snsRules, tagRules];

export const RULES: AwsRule[] = RULE_FILES.flat();

export interface RuleFinding {
  rule: string;
  /** Stack key path (config-time) or `<type> <name>` (graph-time). */
  where: string;
  message: string;
}

/** What the stack graph breaks, rule by rule (empty: AWS accepts every constrained setting). */
export function graphFindings(resources: ResourceRecord[], rules: AwsRule[] = RULES): RuleFinding[] {
  return rules.flatMap((r) => (r.checkGraph?.(resources) ?? []).map((f) => ({ rule: r.id, where: f.resource, message: f.message })));
}

/** What the parsed stack config breaks, rule by rule; parseStackConfig throws on the first. */
export function configFindings(config: StackConfig, rules: AwsRule[] = RULES): RuleFinding[] {
  return rules.flatMap((r) => {
    const f = r.checkConfig?.(config);
    return f ? [{ rule: r.id, where: f.key, message: f.message }] : [];
  });
}

export type { AwsRule } from './types';

/**
 * Rules of the fleet release: the StartInstanceRefresh request the FleetRelease step declares
 * (desired configuration + preferences) and the launch template it releases. The checks are the
 * ones the step itself and the Auto Scaling simulation enforce (infra/aws/release/instance-refresh-rules.ts),
 * read here off the synthesized graph.
 */
import { AMI_ID_PATTERN } from '../aws/ami';
import { desiredTemplate, isSsmImage, preferenceViolations, rollbackViolations } from '../aws/release/instance-refresh-rules';
import { byId, eachResource, Inputs } from './graph';
import type { AwsRule } from './types';

const RELEASE = 'pulumi-nodejs:dynamic/fleet:Release';
const TEMPLATE = 'aws:ec2/launchTemplate:LaunchTemplate';
const GROUP = 'aws:autoscaling/group:Group';
const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';
const API = 'https://docs.aws.amazon.com/autoscaling/ec2/APIReference';
const ROLLBACK = 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html';
const PREFS = `${API}/API_RefreshPreferences.html`;

/** The preference violations of one kind (rule ids of instance-refresh-rules.ts). */
const preferences = (kinds: string[]) =>
  eachResource([RELEASE], (i) => preferenceViolations(i.preferences ?? {}).filter((v) => kinds.includes(v.rule)).map((v) => v.message));

/** The launch template a release names, found in the graph by its (mock) id. */
const releasedTemplate = (i: Inputs, all: Parameters<typeof byId>[0]) => byId(all.filter((r) => r.type === TEMPLATE), desiredTemplate(i.desiredConfiguration)?.LaunchTemplateId);

export const instanceRefreshRules: AwsRule[] = [
  {
    id: 'asg-refresh-rollback-desired-configuration',
    resourceTypes: [RELEASE],
    resource: 'Instance refresh',
    setting: 'AutoRollback, DesiredConfiguration',
    rule: 'AutoRollback needs a desired configuration naming the launch template (otherwise ValidationError, and nothing to roll back to).',
    sources: [ROLLBACK, 'https://github.com/hashicorp/terraform-provider-aws/issues/29830'],
    keys: [],
    checkGraph: eachResource([RELEASE], (i) => rollbackViolations(i.desiredConfiguration, i.preferences ?? {}).filter((v) => v.rule === 'auto-rollback-needs-desired-configuration').map((v) => v.message)),
    violation: { base: 'dev', patch: [{ type: RELEASE, set: { desiredConfiguration: {} } }] },
  },
  {
    id: 'asg-refresh-rollback-numbered-version',
    resourceTypes: [RELEASE, GROUP],
    resource: 'Instance refresh, Auto Scaling group',
    setting: 'DesiredConfiguration / LaunchTemplate Version',
    rule: 'A refresh can roll back only between specific numbered launch template versions: not $Latest or $Default, neither in the desired configuration nor on the group.',
    sources: [ROLLBACK, `${API}/API_LaunchTemplateSpecification.html`],
    keys: [],
    checkGraph: (all) => [
      ...eachResource([RELEASE], (i) => rollbackViolations(i.desiredConfiguration, i.preferences ?? {}).filter((v) => v.rule === 'rollback-numbered-version').map((v) => v.message))(all),
      ...eachResource([GROUP], (i) => {
        const v = String((i.launchTemplate ?? i.mixedInstancesPolicy?.launchTemplate?.launchTemplateSpecification)?.version ?? '$Default');
        return /^[1-9]\d*$/.test(v) ? undefined : `launch template version ${JSON.stringify(v)}, expected a specific numbered version`;
      })(all),
    ],
    violation: { base: 'dev', patch: [{ type: RELEASE, set: { 'desiredConfiguration.LaunchTemplate.Version': '$Latest' } }] },
  },
  {
    id: 'asg-refresh-rollback-no-ssm-image',
    resourceTypes: [RELEASE, TEMPLATE],
    resource: 'Launch template',
    setting: 'ImageId',
    rule: 'A refresh cannot roll back to a launch template whose ImageId is an AWS Systems Manager parameter (resolve:ssm:…).',
    sources: [ROLLBACK, `${API}/API_RollbackInstanceRefresh.html`],
    keys: ['amiId'],
    checkGraph: eachResource([RELEASE], (i, _r, all) => {
      const t = releasedTemplate(i, all);
      const image = t && (t.inputs as Inputs).imageId;
      return i.preferences?.AutoRollback && isSsmImage(image) ? `releases ${t!.name}, whose ImageId ${JSON.stringify(image)} is an SSM parameter; AWS cannot roll it back` : undefined;
    }),
    violation: { base: 'staging', patch: [{ type: TEMPLATE, name: 'onnx-fleet-fleet', set: { imageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' } }] },
  },
  {
    id: 'lt-image-id-format',
    resourceTypes: [TEMPLATE],
    resource: 'Launch template',
    setting: 'ImageId',
    rule: 'An AMI id is ami- followed by 8 or 17 lowercase hex digits (SSM parameters are the rollback rule\'s concern).',
    sources: ['https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html', 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RequestLaunchTemplateData.html'],
    keys: ['amiId'],
    checkGraph: eachResource([TEMPLATE], (i) => (isSsmImage(i.imageId) || AMI_ID_PATTERN.test(String(i.imageId)) ? undefined : `ImageId ${JSON.stringify(i.imageId)}, expected ami- followed by 8 or 17 lowercase hex digits`)),
    violation: { base: 'dev', patch: [{ type: TEMPLATE, set: { imageId: 'ami-12345' } }] },
  },
  {
    id: 'asg-refresh-checkpoints',
    resourceTypes: [RELEASE],
    resource: 'Instance refresh',
    setting: 'CheckpointPercentages, CheckpointDelay',
    rule: 'Checkpoint percentages are unique, ascending, 1–100 and end at 100; a checkpoint delay (0–172800 s) needs checkpoint percentages.',
    sources: [PREFS, 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html'],
    keys: [],
    checkGraph: preferences(['checkpoints-range', 'checkpoints-ascending', 'checkpoints-end-at-100', 'checkpoint-delay-needs-checkpoints', 'checkpoint-delay-range']),
    violation: { base: 'dev', patch: [{ type: RELEASE, set: { 'preferences.CheckpointPercentages': [50, 25, 100] } }] },
  },
  {
    id: 'asg-refresh-healthy-percentages',
    resourceTypes: [RELEASE],
    resource: 'Instance refresh',
    setting: 'MinHealthyPercentage, MaxHealthyPercentage',
    rule: 'Minimum healthy is 0–100 %, maximum healthy 100–200 % and only with a minimum, and maximum minus minimum is at most 100.',
    sources: [PREFS],
    keys: [],
    checkGraph: preferences(['min-healthy-range', 'max-healthy-range', 'max-healthy-needs-min', 'healthy-spread']),
    violation: { base: 'prod-eu-west-1', patch: [{ type: RELEASE, name: 'onnx-fleet-fleet-release', set: { 'preferences.MinHealthyPercentage': 40 } }] },
  },
  {
    id: 'asg-refresh-warmup-and-bake',
    resourceTypes: [RELEASE],
    resource: 'Instance refresh',
    setting: 'InstanceWarmup, BakeTime',
    rule: 'Instance warmup is a whole number of seconds ≥ 0; bake time is 0–172800 seconds.',
    sources: [PREFS, 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html'],
    keys: [],
    checkGraph: preferences(['instance-warmup-range', 'bake-time-range']),
    violation: { base: 'dev', patch: [{ type: RELEASE, set: { 'preferences.BakeTime': 172_801 } }] },
  },
  {
    id: 'asg-refresh-alarms',
    resourceTypes: [RELEASE, ALARM],
    resource: 'Instance refresh',
    setting: 'AlarmSpecification.Alarms',
    rule: 'A refresh watches 1 to 10 CloudWatch alarms, each an alarm that exists (the stack\'s own).',
    sources: [`${API}/API_AlarmSpecification.html`, ROLLBACK],
    keys: [],
    checkGraph: eachResource([RELEASE], (i, _r, all) => {
      const out = preferenceViolations(i.preferences ?? {}).filter((v) => v.rule === 'alarms-count').map((v) => v.message);
      // Mock runs name an alarm `<logical name>-alarm` (infra/testing/mock-run.ts).
      const known = new Set(all.filter((r) => r.type === ALARM).map((r) => (r.inputs as Inputs).name ?? `${r.name}-alarm`));
      for (const a of i.preferences?.AlarmSpecification?.Alarms ?? []) if (!known.has(a)) out.push(`alarm ${JSON.stringify(a)} is not a CloudWatch alarm of this stack`);
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: RELEASE, set: { 'preferences.AlarmSpecification.Alarms': ['onnx-fleet-monitoring-5xx-rate-alarm', 'no-such-alarm'] } }] },
  },
];

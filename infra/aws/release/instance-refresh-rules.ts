/**
 * What AWS documents about a StartInstanceRefresh request, as checks: one encoding of the rules,
 * used by the FleetRelease component (a bad release step fails at `pulumi preview`, not half way
 * through `pulumi up`), by the Auto Scaling simulation the release tests run against (it rejects
 * what AWS rejects) and by the stack rules. No Pulumi imports.
 *
 * Sources:
 *  - API Reference, RefreshPreferences: MinHealthyPercentage 0–100, MaxHealthyPercentage 100–200 and
 *    only together with MinHealthyPercentage, max − min ≤ 100, CheckpointPercentages ascending and
 *    unique (last 100 to replace every instance), CheckpointDelay only with CheckpointPercentages,
 *    CheckpointDelay and BakeTime 0–172800 s, InstanceWarmup ≥ 0 (RefreshInstanceWarmup).
 *  - API Reference, AlarmSpecification: up to 10 alarms.
 *  - API Reference, LaunchTemplateSpecification: Version is a number, `$Latest` or `$Default`.
 *  - EC2 Auto Scaling User Guide, "Undo changes with a manual or auto rollback" and RefreshPreferences
 *    AutoRollback: no rollback without a desired configuration, with `$Latest`/`$Default`, or with a
 *    launch template whose ImageId is an SSM parameter.
 *  - hashicorp/terraform-provider-aws #29830: AutoRollback without DesiredConfiguration is answered
 *    `ValidationError: ... The AutoRollback parameter cannot be set to true when the
 *    DesiredConfiguration parameter is empty ...`.
 */
import type { DesiredConfiguration, LaunchTemplateSpecification, RefreshPreferences } from '@aws-sdk/client-auto-scaling';

export interface RefreshRuleViolation {
  /** Stable rule id, e.g. `checkpoints-ascending`. */
  rule: string;
  /** What is wrong and what AWS allows. */
  message: string;
  /** The documentation page or issue the rule comes from. */
  source: string;
}

const PREFS = 'EC2 Auto Scaling API Reference, RefreshPreferences';
const ROLLBACK = 'EC2 Auto Scaling User Guide, "Undo changes with a manual or auto rollback"';
const MAX_DELAY_SECONDS = 172_800;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Range and consistency rules of the preferences alone. */
export function preferenceViolations(p: RefreshPreferences): RefreshRuleViolation[] {
  const out: RefreshRuleViolation[] = [];
  const v = (rule: string, message: string, source = PREFS) => out.push({ rule, message, source });
  const min = p.MinHealthyPercentage;
  const max = p.MaxHealthyPercentage;
  if (min !== undefined && (!isInt(min) || min < 0 || min > 100)) v('min-healthy-range', `MinHealthyPercentage: got ${min}, expected an integer from 0 to 100`);
  if (max !== undefined && (!isInt(max) || max < 100 || max > 200)) v('max-healthy-range', `MaxHealthyPercentage: got ${max}, expected an integer from 100 to 200`);
  if (max !== undefined && min === undefined) v('max-healthy-needs-min', 'MaxHealthyPercentage is set without MinHealthyPercentage; AWS requires both');
  if (isInt(min) && isInt(max) && max - min > 100) v('healthy-spread', `MaxHealthyPercentage − MinHealthyPercentage: got ${max} − ${min} = ${max - min}, expected at most 100`);
  if (p.InstanceWarmup !== undefined && (!isInt(p.InstanceWarmup) || p.InstanceWarmup < 0)) v('instance-warmup-range', `InstanceWarmup: got ${p.InstanceWarmup}, expected a whole number of seconds ≥ 0`);
  const cps = p.CheckpointPercentages;
  if (cps !== undefined) {
    if (!Array.isArray(cps) || cps.length === 0 || !cps.every((c) => isInt(c) && c >= 1 && c <= 100)) {
      v('checkpoints-range', `CheckpointPercentages: got ${JSON.stringify(cps)}, expected percentages from 1 to 100`);
    } else if (cps.some((c, i) => i > 0 && c <= cps[i - 1])) {
      v('checkpoints-ascending', `CheckpointPercentages: got ${JSON.stringify(cps)}, expected unique values in ascending order`);
    } else if (cps[cps.length - 1] !== 100) {
      v('checkpoints-end-at-100', `CheckpointPercentages: got ${JSON.stringify(cps)}, expected the last value to be 100 (otherwise the refresh stops before every instance is replaced)`);
    }
  }
  if (p.CheckpointDelay !== undefined) {
    if (cps === undefined) v('checkpoint-delay-needs-checkpoints', 'CheckpointDelay is set without CheckpointPercentages; AWS requires both');
    if (!isInt(p.CheckpointDelay) || p.CheckpointDelay < 0 || p.CheckpointDelay > MAX_DELAY_SECONDS) v('checkpoint-delay-range', `CheckpointDelay: got ${p.CheckpointDelay}, expected 0 to ${MAX_DELAY_SECONDS} seconds`);
  }
  if (p.BakeTime !== undefined && (!isInt(p.BakeTime) || p.BakeTime < 0 || p.BakeTime > MAX_DELAY_SECONDS)) v('bake-time-range', `BakeTime: got ${p.BakeTime}, expected 0 to ${MAX_DELAY_SECONDS} seconds`);
  const alarms = p.AlarmSpecification?.Alarms;
  if (alarms !== undefined && (alarms.length === 0 || alarms.length > 10)) v('alarms-count', `AlarmSpecification.Alarms: got ${alarms.length} alarms, expected 1 to 10`, 'EC2 Auto Scaling API Reference, AlarmSpecification');
  return out;
}

/** The launch template a desired configuration names, wherever it sits. */
export function desiredTemplate(d: Pick<DesiredConfiguration, 'LaunchTemplate' | 'MixedInstancesPolicy'> | undefined): LaunchTemplateSpecification | undefined {
  return d?.LaunchTemplate ?? d?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
}

/** A specific numbered version: the only kind AWS can roll back to. */
export function isNumberedVersion(version: string | undefined): boolean {
  return version !== undefined && /^[1-9]\d*$/.test(version);
}

export function isSsmImage(imageId: string | undefined): boolean {
  return imageId !== undefined && imageId.startsWith('resolve:ssm:');
}

export interface RollbackContext {
  /** The group's current launch template version (what a rollback returns to). */
  currentVersion?: string;
  /** ImageId of the group's current template version and of the desired one. */
  currentImageId?: string;
  desiredImageId?: string;
}

/** Whether AWS can roll this refresh back: only checked when AutoRollback is on. */
export function rollbackViolations(desired: DesiredConfiguration | undefined, p: RefreshPreferences, ctx: RollbackContext = {}): RefreshRuleViolation[] {
  if (!p.AutoRollback) return [];
  const out: RefreshRuleViolation[] = [];
  const template = desiredTemplate(desired);
  if (!template) {
    out.push({
      rule: 'auto-rollback-needs-desired-configuration',
      message: 'The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.',
      source: `${ROLLBACK}; hashicorp/terraform-provider-aws #29830`,
    });
    return out;
  }
  if (!isNumberedVersion(template.Version)) {
    out.push({ rule: 'rollback-numbered-version', message: `DesiredConfiguration launch template version: got ${JSON.stringify(template.Version ?? '$Default')}, expected a specific numbered version: AutoRollback is not supported with $Latest or $Default`, source: ROLLBACK });
  }
  if (ctx.currentVersion !== undefined && !isNumberedVersion(ctx.currentVersion)) {
    out.push({ rule: 'rollback-numbered-version', message: `the group's launch template version is ${JSON.stringify(ctx.currentVersion)}; AutoRollback needs the group on a specific numbered version to roll back to`, source: ROLLBACK });
  }
  if (isSsmImage(ctx.currentImageId) || isSsmImage(ctx.desiredImageId)) {
    out.push({ rule: 'rollback-no-ssm-image', message: `launch template ImageId ${JSON.stringify(isSsmImage(ctx.desiredImageId) ? ctx.desiredImageId : ctx.currentImageId)} is an SSM parameter; AutoRollback is not supported for a launch template whose ImageId is an AWS Systems Manager parameter`, source: ROLLBACK });
  }
  return out;
}

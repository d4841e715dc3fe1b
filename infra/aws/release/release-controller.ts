/**
 * The fleet release decision logic: start an instance refresh with a desired configuration
 * (launch template id + numbered version), auto rollback and the gating alarms, wait for AWS's
 * outcome, and turn a rollback into an error that says why (the alarm that fired, the health
 * failures AWS recorded). The group's own configuration is never touched here: AWS writes the
 * desired configuration onto the group only when the refresh succeeds, and a rollback returns
 * the instances to the configuration the group still holds (EC2 Auto Scaling API Reference,
 * StartInstanceRefresh: "Once the instance refresh succeeds, Amazon EC2 Auto Scaling updates the
 * settings of the Auto Scaling group to reflect the new desired configuration").
 *
 * No Pulumi imports: the FleetRelease dynamic provider drives it with the AWS SDK clients, the
 * tests drive it with an in-process simulation of the Auto Scaling and CloudWatch APIs.
 */
import type {
  Activity,
  AutoScalingGroup,
  DesiredConfiguration,
  InstanceRefresh,
  LaunchTemplateSpecification,
  RefreshPreferences,
  StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { AlarmHistoryItem } from '@aws-sdk/client-cloudwatch';
import { desiredTemplate } from './instance-refresh-rules';

/** The Auto Scaling calls a release makes; `new AutoScaling({ region })` (SDK v3) satisfies it. */
export interface AutoScalingApi {
  describeAutoScalingGroups(input: { AutoScalingGroupNames: string[] }): Promise<{ AutoScalingGroups?: AutoScalingGroup[] }>;
  startInstanceRefresh(input: StartInstanceRefreshCommandInput): Promise<{ InstanceRefreshId?: string }>;
  describeInstanceRefreshes(input: { AutoScalingGroupName: string; InstanceRefreshIds?: string[] }): Promise<{ InstanceRefreshes?: InstanceRefresh[] }>;
  rollbackInstanceRefresh(input: { AutoScalingGroupName: string }): Promise<{ InstanceRefreshId?: string }>;
  describeScalingActivities(input: { AutoScalingGroupName: string; MaxRecords?: number }): Promise<{ Activities?: Activity[] }>;
}

/** The CloudWatch call that names the alarm behind a rollback; `new CloudWatch({ region })` satisfies it. */
export interface CloudWatchApi {
  describeAlarmHistory(input: { AlarmName: string; HistoryItemType: 'StateUpdate'; StartDate: Date; EndDate: Date }): Promise<{ AlarmHistoryItems?: AlarmHistoryItem[] }>;
}

export interface ReleaseClock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface ReleaseRequest {
  groupName: string;
  /** A launch template (or mixed instances policy) at a specific numbered version. */
  desired: DesiredConfiguration;
  preferences: RefreshPreferences;
}

export type ReleaseOutcome =
  /** The group already runs the desired configuration: nothing to roll out. */
  | { kind: 'unchanged'; version: string }
  | { kind: 'released'; version: string; instanceRefreshId: string };

export class ReleaseError extends Error {
  constructor(
    message: string,
    /** The refresh's final status, or `NotStarted` when AWS refused to start it. */
    readonly status: string,
    readonly instanceRefreshId?: string,
  ) {
    super(message);
    this.name = 'ReleaseError';
  }
}

export const WAIT_DEFAULTS = {
  /** How often the refresh's status is read. */
  pollSeconds: 30,
  /** A refresh still running after this long is rolled back (RollbackInstanceRefresh) and the release fails. */
  timeoutSeconds: 4 * 3600,
};

const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);
const ROLLBACK_START = 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html';

const describeTemplate = (t: LaunchTemplateSpecification | undefined) => (t ? `launch template ${t.LaunchTemplateId ?? t.LaunchTemplateName} version ${t.Version ?? '$Default'}` : 'no launch template');
const groupTemplate = (g: AutoScalingGroup) => g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;

/**
 * What decides which instances a configuration launches: the template and version and, for a
 * mixed instances group, its instance types and On-Demand/Spot split. Equal keys = nothing to release.
 */
function configurationKey(c: DesiredConfiguration | AutoScalingGroup | undefined): string {
  const t = desiredTemplate(c);
  const mip = c?.MixedInstancesPolicy;
  return JSON.stringify({
    template: t && [t.LaunchTemplateId ?? t.LaunchTemplateName, t.Version ?? '$Default'],
    mixed: mip && {
      types: (mip.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType),
      base: mip.InstancesDistribution?.OnDemandBaseCapacity,
      percentage: mip.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity,
      strategy: mip.InstancesDistribution?.SpotAllocationStrategy,
    },
  });
}

export class ReleaseController {
  private readonly options: typeof WAIT_DEFAULTS;

  constructor(
    private readonly deps: { autoScaling: AutoScalingApi; cloudWatch: CloudWatchApi; clock: ReleaseClock; log?: (line: string) => void },
    options: Partial<typeof WAIT_DEFAULTS> = {},
  ) {
    this.options = { ...WAIT_DEFAULTS, ...options };
  }

  /** Rolls the desired configuration out; resolves once the group runs it, throws ReleaseError otherwise. */
  async release(req: ReleaseRequest): Promise<ReleaseOutcome> {
    const target = desiredTemplate(req.desired);
    if (!target) throw new ReleaseError(`${req.groupName}: the release names no launch template`, 'NotStarted');
    const group = await this.group(req.groupName);
    const previous = groupTemplate(group);
    if (configurationKey(group) === configurationKey(req.desired)) {
      this.log(`${req.groupName} already runs ${describeTemplate(target)}; nothing to roll out`);
      return { kind: 'unchanged', version: target.Version! };
    }

    const active = await this.activeRefresh(req.groupName);
    let id: string;
    let since: Date;
    if (active && configurationKey(active.DesiredConfiguration) === configurationKey(req.desired)) {
      // An interrupted `pulumi up` left this very release running: follow it rather than start a second one.
      id = active.InstanceRefreshId!;
      since = active.StartTime ?? this.deps.clock.now();
      this.log(`${req.groupName}: following instance refresh ${id} (${active.Status}) already rolling out ${describeTemplate(target)}`);
    } else if (active) {
      throw this.busy(req.groupName, active);
    } else {
      since = this.deps.clock.now();
      id = await this.start(req, previous);
      this.log(`${req.groupName}: instance refresh ${id} started: ${describeTemplate(previous)} → ${describeTemplate(target)}`);
    }

    const final = await this.wait(req.groupName, id);
    const status = final.refresh.Status ?? 'Unknown';
    if (status === 'Successful') {
      const now = await this.group(req.groupName);
      if (configurationKey(now) !== configurationKey(req.desired)) {
        throw new ReleaseError(`${req.groupName}: instance refresh ${id} reported Successful but the group runs ${describeTemplate(groupTemplate(now))}, not ${describeTemplate(target)}`, status, id);
      }
      return { kind: 'released', version: target.Version!, instanceRefreshId: id };
    }
    const why = await this.explain(req, final.refresh, since);
    const timedOut = final.timedOut ? ` It was still running after ${this.options.timeoutSeconds} s, so the release step rolled it back.` : '';
    const stays = describeTemplate(previous);
    switch (status) {
      case 'RollbackSuccessful':
        throw new ReleaseError(
          `Fleet release rolled back: ${req.groupName} did not take ${describeTemplate(target)}; AWS rolled instance refresh ${id} back and the group stays on ${stays}.${timedOut} Why: ${why}. ` +
            'Fix the release (AMI, bundle, models or instance settings) and run `pulumi up` again, or revert the change.',
          status,
          id,
        );
      case 'RollbackFailed':
        throw new ReleaseError(
          `Fleet release failed and so did its rollback: ${req.groupName} was being returned to ${stays} but the rollback of instance refresh ${id} failed.${timedOut} Why: ${why}. ` +
            `The group may run a mix of versions; see its scaling activities and ${ROLLBACK_START}.`,
          status,
          id,
        );
      default:
        throw new ReleaseError(`Fleet release ${status.toLowerCase()}: instance refresh ${id} on ${req.groupName} ended ${status} without a rollback; the group's configuration stays ${stays}. Why: ${why}.`, status, id);
    }
  }

  private log(line: string): void {
    this.deps.log?.(line);
  }

  private async group(name: string): Promise<AutoScalingGroup> {
    const found = (await this.deps.autoScaling.describeAutoScalingGroups({ AutoScalingGroupNames: [name] })).AutoScalingGroups?.[0];
    if (!found) throw new ReleaseError(`Auto Scaling group ${name} not found`, 'NotStarted');
    return found;
  }

  private async activeRefresh(group: string): Promise<InstanceRefresh | undefined> {
    const all = (await this.deps.autoScaling.describeInstanceRefreshes({ AutoScalingGroupName: group })).InstanceRefreshes ?? [];
    return all.find((r) => ACTIVE.has(r.Status ?? ''));
  }

  private busy(group: string, active: InstanceRefresh): ReleaseError {
    return new ReleaseError(
      `${group}: instance refresh ${active.InstanceRefreshId} (${active.Status}, ${describeTemplate(desiredTemplate(active.DesiredConfiguration))}) is already active and AWS allows one per group; ` +
        `wait for it to finish or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${group}), then run \`pulumi up\` again`,
      'NotStarted',
      active.InstanceRefreshId,
    );
  }

  private async start(req: ReleaseRequest, previous: LaunchTemplateSpecification | undefined): Promise<string> {
    try {
      const out = await this.deps.autoScaling.startInstanceRefresh({ AutoScalingGroupName: req.groupName, Strategy: 'Rolling', DesiredConfiguration: req.desired, Preferences: req.preferences });
      if (!out.InstanceRefreshId) throw new ReleaseError(`${req.groupName}: StartInstanceRefresh returned no instance refresh id`, 'NotStarted');
      return out.InstanceRefreshId;
    } catch (err) {
      if (err instanceof ReleaseError) throw err;
      const e = err as { name?: string; message?: string };
      if (e.name === 'InstanceRefreshInProgressFault' || e.name === 'InstanceRefreshInProgress') {
        const active = await this.activeRefresh(req.groupName);
        if (active) throw this.busy(req.groupName, active);
      }
      throw new ReleaseError(
        `${req.groupName}: AWS refused to start the release of ${describeTemplate(desiredTemplate(req.desired))} (group on ${describeTemplate(previous)}): ${e.name ?? 'Error'}: ${e.message ?? String(err)}`,
        'NotStarted',
      );
    }
  }

  private async wait(group: string, id: string): Promise<{ refresh: InstanceRefresh; timedOut: boolean }> {
    const started = this.deps.clock.now().getTime();
    let timedOut = false;
    let last = '';
    for (;;) {
      const refresh = (await this.deps.autoScaling.describeInstanceRefreshes({ AutoScalingGroupName: group, InstanceRefreshIds: [id] })).InstanceRefreshes?.[0];
      if (!refresh) throw new ReleaseError(`${group}: instance refresh ${id} disappeared`, 'Unknown', id);
      const line = `${refresh.Status} ${refresh.PercentageComplete ?? 0}%${refresh.StatusReason ? `: ${refresh.StatusReason}` : ''}`;
      if (line !== last) this.log(`${group}: instance refresh ${id} ${line}`);
      last = line;
      if (!ACTIVE.has(refresh.Status ?? '')) return { refresh, timedOut };
      const elapsed = (this.deps.clock.now().getTime() - started) / 1000;
      if (!timedOut && elapsed > this.options.timeoutSeconds && refresh.Status !== 'RollbackInProgress' && refresh.Status !== 'Cancelling') {
        timedOut = true;
        this.log(`${group}: instance refresh ${id} still ${refresh.Status} after ${Math.round(elapsed)} s; rolling it back`);
        await this.deps.autoScaling.rollbackInstanceRefresh({ AutoScalingGroupName: group });
      }
      await this.deps.clock.sleep(this.options.pollSeconds * 1000);
    }
  }

  /** Why AWS stopped the release: its own status reason, the gating alarms that fired, the health failures. */
  private async explain(req: ReleaseRequest, refresh: InstanceRefresh, since: Date): Promise<string> {
    const reasons: string[] = [];
    const until = this.deps.clock.now();
    for (const name of req.preferences.AlarmSpecification?.Alarms ?? []) {
      const items = (await this.deps.cloudWatch.describeAlarmHistory({ AlarmName: name, HistoryItemType: 'StateUpdate', StartDate: since, EndDate: until })).AlarmHistoryItems ?? [];
      const fired = items.map(enteredAlarm).filter((x): x is { at: Date | undefined; reason: string } => x !== undefined);
      if (fired.length) reasons.push(`alarm ${name} went into ALARM${fired[0].at ? ` at ${fired[0].at.toISOString()}` : ''} (${fired[0].reason})`);
    }
    const activities = (await this.deps.autoScaling.describeScalingActivities({ AutoScalingGroupName: req.groupName, MaxRecords: 100 })).Activities ?? [];
    const health = activities.filter((a) => (a.StartTime?.getTime() ?? 0) >= since.getTime() && (a.StatusCode === 'Failed' || a.StatusCode === 'Cancelled' || /health check|unhealthy|abandon/i.test(`${a.Cause} ${a.StatusMessage ?? ''}`)));
    const distinct = [...new Set(health.map((a) => [a.Description, a.StatusMessage || a.Cause].filter(Boolean).join(': ')))];
    if (distinct.length) reasons.push(`health: ${distinct.slice(0, 3).join('; ')}${distinct.length > 3 ? ` (and ${distinct.length - 3} more)` : ''}`);
    if (refresh.RollbackDetails?.RollbackReason) reasons.push(`AWS rollback reason: ${refresh.RollbackDetails.RollbackReason}`);
    if (refresh.StatusReason && refresh.StatusReason !== refresh.RollbackDetails?.RollbackReason) reasons.push(`AWS status reason: ${refresh.StatusReason}`);
    return reasons.length ? reasons.join('; ') : 'AWS gave no reason (see the group\'s scaling activities)';
  }
}

/** A StateUpdate history item that moved an alarm into ALARM (HistoryData is CloudWatch's JSON). */
function enteredAlarm(item: AlarmHistoryItem): { at: Date | undefined; reason: string } | undefined {
  let data: { newState?: { stateValue?: string; stateReason?: string } } = {};
  try {
    data = JSON.parse(item.HistoryData ?? '{}');
  } catch {
    // Not JSON: fall back on the summary ("Alarm updated from OK to ALARM").
  }
  if (data.newState?.stateValue === 'ALARM') return { at: item.Timestamp, reason: data.newState.stateReason ?? item.HistorySummary ?? 'no reason recorded' };
  if (!data.newState && /to ALARM$/.test(item.HistorySummary ?? '')) return { at: item.Timestamp, reason: item.HistorySummary! };
  return undefined;
}

/**
 * A SIMULATION of the EC2 Auto Scaling and CloudWatch APIs a fleet release uses — not AWS, and not
 * a recording of it. AWS itself cannot run here, so this models, in-process and on a virtual clock,
 * the documented behaviour the release step relies on, and the release tests drive the real
 * ReleaseController against it. What it models, and where from:
 *
 *  - StartInstanceRefresh (API Reference): Rolling only; one active refresh per group, else
 *    InstanceRefreshInProgressFault; the preferences' documented ranges and pairings (shared with the
 *    stack rules in infra/aws/release/instance-refresh-rules.ts); AutoRollback needs a desired
 *    configuration (ValidationError text from hashicorp/terraform-provider-aws #29830), a numbered
 *    launch template version and no SSM-parameter ImageId (User Guide, "Undo changes with a manual or
 *    auto rollback"; RefreshPreferences.AutoRollback).
 *  - Progress (User Guide, "How an instance refresh works", "Add checkpoints to an instance refresh",
 *    "Understand the default values for an instance refresh"): replacements paced by
 *    MinHealthyPercentage/MaxHealthyPercentage of the desired capacity (one extra instance when the
 *    bounds allow none), an instance counts as updated once InService, healthy and past the instance
 *    warmup (default: the group's DefaultInstanceWarmup, else the health check grace period);
 *    checkpoints pause for CheckpointDelay (default 3600 s) when the share of new instances reaches
 *    them; BakeTime then Baking; SkipMatching keeps instances already on the desired configuration.
 *  - Outcome (InstanceRefresh.Status, RollbackDetails, StartInstanceRefresh): an alarm of the
 *    AlarmSpecification in ALARM, or replacements that keep failing, fail the refresh; with
 *    AutoRollback it becomes RollbackInProgress, replaces what was deployed with the configuration
 *    the group still holds and ends RollbackSuccessful (RollbackFailed if that fails too). Only a
 *    Successful refresh writes the desired configuration onto the group.
 *  - RollbackInstanceRefresh (API Reference): ActiveInstanceRefreshNotFoundFault with nothing active,
 *    IrreversibleInstanceRefreshFault when a rollback is not supported.
 *  - Instances: a launch lifecycle hook that the runtime completes when ready (ABANDON on its
 *    heartbeat timeout, as the Fleet declares), ELB health check failures that take an instance out
 *    of service, scaling activities recording both; metric alarms that go into ALARM after
 *    EvaluationPeriods breaching periods and record StateUpdate history (CloudWatch
 *    DescribeAlarmHistory).
 *
 * Not documented by AWS, so chosen here and named as such: the exact wording of error messages
 * and status reasons, and how many failed replacements fail a refresh (`failAfterFailedLaunches`).
 */
import type { Activity, AutoScalingGroup, DesiredConfiguration, InstanceRefresh, LaunchTemplateSpecification, RefreshPreferences, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type { AlarmHistoryItem } from '@aws-sdk/client-cloudwatch';
import { desiredTemplate, preferenceViolations, rollbackViolations } from '../../infra/aws/release/instance-refresh-rules';
import type { AutoScalingApi, CloudWatchApi, ReleaseClock } from '../../infra/aws/release/release-controller';

/** How instances launched from a template version behave (what a release really does on a host). */
export interface ReleaseBehaviour {
  /** The runtime comes up and completes the launch hook; otherwise the hook times out and ABANDONs. */
  ready: boolean;
  /** Seconds from launch until the hook completes (bootstrap, model load, warmup). */
  bootSeconds: number;
  /** 5xx share the instance answers once in service... */
  errorRatePercent: number;
  /** ...starting this many seconds after it entered service (a leak shows late). */
  errorsAfterSeconds: number;
  /** Seconds in service after which the instance starts failing the ELB health check (undefined: never). */
  failsHealthCheckAfterSeconds?: number;
}

export const GOOD_RELEASE: ReleaseBehaviour = { ready: true, bootSeconds: 120, errorRatePercent: 0, errorsAfterSeconds: 0 };

interface TemplateVersion {
  imageId: string;
  behaviour: ReleaseBehaviour;
}

interface Instance {
  id: string;
  templateId: string;
  version: number;
  launchedAt: number;
  inServiceAt?: number;
  state: 'Pending:Wait' | 'InService' | 'Terminated';
  health: 'Healthy' | 'Unhealthy';
}

interface Group {
  name: string;
  desired: number;
  /** Exactly what the group stores: a launch template or a mixed instances policy. */
  config: DesiredConfiguration;
  healthCheckGracePeriod: number;
  defaultInstanceWarmup?: number;
  hookTimeoutSeconds: number;
  instances: Instance[];
}

interface Refresh {
  id: string;
  group: string;
  status: NonNullable<InstanceRefresh['Status']>;
  statusReason?: string;
  start: number;
  end?: number;
  desired?: DesiredConfiguration;
  preferences: RefreshPreferences;
  /** The group's configuration when the refresh started: what a rollback returns to. */
  previous: DesiredConfiguration;
  /** Instances present at the start that must be replaced even if they match (SkipMatching off). */
  stale: Set<string>;
  nextCheckpoint: number;
  waitUntil?: number;
  failedLaunches: number;
  percentage: number;
  toUpdate: number;
  rollback?: { reason: string; at: number; percentage: number; toUpdate: number };
}

interface Alarm {
  name: string;
  threshold: number;
  evaluationPeriods: number;
  periodSeconds: number;
  metric: () => number;
  state: 'OK' | 'ALARM';
  breaching: number;
  nextEvaluation: number;
}

/** An error shaped like the SDK's service exceptions (name = error code). */
export class SimulatedAwsError extends Error {
  readonly $fault = 'client';
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);
const TICK_SECONDS = 10;

export class AutoScalingSimulation implements AutoScalingApi, CloudWatchApi, ReleaseClock {
  private time = Date.UTC(2026, 0, 1);
  private seq = 0;
  private readonly templates = new Map<string, { versions: TemplateVersion[]; defaultVersion: number }>();
  private readonly groups = new Map<string, Group>();
  private readonly refreshes: Refresh[] = [];
  private readonly activities: Activity[] = [];
  private readonly alarms = new Map<string, Alarm>();
  private readonly history: AlarmHistoryItem[] = [];
  /** Calls made, for tests that check what the release step asked of AWS. */
  readonly calls: { op: string; input: unknown }[] = [];

  constructor(private readonly opts: { failAfterFailedLaunches: number } = { failAfterFailedLaunches: 3 }) {}

  // ---- scenario set-up --------------------------------------------------------------------------

  createLaunchTemplate(id: string, first: TemplateVersion): void {
    this.templates.set(id, { versions: [first], defaultVersion: 1 });
  }

  /** CreateLaunchTemplateVersion: returns the new version number. */
  createTemplateVersion(id: string, v: TemplateVersion): number {
    const t = this.template(id);
    t.versions.push(v);
    return t.versions.length;
  }

  /** A group in steady state: `desired` healthy instances of its configuration, long in service. */
  createGroup(g: { name: string; desired: number; config: DesiredConfiguration; healthCheckGracePeriod: number; defaultInstanceWarmup?: number; hookTimeoutSeconds: number }): void {
    const group: Group = { ...g, instances: [] };
    this.groups.set(g.name, group);
    for (let i = 0; i < g.desired; i++) {
      const inst = this.launch(group, g.config);
      inst.state = 'InService';
      inst.launchedAt = inst.inServiceAt = this.time - 86_400_000;
    }
  }

  addAlarm(a: { name: string; threshold: number; evaluationPeriods: number; periodSeconds: number; metric: (sim: AutoScalingSimulation) => number }): void {
    this.alarms.set(a.name, { ...a, metric: () => a.metric(this), state: 'OK', breaching: 0, nextEvaluation: this.time + a.periodSeconds * 1000 });
  }

  // ---- what the fleet's metrics would read -------------------------------------------------------

  /** ALB 5xx share across in-service targets. */
  errorRatePercent(group: string): number {
    const serving = this.group(group).instances.filter((i) => i.state === 'InService' && i.health === 'Healthy');
    if (!serving.length) return 0;
    const rate = (i: Instance) => {
      const b = this.version(i.templateId, i.version).behaviour;
      return this.time - (i.inServiceAt ?? 0) >= b.errorsAfterSeconds * 1000 ? b.errorRatePercent : 0;
    };
    return serving.reduce((sum, i) => sum + rate(i), 0) / serving.length;
  }

  /** ALB UnHealthyHostCount: registered (in-service) targets failing the health check. */
  unhealthyHostCount(group: string): number {
    return this.group(group).instances.filter((i) => i.state === 'InService' && i.health === 'Unhealthy').length;
  }

  /** What the group runs now: its stored configuration and its live instances' versions. */
  snapshot(group: string): { template: LaunchTemplateSpecification | undefined; versions: number[] } {
    const g = this.group(group);
    return { template: desiredTemplate(g.config), versions: g.instances.filter((i) => i.state !== 'Terminated').map((i) => i.version).sort() };
  }

  alarmState(name: string): string {
    return this.alarms.get(name)!.state;
  }

  // ---- ReleaseClock -------------------------------------------------------------------------------

  now(): Date {
    return new Date(this.time);
  }

  async sleep(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= TICK_SECONDS * 1000) {
      this.time += Math.min(left, TICK_SECONDS * 1000);
      this.tick();
    }
  }

  // ---- AutoScalingApi -----------------------------------------------------------------------------

  async describeAutoScalingGroups(input: { AutoScalingGroupNames: string[] }): Promise<{ AutoScalingGroups?: AutoScalingGroup[] }> {
    this.calls.push({ op: 'DescribeAutoScalingGroups', input });
    const found = input.AutoScalingGroupNames.map((n) => this.groups.get(n)).filter((g): g is Group => g !== undefined);
    return {
      AutoScalingGroups: found.map((g) => ({
        AutoScalingGroupName: g.name,
        LaunchTemplate: structuredClone(g.config.LaunchTemplate),
        MixedInstancesPolicy: structuredClone(g.config.MixedInstancesPolicy),
        MinSize: g.desired,
        MaxSize: g.desired * 2,
        DesiredCapacity: g.desired,
        DefaultCooldown: 300,
        AvailabilityZones: [],
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: g.healthCheckGracePeriod,
        DefaultInstanceWarmup: g.defaultInstanceWarmup,
        CreatedTime: new Date(0),
        Instances: g.instances
          .filter((i) => i.state !== 'Terminated')
          .map((i) => ({ InstanceId: i.id, AvailabilityZone: 'sim-1a', LifecycleState: i.state, HealthStatus: i.health, ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: i.templateId, Version: String(i.version) } })),
      })),
    };
  }

  async startInstanceRefresh(input: StartInstanceRefreshCommandInput): Promise<{ InstanceRefreshId?: string }> {
    this.calls.push({ op: 'StartInstanceRefresh', input: structuredClone(input) });
    const g = this.groups.get(input.AutoScalingGroupName ?? '');
    if (!g) throw new SimulatedAwsError('ValidationError', `AutoScalingGroup name not found - ${input.AutoScalingGroupName}`);
    if (this.refreshes.some((r) => r.group === g.name && ACTIVE.has(r.status))) {
      throw new SimulatedAwsError('InstanceRefreshInProgressFault', 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.');
    }
    if (input.Strategy !== undefined && input.Strategy !== 'Rolling') throw new SimulatedAwsError('ValidationError', `Strategy ${input.Strategy} is not supported for this group; expected Rolling`);
    const prefs = input.Preferences ?? {};
    const desired = input.DesiredConfiguration && desiredTemplate(input.DesiredConfiguration) ? input.DesiredConfiguration : undefined;
    const target = desiredTemplate(desired);
    if (target) {
      const t = this.templates.get(target.LaunchTemplateId ?? '');
      if (!t) throw new SimulatedAwsError('ValidationError', `The specified launch template, with template ID ${target.LaunchTemplateId}, does not exist.`);
      if (this.resolve(target) === undefined) throw new SimulatedAwsError('ValidationError', `The specified launch template version ${target.Version} of ${target.LaunchTemplateId} does not exist.`);
    }
    const current = desiredTemplate(g.config)!;
    const problems = [
      ...preferenceViolations(prefs),
      ...rollbackViolations(desired, prefs, {
        currentVersion: current.Version ?? '$Default',
        currentImageId: this.version(current.LaunchTemplateId!, this.resolve(current)!).imageId,
        desiredImageId: target ? this.version(target.LaunchTemplateId!, this.resolve(target)!).imageId : undefined,
      }),
    ];
    if (problems.length) throw new SimulatedAwsError('ValidationError', `The request isn't valid. ${problems.map((p) => p.message).join(' ')}`);

    const id = `sim-refresh-${++this.seq}`;
    const stale = new Set(prefs.SkipMatching ? [] : g.instances.filter((i) => i.state !== 'Terminated').map((i) => i.id));
    this.refreshes.unshift({
      id, group: g.name, status: 'Pending', start: this.time, desired: structuredClone(desired), preferences: structuredClone(prefs), previous: structuredClone(g.config),
      stale, nextCheckpoint: 0, failedLaunches: 0, percentage: 0, toUpdate: g.desired,
    });
    return { InstanceRefreshId: id };
  }

  async describeInstanceRefreshes(input: { AutoScalingGroupName: string; InstanceRefreshIds?: string[] }): Promise<{ InstanceRefreshes?: InstanceRefresh[] }> {
    this.calls.push({ op: 'DescribeInstanceRefreshes', input });
    return {
      InstanceRefreshes: this.refreshes
        .filter((r) => r.group === input.AutoScalingGroupName && (!input.InstanceRefreshIds || input.InstanceRefreshIds.includes(r.id)))
        .map((r) => ({
          InstanceRefreshId: r.id, AutoScalingGroupName: r.group, Status: r.status, StatusReason: r.statusReason,
          StartTime: new Date(r.start), EndTime: r.end === undefined ? undefined : new Date(r.end),
          PercentageComplete: r.percentage, InstancesToUpdate: r.toUpdate,
          DesiredConfiguration: structuredClone(r.desired), Preferences: structuredClone(r.preferences),
          RollbackDetails: r.rollback && { RollbackReason: r.rollback.reason, RollbackStartTime: new Date(r.rollback.at), PercentageCompleteOnRollback: r.rollback.percentage, InstancesToUpdateOnRollback: r.rollback.toUpdate },
        })),
    };
  }

  async rollbackInstanceRefresh(input: { AutoScalingGroupName: string }): Promise<{ InstanceRefreshId?: string }> {
    this.calls.push({ op: 'RollbackInstanceRefresh', input });
    const r = this.refreshes.find((x) => x.group === input.AutoScalingGroupName && ['Pending', 'InProgress', 'Baking'].includes(x.status));
    if (!r) throw new SimulatedAwsError('ActiveInstanceRefreshNotFoundFault', `No active instance refresh or rollback found for ${input.AutoScalingGroupName}.`);
    const g = this.group(r.group);
    const current = desiredTemplate(g.config)!;
    if (rollbackViolations(r.desired, { AutoRollback: true }, { currentVersion: current.Version ?? '$Default', currentImageId: this.version(current.LaunchTemplateId!, this.resolve(current)!).imageId }).length) {
      throw new SimulatedAwsError('IrreversibleInstanceRefreshFault', 'The instance refresh cannot be rolled back: no desired configuration, a $Latest/$Default launch template version, or an SSM-parameter ImageId.');
    }
    this.beginRollback(r, 'Rollback initiated by RollbackInstanceRefresh');
    return { InstanceRefreshId: r.id };
  }

  async describeScalingActivities(input: { AutoScalingGroupName: string; MaxRecords?: number }): Promise<{ Activities?: Activity[] }> {
    this.calls.push({ op: 'DescribeScalingActivities', input });
    return { Activities: this.activities.filter((a) => a.AutoScalingGroupName === input.AutoScalingGroupName).slice(0, input.MaxRecords ?? 100).map((a) => structuredClone(a)) };
  }

  // ---- CloudWatchApi ------------------------------------------------------------------------------

  async describeAlarmHistory(input: { AlarmName: string; HistoryItemType: 'StateUpdate'; StartDate: Date; EndDate: Date }): Promise<{ AlarmHistoryItems?: AlarmHistoryItem[] }> {
    this.calls.push({ op: 'DescribeAlarmHistory', input });
    return {
      AlarmHistoryItems: this.history.filter(
        (h) => h.AlarmName === input.AlarmName && h.HistoryItemType === input.HistoryItemType && h.Timestamp!.getTime() >= input.StartDate.getTime() && h.Timestamp!.getTime() <= input.EndDate.getTime(),
      ),
    };
  }

  // ---- the model ----------------------------------------------------------------------------------

  private template(id: string) {
    const t = this.templates.get(id);
    if (!t) throw new Error(`simulation: no launch template ${id}`);
    return t;
  }

  private version(id: string, n: number): TemplateVersion {
    return this.template(id).versions[n - 1];
  }

  /** A version string to its number ($Latest, $Default or a number); undefined if it does not exist. */
  private resolve(spec: LaunchTemplateSpecification): number | undefined {
    const t = this.templates.get(spec.LaunchTemplateId ?? '');
    if (!t) return undefined;
    const v = spec.Version ?? '$Default';
    const n = v === '$Latest' ? t.versions.length : v === '$Default' ? t.defaultVersion : Number(v);
    return Number.isInteger(n) && n >= 1 && n <= t.versions.length ? n : undefined;
  }

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new Error(`simulation: no group ${name}`);
    return g;
  }

  private activity(g: Group, description: string, cause: string, status: Activity['StatusCode'], message?: string): void {
    this.activities.unshift({ ActivityId: `sim-activity-${++this.seq}`, AutoScalingGroupName: g.name, Description: description, Cause: cause, StartTime: new Date(this.time), EndTime: new Date(this.time), StatusCode: status, StatusMessage: message, Progress: 100 });
  }

  private launch(g: Group, config: DesiredConfiguration): Instance {
    const spec = desiredTemplate(config)!;
    const inst: Instance = { id: `i-${(++this.seq).toString(16).padStart(17, '0')}`, templateId: spec.LaunchTemplateId!, version: this.resolve(spec)!, launchedAt: this.time, state: 'Pending:Wait', health: 'Healthy' };
    g.instances.push(inst);
    return inst;
  }

  private terminate(g: Group, i: Instance, cause: string): void {
    i.state = 'Terminated';
    this.activity(g, `Terminating EC2 instance: ${i.id}`, cause, 'Successful');
  }

  private tick(): void {
    for (const g of this.groups.values()) this.instances(g);
    for (const a of this.alarms.values()) this.evaluate(a);
    for (const r of this.refreshes.filter((x) => ACTIVE.has(x.status))) this.step(r);
  }

  /** Launch hooks, ELB health checks, and the group keeping its desired capacity. */
  private instances(g: Group): void {
    const refreshing = this.refreshes.find((r) => r.group === g.name && ACTIVE.has(r.status));
    for (const i of g.instances) {
      const b = this.version(i.templateId, i.version).behaviour;
      if (i.state === 'Pending:Wait') {
        if (b.ready && this.time >= i.launchedAt + b.bootSeconds * 1000) {
          i.state = 'InService';
          i.inServiceAt = this.time;
          this.activity(g, `Launching a new EC2 instance: ${i.id}`, `instance launched from launch template ${i.templateId} version ${i.version}`, 'Successful');
        } else if (!b.ready && this.time >= i.launchedAt + g.hookTimeoutSeconds * 1000) {
          i.state = 'Terminated';
          if (refreshing) refreshing.failedLaunches++;
          this.activity(g, `Launching a new EC2 instance: ${i.id}`, `instance launched from launch template ${i.templateId} version ${i.version}`, 'Cancelled',
            `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token sim-${i.id} was abandoned: Lifecycle Action Completed with ABANDON Result`);
        }
      } else if (i.state === 'InService' && i.health === 'Healthy' && b.failsHealthCheckAfterSeconds !== undefined && this.time >= i.inServiceAt! + Math.max(b.failsHealthCheckAfterSeconds, g.healthCheckGracePeriod) * 1000) {
        i.health = 'Unhealthy';
      } else if (i.state === 'InService' && i.health === 'Unhealthy') {
        // Marked unhealthy on the previous tick: the group takes it out of service.
        if (refreshing) refreshing.failedLaunches++;
        this.terminate(g, i, `At ${new Date(this.time).toISOString()} an instance was taken out of service in response to an ELB system health check failure.`);
      }
    }
    // Outside a refresh the group replaces what it lost from its own configuration.
    if (!refreshing) while (g.instances.filter((i) => i.state !== 'Terminated').length < g.desired) this.launch(g, g.config);
  }

  private evaluate(a: Alarm): void {
    if (this.time < a.nextEvaluation) return;
    a.nextEvaluation += a.periodSeconds * 1000;
    const value = a.metric();
    a.breaching = value > a.threshold ? a.breaching + 1 : 0;
    const next = a.breaching >= a.evaluationPeriods ? 'ALARM' : 'OK';
    if (next === a.state) return;
    const reason = next === 'ALARM'
      ? `Threshold Crossed: ${a.evaluationPeriods} datapoints were greater than the threshold (${a.threshold}); the most recent datapoint: ${value}.`
      : `Threshold Crossed: 1 datapoint (${value}) was not greater than the threshold (${a.threshold}).`;
    this.history.unshift({
      AlarmName: a.name, AlarmType: 'MetricAlarm', Timestamp: new Date(this.time), HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${a.state} to ${next}`,
      HistoryData: JSON.stringify({ version: '1.0', oldState: { stateValue: a.state }, newState: { stateValue: next, stateReason: reason } }),
    });
    a.state = next;
  }

  private beginRollback(r: Refresh, reason: string): void {
    r.rollback = { reason, at: this.time, percentage: r.percentage, toUpdate: r.toUpdate };
    r.status = 'RollbackInProgress';
    r.statusReason = reason;
    r.failedLaunches = 0;
    r.waitUntil = undefined;
  }

  private fail(r: Refresh, reason: string): void {
    if (r.preferences.AutoRollback) return this.beginRollback(r, `Automatic rollback initiated: ${reason}`);
    r.status = 'Failed';
    r.statusReason = reason;
    r.end = this.time;
  }

  private step(r: Refresh): void {
    const g = this.group(r.group);
    if (r.status === 'Pending') {
      r.status = 'InProgress';
      return;
    }
    if (r.status === 'Cancelling') {
      r.status = 'Cancelled';
      r.end = this.time;
      return;
    }
    if (r.status === 'RollbackInProgress') {
      if (r.failedLaunches >= this.opts.failAfterFailedLaunches) {
        r.status = 'RollbackFailed';
        r.statusReason = `${r.failedLaunches} instances of the previous configuration failed to launch or to pass health checks during the rollback`;
        r.end = this.time;
        return;
      }
      if (this.replace(r, g, r.previous, 100)) {
        r.status = 'RollbackSuccessful';
        r.end = this.time;
      }
      return;
    }
    const fired = (r.preferences.AlarmSpecification?.Alarms ?? []).filter((n) => this.alarms.get(n)?.state === 'ALARM');
    if (fired.length) return this.fail(r, `CloudWatch alarm(s) ${fired.join(', ')} in ALARM state`);
    if (r.failedLaunches >= this.opts.failAfterFailedLaunches) return this.fail(r, `${r.failedLaunches} replacement instances failed to launch or to pass health checks`);
    if (r.waitUntil !== undefined && this.time < r.waitUntil) return;
    r.waitUntil = undefined;
    if (r.status === 'Baking') {
      g.config = structuredClone(r.desired!);
      r.status = 'Successful';
      r.statusReason = undefined;
      r.end = this.time;
      return;
    }
    const checkpoints = r.preferences.CheckpointPercentages ?? [100];
    const cap = checkpoints[Math.min(r.nextCheckpoint, checkpoints.length - 1)];
    const done = this.replace(r, g, r.desired!, cap);
    if (done) {
      const bake = r.preferences.BakeTime ?? 0;
      if (bake > 0) {
        r.status = 'Baking';
        r.statusReason = `Waiting ${bake} s of bake time before the instance refresh is complete`;
        r.waitUntil = this.time + bake * 1000;
      } else {
        g.config = structuredClone(r.desired!);
        r.status = 'Successful';
        r.statusReason = undefined;
        r.end = this.time;
      }
      return;
    }
    // Checkpoints: pause once the share of new instances reaches the next one (all passed ones at once).
    let reached: number | undefined;
    while (r.nextCheckpoint < checkpoints.length - 1 && r.percentage >= checkpoints[r.nextCheckpoint]) reached = checkpoints[r.nextCheckpoint++];
    if (reached !== undefined) {
      r.waitUntil = this.time + (r.preferences.CheckpointDelay ?? 3600) * 1000;
      r.statusReason = `Waiting for checkpoint: ${reached} % of the group replaced`;
    }
  }

  /**
   * One pacing step towards `target` for up to `capPercent` of the group; true once every live
   * instance runs it, healthy and warmed up.
   */
  private replace(r: Refresh, g: Group, target: DesiredConfiguration, capPercent: number): boolean {
    const spec = desiredTemplate(target)!;
    const version = this.resolve(spec)!;
    const rollingBack = r.status === 'RollbackInProgress';
    const matches = (i: Instance) => i.templateId === spec.LaunchTemplateId && i.version === version && (rollingBack || !r.stale.has(i.id));
    const warmup = (r.preferences.InstanceWarmup ?? g.defaultInstanceWarmup ?? g.healthCheckGracePeriod) * 1000;
    const healthy = (i: Instance) => i.state === 'InService' && i.health === 'Healthy';
    const ready = (i: Instance) => healthy(i) && this.time >= i.inServiceAt! + warmup;
    const live = () => g.instances.filter((i) => i.state !== 'Terminated');

    const minPct = r.preferences.MinHealthyPercentage ?? 90;
    const maxPct = r.preferences.MaxHealthyPercentage;
    const minHealthy = Math.ceil((g.desired * minPct) / 100);
    const maxTotal = maxPct === undefined ? g.desired : Math.max(Math.floor((g.desired * maxPct) / 100), g.desired + 1);
    const wanted = Math.min(g.desired, Math.ceil((g.desired * capPercent) / 100));

    while (live().length < maxTotal && live().filter(matches).length < wanted) this.launch(g, target);
    // Old instances go once enough healthy ones remain without them (and, with a maximum, once a new one is up).
    for (const old of live().filter((i) => !matches(i)).sort((a, b) => a.launchedAt - b.launchedAt)) {
      const healthyNow = live().filter((i) => (matches(i) ? ready(i) : healthy(i))).length;
      const surplus = live().length > g.desired || maxPct === undefined;
      if (!surplus || healthyNow - (healthy(old) ? 1 : 0) < minHealthy) break;
      this.terminate(g, old, `At ${new Date(this.time).toISOString()} an instance was taken out of service in response to an instance refresh.`);
      if (maxPct === undefined && live().filter(matches).length < wanted) this.launch(g, target);
    }
    const updated = Math.min(g.desired, live().filter((i) => matches(i) && ready(i)).length);
    r.percentage = Math.floor((updated * 100) / g.desired);
    r.toUpdate = g.desired - updated;
    return updated === g.desired && live().every(matches);
  }
}

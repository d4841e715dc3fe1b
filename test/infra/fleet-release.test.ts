/**
 * The fleet release step's decision logic (ReleaseController) driven against the in-process
 * SIMULATION of the EC2 Auto Scaling and CloudWatch APIs (test/helpers/auto-scaling-simulation.ts,
 * built from AWS's documented behaviour: see its header for the pages). The requests are the ones
 * the FleetRelease component declares (release-plan.ts), the alarms the ones Monitoring gates
 * releases with. Sources for the behaviour checked here:
 *  - EC2 Auto Scaling User Guide, "Undo changes with a manual or auto rollback"
 *  - API Reference: StartInstanceRefresh, RefreshPreferences, DescribeInstanceRefreshes (statuses),
 *    RollbackInstanceRefresh; hashicorp/terraform-provider-aws #29830 and #34189
 */
import * as pulumi from '@pulumi/pulumi';
import { FLEET_DEFAULTS } from '../../infra/aws/fleet';
import { fleetReleaseProvider } from '../../infra/aws/fleet-release';
import { MONITORING_DEFAULTS } from '../../infra/aws/monitoring';
import { ReleaseController, ReleaseError, ReleaseRequest } from '../../infra/aws/release/release-controller';
import { desiredConfiguration, refreshPreferences, ReleasePlanInput } from '../../infra/aws/release/release-plan';
import { STARTUP_BUDGET_SECONDS } from '../../runtime/contract';
import { AutoScalingSimulation, GOOD_RELEASE, ReleaseBehaviour, SimulatedAwsError } from '../helpers/auto-scaling-simulation';

const GROUP = 'onnx-fleet-fleet-asg';
const TEMPLATE = 'lt-0123456789abcdef0';
const UNHEALTHY = 'onnx-fleet-monitoring-unhealthy-hosts-alarm';
const ERRORS = 'onnx-fleet-monitoring-5xx-rate-alarm';
const AMI_1 = 'ami-0aaaaaaaaaaaaaaa1';
const AMI_2 = 'ami-0bbbbbbbbbbbbbbb2';

interface Poll {
  status: string;
  reason?: string;
  groupVersion?: string;
}

/** A group of 4 on version 1, the two gating alarms, and a controller watching every poll. */
function world(desired = 4) {
  const sim = new AutoScalingSimulation();
  sim.createLaunchTemplate(TEMPLATE, { imageId: AMI_1, behaviour: GOOD_RELEASE });
  sim.createGroup({
    name: GROUP, desired, config: { LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '1' } },
    healthCheckGracePeriod: STARTUP_BUDGET_SECONDS, defaultInstanceWarmup: STARTUP_BUDGET_SECONDS, hookTimeoutSeconds: STARTUP_BUDGET_SECONDS + FLEET_DEFAULTS.bootstrapSeconds,
  });
  sim.addAlarm({ name: UNHEALTHY, threshold: 0, evaluationPeriods: 3, periodSeconds: 60, metric: (s) => s.unhealthyHostCount(GROUP) });
  sim.addAlarm({ name: ERRORS, threshold: MONITORING_DEFAULTS.errorRatePercent, evaluationPeriods: 3, periodSeconds: 60, metric: (s) => s.errorRatePercent(GROUP) });
  const polls: Poll[] = [];
  const onPoll: ((p: Poll) => void)[] = [];
  const clock = {
    now: () => sim.now(),
    sleep: async (ms: number) => {
      const r = (await sim.describeInstanceRefreshes({ AutoScalingGroupName: GROUP })).InstanceRefreshes?.[0];
      const poll = { status: r?.Status ?? 'none', reason: r?.StatusReason, groupVersion: sim.snapshot(GROUP).template?.Version };
      polls.push(poll);
      onPoll.forEach((f) => f(poll));
      await sim.sleep(ms);
    },
  };
  const log: string[] = [];
  const controller = (options = {}) => new ReleaseController({ autoScaling: sim, cloudWatch: sim, clock, log: (l) => log.push(l) }, options);
  const plan = (version: number | string, extra: Partial<ReleasePlanInput> = {}): ReleasePlanInput => ({ launchTemplateId: TEMPLATE, version, alarmNames: [UNHEALTHY, ERRORS], instanceWarmupSeconds: STARTUP_BUDGET_SECONDS, ...extra });
  const request = (version: number | string, prefs = {}): ReleaseRequest => ({ groupName: GROUP, desired: desiredConfiguration(plan(version)), preferences: { ...refreshPreferences(plan(version)), ...prefs } });
  const starts = () => sim.calls.filter((c) => c.op === 'StartInstanceRefresh');
  return { sim, polls, onPoll, log, controller, request, starts };
}

async function releaseError(p: Promise<unknown>): Promise<ReleaseError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ReleaseError);
    return err as ReleaseError;
  }
  throw new Error('expected the release to fail');
}

const bad = (b: Partial<ReleaseBehaviour>): ReleaseBehaviour => ({ ...GOOD_RELEASE, ...b });

describe('a healthy release', () => {
  test('rolls through the checkpoints and the bake time; the group takes version 2 only when AWS says Successful', async () => {
    const w = world();
    expect(w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE })).toBe(2);
    const outcome = await w.controller().release(w.request(2));
    expect(outcome).toMatchObject({ kind: 'released', version: '2' });
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '2' }, versions: [2, 2, 2, 2] });
    // What was asked of AWS: a desired configuration at a numbered version, auto rollback on the gating alarms.
    expect(w.starts()).toHaveLength(1);
    expect(w.starts()[0].input).toMatchObject({
      AutoScalingGroupName: GROUP, Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '2' } },
      Preferences: { AutoRollback: true, AlarmSpecification: { Alarms: [UNHEALTHY, ERRORS] }, CheckpointPercentages: [25, 50, 100] },
    });
    // While the release ran, the group still held version 1; it paused at the checkpoints and baked.
    const running = w.polls.filter((p) => ['Pending', 'InProgress', 'Baking'].includes(p.status));
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((p) => p.groupVersion === '1')).toBe(true);
    expect(w.polls.some((p) => /checkpoint: 25 %/.test(p.reason ?? ''))).toBe(true);
    expect(w.polls.some((p) => /checkpoint: 50 %/.test(p.reason ?? ''))).toBe(true);
    expect(w.polls.some((p) => p.status === 'Baking')).toBe(true);
    expect(w.sim.alarmState(ERRORS)).toBe('OK');
  });

  test('running the step again with the released version starts nothing', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    await w.controller().release(w.request(2));
    expect(await w.controller().release(w.request(2))).toEqual({ kind: 'unchanged', version: '2' });
    expect(w.starts()).toHaveLength(1);
  });
});

describe('a bad release is rolled back by AWS and pulumi up fails saying why', () => {
  test('5xx alarm at a checkpoint: RollbackSuccessful, the group stays on version 1, the error names the alarm', async () => {
    const w = world();
    // Errors start once the first new instances are warmed up and counted: while the refresh waits at a checkpoint.
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: bad({ errorRatePercent: 20, errorsAfterSeconds: STARTUP_BUDGET_SECONDS + 100 }) });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.status).toBe('RollbackSuccessful');
    expect(err.message).toContain(`alarm ${ERRORS} went into ALARM`);
    expect(err.message).toContain(`the group stays on launch template ${TEMPLATE} version 1`);
    expect(err.message).toMatch(/Fleet release rolled back/);
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '1' }, versions: [1, 1, 1, 1] });
    // The alarm stopped it while it waited at the first checkpoint, before the rest of the fleet was touched.
    const rollbackAt = w.polls.findIndex((p) => p.status === 'RollbackInProgress');
    expect(rollbackAt).toBeGreaterThan(0);
    expect(w.polls[rollbackAt - 1].reason).toMatch(/Waiting for checkpoint/);
    expect(w.polls.every((p) => p.groupVersion === '1')).toBe(true);
  });

  test('5xx alarm before the first checkpoint: stopped with most of the fleet untouched', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: bad({ errorRatePercent: 20 }) });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.message).toContain(`alarm ${ERRORS} went into ALARM`);
    expect(w.polls.some((p) => /checkpoint/.test(p.reason ?? ''))).toBe(false);
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '1' }, versions: [1, 1, 1, 1] });
  });

  test('5xx alarm during the bake time: rolled back after every instance was replaced', async () => {
    const w = world();
    const behaviour = bad({});
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour });
    // The new release degrades under load once the whole fleet runs it.
    w.onPoll.push((p) => {
      if (p.status === 'Baking') behaviour.errorRatePercent = 20;
    });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.status).toBe('RollbackSuccessful');
    expect(err.message).toContain(`alarm ${ERRORS} went into ALARM`);
    const statuses = [...new Set(w.polls.map((p) => p.status))];
    expect(statuses.indexOf('Baking')).toBeLessThan(statuses.indexOf('RollbackInProgress'));
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '1' }, versions: [1, 1, 1, 1] });
  });

  test('a runtime that never gets ready (launch hook abandoned): rolled back, the error quotes the health failures', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: bad({ ready: false }) });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.status).toBe('RollbackSuccessful');
    expect(err.message).toMatch(/health: Launching a new EC2 instance: i-[0-9a-f]{17}: Instance failed to complete user's Lifecycle Action: .*ABANDON Result/);
    expect(err.message).toContain('replacement instances failed to launch or to pass health checks');
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '1' }, versions: [1, 1, 1, 1] });
  });

  test('instances failing the ELB health check after they joined: rolled back, the error says so', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: bad({ failsHealthCheckAfterSeconds: 400 }) });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.status).toBe('RollbackSuccessful');
    expect(err.message).toContain('in response to an ELB system health check failure');
    expect(w.sim.snapshot(GROUP).template).toEqual({ LaunchTemplateId: TEMPLATE, Version: '1' });
  });

  test('a rollback restores the previous release, not the first one', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    await w.controller().release(w.request(2));
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: bad({ errorRatePercent: 50 }) });
    const err = await releaseError(w.controller().release(w.request(3)));
    expect(err.message).toContain(`stays on launch template ${TEMPLATE} version 2`);
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '2' }, versions: [2, 2, 2, 2] });
  });

  test('a release still running at the time limit is rolled back by the step (RollbackInstanceRefresh)', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    const err = await releaseError(w.controller({ timeoutSeconds: 900 }).release(w.request(2, { CheckpointDelay: 3600 })));
    expect(err.status).toBe('RollbackSuccessful');
    expect(err.message).toContain('still running after 900 s, so the release step rolled it back');
    expect(err.message).toContain('Rollback initiated by RollbackInstanceRefresh');
    expect(w.sim.calls.filter((c) => c.op === 'RollbackInstanceRefresh')).toHaveLength(1);
    expect(w.sim.snapshot(GROUP)).toEqual({ template: { LaunchTemplateId: TEMPLATE, Version: '1' }, versions: [1, 1, 1, 1] });
  });
});

describe('AWS refuses what it cannot roll back, and the step reports it before touching the group', () => {
  test.each<[string, (w: ReturnType<typeof world>) => ReleaseRequest, RegExp]>([
    ['$Latest as the desired version', (w) => w.request('$Latest'), /ValidationError: .*got "\$Latest", expected a specific numbered version/],
    ['$Default as the desired version', (w) => w.request('$Default'), /ValidationError: .*AutoRollback is not supported with \$Latest or \$Default/],
    ['an SSM-parameter AMI in the new version', (w) => {
      w.sim.createTemplateVersion(TEMPLATE, { imageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', behaviour: GOOD_RELEASE });
      return w.request(3);
    }, /ValidationError: .*ImageId "resolve:ssm:.*" is an SSM parameter/],
    ['checkpoints out of order', (w) => w.request(1, { CheckpointPercentages: [50, 25, 100] }), /ValidationError: .*expected unique values in ascending order/],
    ['checkpoints that stop short of 100', (w) => w.request(1, { CheckpointPercentages: [25, 50] }), /ValidationError: .*expected the last value to be 100/],
    ['a maximum above 200 %', (w) => w.request(1, { MaxHealthyPercentage: 250 }), /ValidationError: .*MaxHealthyPercentage: got 250, expected an integer from 100 to 200/],
    ['a healthy spread above 100', (w) => w.request(1, { MinHealthyPercentage: 0, MaxHealthyPercentage: 150 }), /ValidationError: .*got 150 − 0 = 150, expected at most 100/],
    ['eleven alarms', (w) => w.request(1, { AlarmSpecification: { Alarms: Array.from({ length: 11 }, (_, i) => `a${i}`) } }), /ValidationError: .*got 11 alarms, expected 1 to 10/],
  ])('%s', async (_name, build, message) => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    const req = build(w);
    // Releasing the group's own version is a no-op whatever the preferences: ask for the other one.
    if (req.desired.LaunchTemplate!.Version === '1') req.desired.LaunchTemplate!.Version = '2';
    const err = await releaseError(w.controller().release(req));
    expect(err.status).toBe('NotStarted');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`(group on launch template ${TEMPLATE} version 1)`);
    expect((await w.sim.describeInstanceRefreshes({ AutoScalingGroupName: GROUP })).InstanceRefreshes).toEqual([]);
    expect(w.sim.snapshot(GROUP).template?.Version).toBe('1');
  });

  test('AutoRollback without a desired configuration is a ValidationError (#29830)', async () => {
    const w = world();
    await expect(w.sim.startInstanceRefresh({ AutoScalingGroupName: GROUP, Preferences: { AutoRollback: true } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty.'),
    });
  });

  test('a group on $Latest has no numbered version to roll back to', async () => {
    const sim = new AutoScalingSimulation();
    sim.createLaunchTemplate(TEMPLATE, { imageId: AMI_1, behaviour: GOOD_RELEASE });
    sim.createGroup({ name: GROUP, desired: 2, config: { LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '$Latest' } }, healthCheckGracePeriod: 300, hookTimeoutSeconds: 600 });
    sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    const preferences = refreshPreferences({ launchTemplateId: TEMPLATE, version: 2, alarmNames: [ERRORS], instanceWarmupSeconds: 300 });
    await expect(sim.startInstanceRefresh({ AutoScalingGroupName: GROUP, DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '2' } }, Preferences: preferences }))
      .rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining(`the group's launch template version is "$Latest"`) });
    await expect(sim.rollbackInstanceRefresh({ AutoScalingGroupName: GROUP })).rejects.toBeInstanceOf(SimulatedAwsError);
  });
});

describe('one active instance refresh per group', () => {
  test('another release in flight: the step names it and how to cancel it; AWS answers InstanceRefreshInProgress', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    const other = w.request(3);
    const { InstanceRefreshId } = await w.sim.startInstanceRefresh({ AutoScalingGroupName: GROUP, DesiredConfiguration: other.desired, Preferences: other.preferences });
    await expect(w.sim.startInstanceRefresh({ AutoScalingGroupName: GROUP, DesiredConfiguration: other.desired, Preferences: other.preferences })).rejects.toMatchObject({ name: 'InstanceRefreshInProgressFault' });
    const err = await releaseError(w.controller().release(w.request(2)));
    expect(err.status).toBe('NotStarted');
    expect(err.message).toContain(`instance refresh ${InstanceRefreshId} (Pending, launch template ${TEMPLATE} version 3) is already active`);
    expect(err.message).toContain(`aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${GROUP}`);
  });

  test('the same release already in flight (an interrupted pulumi up) is followed, not started twice', async () => {
    const w = world();
    w.sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
    const req = w.request(2);
    await w.sim.startInstanceRefresh({ AutoScalingGroupName: GROUP, Strategy: 'Rolling', DesiredConfiguration: req.desired, Preferences: req.preferences });
    await w.sim.sleep(600_000);
    expect(await w.controller().release(req)).toMatchObject({ kind: 'released', version: '2' });
    expect(w.starts()).toHaveLength(1);
    expect(w.log.some((l) => /following instance refresh/.test(l))).toBe(true);
  });

  test('RollbackInstanceRefresh with nothing active: ActiveInstanceRefreshNotFoundFault', async () => {
    const w = world();
    await expect(w.sim.rollbackInstanceRefresh({ AutoScalingGroupName: GROUP })).rejects.toMatchObject({ name: 'ActiveInstanceRefreshNotFoundFault' });
  });
});

test('a spot group releases its mixed instances policy: types and On-Demand split reach the group on success', async () => {
  const sim = new AutoScalingSimulation();
  sim.createLaunchTemplate(TEMPLATE, { imageId: AMI_1, behaviour: GOOD_RELEASE });
  const plan = (version: number, instanceTypes: string[]): ReleasePlanInput => ({ launchTemplateId: TEMPLATE, version, alarmNames: [ERRORS], instanceWarmupSeconds: 300, mixedInstances: { instanceTypes, onDemandBase: 1, onDemandPercentage: 25 } });
  sim.createGroup({ name: GROUP, desired: 2, config: desiredConfiguration(plan(1, ['c7i.large'])), healthCheckGracePeriod: 300, defaultInstanceWarmup: 300, hookTimeoutSeconds: 600 });
  sim.addAlarm({ name: ERRORS, threshold: 1, evaluationPeriods: 3, periodSeconds: 60, metric: (s) => s.errorRatePercent(GROUP) });
  sim.createTemplateVersion(TEMPLATE, { imageId: AMI_2, behaviour: GOOD_RELEASE });
  const controller = new ReleaseController({ autoScaling: sim, cloudWatch: sim, clock: sim });
  const next = plan(2, ['c7i.large', 'm7i.large']);
  await controller.release({ groupName: GROUP, desired: desiredConfiguration(next), preferences: refreshPreferences(next) });
  const group = (await sim.describeAutoScalingGroups({ AutoScalingGroupNames: [GROUP] })).AutoScalingGroups![0];
  expect(group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification).toEqual({ LaunchTemplateId: TEMPLATE, Version: '2' });
  expect(group.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType)).toEqual(['c7i.large', 'm7i.large']);
  // A changed spot mix on the same template version is a release too.
  const mix = plan(2, ['m7i.large']);
  expect(await controller.release({ groupName: GROUP, desired: desiredConfiguration(mix), preferences: refreshPreferences(mix) })).toMatchObject({ kind: 'released' });
});

describe('the serialized dynamic provider (what the Pulumi engine runs)', () => {
  let provider: typeof fleetReleaseProvider;
  beforeAll(async () => {
    const { text } = await pulumi.runtime.serializeFunction(() => fleetReleaseProvider);
    const module = { exports: {} as { handler: () => typeof fleetReleaseProvider } };
    new Function('exports', 'require', 'module', text)(module.exports, require, module);
    provider = module.exports.handler();
  }, 60_000);

  const inputs = (version: string) => ({
    region: 'us-east-1', groupName: GROUP,
    desiredConfiguration: desiredConfiguration({ launchTemplateId: TEMPLATE, version, alarmNames: [ERRORS], instanceWarmupSeconds: 300 }),
    preferences: refreshPreferences({ launchTemplateId: TEMPLATE, version, alarmNames: [ERRORS], instanceWarmupSeconds: 300 }),
  });

  test('check() fails a preview on what AWS would refuse', async () => {
    expect((await provider.check!({}, inputs('2'))).failures).toEqual([]);
    const failures = (await provider.check!({}, inputs('$Latest'))).failures!;
    expect(failures.map((f) => f.reason).join(' ')).toMatch(/specific numbered version/);
    const spread = { ...inputs('2'), preferences: { ...inputs('2').preferences, MinHealthyPercentage: 0 } };
    expect((await provider.check!({}, spread)).failures!.map((f) => f.reason).join(' ')).toMatch(/expected at most 100 \(EC2 Auto Scaling API Reference, RefreshPreferences\)/);
  });

  test('check() leaves a version not known yet (a preview before the template update) to the update', async () => {
    const pending = inputs('2');
    pending.desiredConfiguration.LaunchTemplate!.Version = pulumi.runtime.unknownValue as string;
    expect((await provider.check!({}, pending)).failures).toEqual([]);
    expect((await provider.check!({}, { ...inputs('2'), desiredConfiguration: pulumi.runtime.unknownValue })).failures).toEqual([]);
  });

  test('diff(): a new version is an in-place update (a release), a new group a replacement', async () => {
    expect(await provider.diff!(GROUP, inputs('2'), inputs('2'))).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff!(GROUP, inputs('2'), inputs('3'))).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff!(GROUP, inputs('2'), { ...inputs('2'), groupName: 'other' })).toMatchObject({ changes: true, replaces: ['groupName'] });
  });

});

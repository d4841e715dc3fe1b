/**
 * The fleet's release step. `pulumi up` does not hand a new launch template version to the Auto
 * Scaling group (the group ignores changes to its version, see fleet.ts): this resource starts the
 * instance refresh itself with the new numbered version as its desired configuration, auto rollback
 * and the gating alarms, waits for AWS's outcome, and fails `pulumi up` with the alarm or health
 * reason when AWS rolled the release back. AWS stores the new version on the group only when the
 * refresh succeeds; a rollback leaves the group on the release it ran before.
 *
 * Backed by a Pulumi dynamic provider that drives ReleaseController with the AWS SDK; the decision
 * logic lives in that class so tests can drive it against a simulation of the Auto Scaling API
 * (a dynamic provider never runs under mocks).
 */
import * as pulumi from '@pulumi/pulumi';
import type { DesiredConfiguration, RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import { desiredTemplate, isNumberedVersion, preferenceViolations, rollbackViolations } from './release/instance-refresh-rules';
import { ReleaseController } from './release/release-controller';
import { desiredConfiguration, MixedInstancesPlan, refreshPreferences } from './release/release-plan';

export interface FleetReleaseArgs {
  region: string;
  groupName: pulumi.Input<string>;
  launchTemplateId: pulumi.Input<string>;
  /** The template's latest version number: each new version is a release. */
  launchTemplateVersion: pulumi.Input<number>;
  alarmNames: pulumi.Input<string>[];
  instanceWarmupSeconds: number;
  mixedInstances?: MixedInstancesPlan;
}

/** What the provider receives and stores: the exact StartInstanceRefresh request parts. */
interface ReleaseInputs {
  region: string;
  groupName: string;
  desiredConfiguration: DesiredConfiguration;
  preferences: RefreshPreferences;
}

/**
 * How the engine hands a dynamic provider a value not known yet (`pulumi.runtime.unknownValue`):
 * during a preview the new template version is unknown until the template is updated.
 */
const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

/** Problems AWS would reject the request for, as `pulumi preview` check failures (judged once known). */
function checkRelease(inputs: ReleaseInputs): { property: string; reason: string }[] {
  if (JSON.stringify(inputs).includes(UNKNOWN)) return [];
  const version = desiredTemplate(inputs.desiredConfiguration)?.Version;
  const failures = [...preferenceViolations(inputs.preferences), ...rollbackViolations(inputs.desiredConfiguration, inputs.preferences)].map((v) => ({ property: 'preferences', reason: `${v.message} (${v.source})` }));
  if (!isNumberedVersion(version)) failures.push({ property: 'desiredConfiguration', reason: `launch template version ${JSON.stringify(version)}: a release needs a specific numbered version (AWS cannot roll back $Latest or $Default)` });
  return failures;
}

/** Runs in the Pulumi dynamic provider host: the SDK is required there, not captured. */
async function runRelease(inputs: ReleaseInputs): Promise<{ releasedVersion: string; instanceRefreshId: string }> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { AutoScaling } = require('@aws-sdk/client-auto-scaling') as typeof import('@aws-sdk/client-auto-scaling');
  const { CloudWatch } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const controller = new ReleaseController({
    autoScaling: new AutoScaling({ region: inputs.region }),
    cloudWatch: new CloudWatch({ region: inputs.region }),
    clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    log: (line) => process.stderr.write(`fleet release: ${line}\n`),
  });
  const outcome = await controller.release({ groupName: inputs.groupName, desired: inputs.desiredConfiguration, preferences: inputs.preferences });
  return { releasedVersion: outcome.version, instanceRefreshId: outcome.kind === 'released' ? outcome.instanceRefreshId : '' };
}

const RELEASE_KEYS = ['desiredConfiguration', 'preferences'] as const;

/** Exported for the tests, which run its serialized form as the engine would. */
export const fleetReleaseProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: ReleaseInputs, news: ReleaseInputs) {
    return { inputs: news, failures: checkRelease(news) };
  },
  async diff(_id: string, olds: ReleaseInputs, news: ReleaseInputs) {
    const changed = RELEASE_KEYS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const replaces = (['region', 'groupName'] as const).filter((k) => olds[k] !== news[k]);
    return { changes: changed.length + replaces.length > 0, replaces: [...replaces], deleteBeforeReplace: false };
  },
  async create(inputs: ReleaseInputs) {
    // A new group already launched this version; a stack adopting the step releases it if not.
    return { id: inputs.groupName, outs: { ...inputs, ...(await runRelease(inputs)) } };
  },
  async update(_id: string, _olds: ReleaseInputs, news: ReleaseInputs) {
    return { outs: { ...news, ...(await runRelease(news)) } };
  },
  async delete() {
    // Nothing to undo: the group and its template are deleted by their own resources.
  },
};

class FleetReleaseResource extends pulumi.dynamic.Resource {
  declare readonly releasedVersion: pulumi.Output<string>;
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(fleetReleaseProvider, name, { ...props, releasedVersion: undefined, instanceRefreshId: undefined }, opts, 'fleet', 'Release');
  }
}

export class FleetRelease extends pulumi.ComponentResource {
  readonly release: FleetReleaseResource;
  /** The launch template version the group runs once this step has succeeded. */
  readonly releasedVersion: pulumi.Output<string>;

  constructor(name: string, args: FleetReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:FleetRelease', name, {}, opts);
    const plan = pulumi.all([args.launchTemplateId, args.launchTemplateVersion, pulumi.all(args.alarmNames)]).apply(([launchTemplateId, version, alarmNames]) => {
      const input = { launchTemplateId, version, alarmNames, instanceWarmupSeconds: args.instanceWarmupSeconds, mixedInstances: args.mixedInstances };
      const inputs = { region: args.region, groupName: '', desiredConfiguration: desiredConfiguration(input), preferences: refreshPreferences(input) };
      // Fail the program (and so `pulumi preview`) on anything AWS would refuse to start.
      const failures = checkRelease(inputs);
      if (failures.length) throw new Error(`FleetRelease ${name}: ${failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`);
      return inputs;
    });
    this.release = new FleetReleaseResource(
      name,
      { region: args.region, groupName: args.groupName, desiredConfiguration: plan.desiredConfiguration, preferences: plan.preferences },
      // A release can take hours: checkpoints, warmups and the bake time.
      { parent: this, customTimeouts: { create: '6h', update: '6h' } },
    );
    this.releasedVersion = this.release.releasedVersion;
    this.registerOutputs({ releasedVersion: this.releasedVersion });
  }
}

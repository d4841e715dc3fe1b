/**
 * Elasticity and disruption for the runtime Deployment: an autoscaling/v2 HPA on CPU and on the
 * runtime's saturation signal per pod (onnx_fleet_saturation, (in-flight + queued) / workers: the
 * metric and the target the AWS fleet's target tracking uses, exposed to the HPA by
 * prometheus-adapter with the rule shipped here), tuned for bursts; and a PDB.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { SATURATION_METRIC } from '../../runtime/contract';

/** The pods metric the HPA reads: the runtime's own name, unchanged by prometheus-adapter. */
export const SATURATION_POD_METRIC = SATURATION_METRIC.saturation;

/** prometheus-adapter rule: each pod's saturation gauge, as the runtime exports it. */
export function prometheusAdapterRule(): Record<string, unknown> {
  return {
    seriesQuery: `${SATURATION_METRIC.saturation}{namespace!="",pod!=""}`,
    resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
    name: { matches: `^${SATURATION_METRIC.saturation}$`, as: SATURATION_POD_METRIC },
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)',
  };
}

export interface RuntimeScalingArgs {
  namespace: pulumi.Input<string>;
  deploymentName: pulumi.Input<string>;
  selector: Record<string, string>;
  /** Default 2: one pod may be disrupted while one serves. */
  minReplicas?: number;
  /** Default 10. */
  maxReplicas?: number;
  /** Target average CPU utilisation, percent. Default 60. */
  targetCpuPercent?: number;
  /** Target average saturation per pod (the stack's scaling.saturationTarget, as on AWS). Default 4. */
  targetSaturation?: number;
}

export const RUNTIME_SCALING_DEFAULTS = { minReplicas: 2, maxReplicas: 10, targetCpuPercent: 60, targetSaturation: 4 };

export class RuntimeScaling extends pulumi.ComponentResource {
  readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  readonly pdb: k8s.policy.v1.PodDisruptionBudget;
  readonly adapterRules: k8s.core.v1.ConfigMap;

  constructor(name: string, args: RuntimeScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:RuntimeScaling', name, {}, opts);
    const d = { ...RUNTIME_SCALING_DEFAULTS, ...Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) } as Required<RuntimeScalingArgs>;
    if (d.maxReplicas < d.minReplicas) throw new Error(`RuntimeScaling ${name}: maxReplicas (${d.maxReplicas}) must be ≥ minReplicas (${d.minReplicas})`);

    this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      name,
      {
        metadata: { namespace: args.namespace },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: args.deploymentName },
          minReplicas: d.minReplicas,
          maxReplicas: d.maxReplicas,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: d.targetCpuPercent } } },
            { type: 'Pods', pods: { metric: { name: SATURATION_POD_METRIC }, target: { type: 'AverageValue', averageValue: String(d.targetSaturation) } } },
          ],
          behavior: {
            // Bursts: double (or +4 pods) every 15 s with no stabilisation; shrink slowly, 10 % a minute after 5 quiet minutes.
            scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] },
            scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
          },
        },
      },
      { parent: this },
    );

    this.pdb = new k8s.policy.v1.PodDisruptionBudget(
      name,
      {
        metadata: { namespace: args.namespace },
        spec: {
          maxUnavailable: 1,
          selector: { matchLabels: args.selector },
          // A pod that is not ready serves nothing: evicting it never hurts and must not block node drains.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      },
      { parent: this },
    );

    this.adapterRules = new k8s.core.v1.ConfigMap(
      `${name}-adapter-rules`,
      {
        metadata: { namespace: args.namespace, labels: { 'app.kubernetes.io/part-of': 'onnx-fleet', 'onnx-fleet/prometheus-adapter-rules': 'true' } },
        data: { 'rules.yaml': pulumi.output(JSON.stringify({ rules: [prometheusAdapterRule()] }, null, 2)) },
      },
      { parent: this },
    );
    this.registerOutputs({ hpa: this.hpa.metadata.name, pdb: this.pdb.metadata.name });
  }
}

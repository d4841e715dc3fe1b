/**
 * The runtime as a Kubernetes workload: a Deployment whose probes, preStop hook and grace period
 * come from the runtime's contract, and the Service in front of it. Models come from the model
 * store (S3, polled into a per-pod cache), a read-only claim, or the image's /models: never from
 * the pod template, so a model release changes no pod and starts no rollout.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  DEFAULT_PORT,
  DRAIN_DELAY_SECONDS,
  ENV,
  HEALTH_CHECK,
  HEALTH_LIVE_PATH,
  HEALTH_READY_PATH,
  METRICS_PATH,
  STARTUP_BUDGET_SECONDS,
  ModelControlMode,
  STOP_TIMEOUT_SECONDS,
} from '../../runtime/contract';

/** Where the model repository is mounted in the container (a claim, or the image's own). */
export const MODEL_MOUNT_PATH = '/models';
/** Where a pod keeps its copy of the model store. */
export const MODEL_CACHE_PATH = '/var/lib/onnx-fleet/model-cache';
/** Where the projected service account token for IAM roles for service accounts is mounted (EKS's path). */
export const WEB_IDENTITY_TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';

export interface ResourceSpec {
  cpu: string;
  memory: string;
}

export interface RuntimeWorkloadArgs {
  namespace: pulumi.Input<string>;
  /** Container image of the runtime (see the repository's Dockerfile). */
  image: pulumi.Input<string>;
  /** Initial replicas; the HPA owns the count afterwards. Default 2. */
  replicas?: number;
  /** Requests = limits for CPU-bound inference (Guaranteed QoS). Default 2 CPU / 2Gi. */
  resources?: ResourceSpec;
  /** A PersistentVolumeClaim holding the model repository, mounted read-only; absent = the store, else the image's /models. */
  modelClaimName?: pulumi.Input<string>;
  /** The model store the runtime polls (`s3://bucket/prefix[?endpoint=…]`), cached in an emptyDir of `cacheSize`. */
  modelStore?: { location: string; cacheSize: string };
  /** How the runtime follows its repository (Triton's model control mode) and how often it polls. */
  modelControl?: { mode: ModelControlMode; pollSecs: number };
  /**
   * IAM roles for service accounts: the ServiceAccount (annotated with the role) the pods run as; the
   * SDK's web identity credentials come from a projected token of audience sts.amazonaws.com.
   */
  webIdentity?: { serviceAccountName: pulumi.Input<string>; roleArn: string };
  /** Extra runtime environment (ONNX_FLEET_* from the contract). */
  env?: Record<string, pulumi.Input<string>>;
  /** Environment taken from Secrets: variable → {secret name, key}. */
  secretEnv?: Record<string, { name: pulumi.Input<string>; key: string }>;
  /** Pod labels; `app.kubernetes.io/name` and `track` are added. */
  labels?: Record<string, string>;
  /** `stable` or `canary`: lets a canary Deployment run beside the stable one. Default stable. */
  track?: 'stable' | 'canary';
  /** Spread pods across zones (hard) and nodes (soft). Default true. */
  spreadAcrossZones?: boolean;
}

export const RUNTIME_WORKLOAD_DEFAULTS = {
  replicas: 2,
  resources: { cpu: '2', memory: '2Gi' } as ResourceSpec,
  track: 'stable' as const,
  spreadAcrossZones: true,
};

/** Probe period/threshold arithmetic shared with the AWS target group. */
export function probes(): Pick<k8s.types.input.core.v1.Container, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  const http = (path: string) => ({ httpGet: { path, port: 'http' } });
  return {
    // Covers model load + warmup: the pod gets the whole startup budget before liveness may judge it.
    startupProbe: { ...http(HEALTH_READY_PATH), periodSeconds: HEALTH_CHECK.intervalSeconds, timeoutSeconds: HEALTH_CHECK.timeoutSeconds, failureThreshold: Math.ceil(STARTUP_BUDGET_SECONDS / HEALTH_CHECK.intervalSeconds) },
    readinessProbe: { ...http(HEALTH_READY_PATH), periodSeconds: HEALTH_CHECK.intervalSeconds, timeoutSeconds: HEALTH_CHECK.timeoutSeconds, successThreshold: 1, failureThreshold: HEALTH_CHECK.unhealthyThreshold },
    livenessProbe: { ...http(HEALTH_LIVE_PATH), periodSeconds: HEALTH_CHECK.intervalSeconds * 2, timeoutSeconds: HEALTH_CHECK.timeoutSeconds, failureThreshold: 3 },
  };
}

export class RuntimeWorkload extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly selector: Record<string, string>;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: RuntimeWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:RuntimeWorkload', name, {}, opts);
    const d = RUNTIME_WORKLOAD_DEFAULTS;
    const track = args.track ?? d.track;
    const resources = args.resources ?? d.resources;
    this.selector = { 'app.kubernetes.io/name': 'onnx-fleet', 'app.kubernetes.io/instance': name, track };
    const labels = { ...(args.labels ?? {}), ...this.selector, 'app.kubernetes.io/component': 'runtime' };

    const env: k8s.types.input.core.v1.EnvVar[] = [
      { name: ENV.host, value: '0.0.0.0' },
      { name: ENV.port, value: String(DEFAULT_PORT) },
      { name: ENV.modelRepository, value: args.modelStore && !args.modelClaimName ? args.modelStore.location : MODEL_MOUNT_PATH },
      ...(args.modelControl ? [{ name: ENV.modelControlMode, value: args.modelControl.mode }, { name: ENV.repositoryPollSecs, value: String(args.modelControl.pollSecs) }] : []),
      ...(args.modelStore && !args.modelClaimName ? [{ name: ENV.modelCacheDir, value: MODEL_CACHE_PATH }] : []),
      ...(args.webIdentity ? [{ name: 'AWS_ROLE_ARN', value: args.webIdentity.roleArn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${WEB_IDENTITY_TOKEN_DIR}/token` }] : []),
      { name: ENV.drainDelaySeconds, value: String(DRAIN_DELAY_SECONDS) },
      ...Object.entries(args.env ?? {}).map(([k, value]) => ({ name: k, value })),
      ...Object.entries(args.secretEnv ?? {}).map(([k, ref]) => ({ name: k, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } })),
    ];
    const volumes: k8s.types.input.core.v1.Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }, { name: 'state', emptyDir: { sizeLimit: '2Gi' } }];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }, { name: 'state', mountPath: '/var/lib/onnx-fleet' }];
    if (args.modelClaimName) {
      volumes.push({ name: 'models', persistentVolumeClaim: { claimName: args.modelClaimName, readOnly: true } });
      mounts.push({ name: 'models', mountPath: MODEL_MOUNT_PATH, readOnly: true });
    } else if (args.modelStore) {
      volumes.push({ name: 'model-cache', emptyDir: { sizeLimit: args.modelStore.cacheSize } });
      mounts.push({ name: 'model-cache', mountPath: MODEL_CACHE_PATH });
    }
    if (args.webIdentity) {
      // What EKS's pod identity webhook would inject, declared here so the pod does not depend on it
      // (and the API token stays unmounted): https://docs.aws.amazon.com/eks/latest/userguide/pod-configuration.html
      volumes.push({ name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86_400, path: 'token' } }] } });
      mounts.push({ name: 'aws-iam-token', mountPath: WEB_IDENTITY_TOKEN_DIR, readOnly: true });
    }

    const spread = args.spreadAcrossZones ?? d.spreadAcrossZones;
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}`,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          replicas: args.replicas ?? d.replicas,
          selector: { matchLabels: this.selector },
          // Never below the wanted capacity during a rollout: surge first, then drain the old pod.
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
          minReadySeconds: HEALTH_CHECK.intervalSeconds,
          template: {
            metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(DEFAULT_PORT), 'prometheus.io/path': METRICS_PATH } },
            spec: {
              // The drain runs in preStop (endpoints removal races the SIGTERM), then the runtime's own drain: cover both.
              terminationGracePeriodSeconds: DRAIN_DELAY_SECONDS + STOP_TIMEOUT_SECONDS,
              automountServiceAccountToken: false,
              serviceAccountName: args.webIdentity?.serviceAccountName,
              enableServiceLinks: false,
              securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
              topologySpreadConstraints: spread
                ? [
                    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: this.selector } },
                    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: this.selector } },
                  ]
                : undefined,
              containers: [
                {
                  name: 'runtime',
                  image: args.image,
                  args: ['serve'],
                  ports: [{ name: 'http', containerPort: DEFAULT_PORT, protocol: 'TCP' }],
                  env,
                  resources: { requests: { cpu: resources.cpu, memory: resources.memory }, limits: { cpu: resources.cpu, memory: resources.memory } },
                  ...probes(),
                  // Keep serving while the endpoint disappears from every proxy; the runtime then drains on SIGTERM.
                  lifecycle: { preStop: { sleep: { seconds: DRAIN_DELAY_SECONDS } } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } },
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
      { parent: this },
    );

    this.service = new k8s.core.v1.Service(
      `${name}`,
      {
        metadata: { namespace: args.namespace, labels },
        spec: { selector: this.selector, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
      },
      { parent: this },
    );
    this.serviceName = this.service.metadata.name;
    this.registerOutputs({ deployment: this.deployment.metadata.name, service: this.serviceName });
  }
}

/**
 * The Kubernetes target: the same platform as the AWS one, on an existing cluster — the runtime
 * Deployment with contract-derived probes and drain, HPA + PDB, Ingress (optionally a weighted
 * canary), a CloudNativePG database (or an external one) and NetworkPolicies.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ENV } from '../../runtime/contract';
import { DEFAULT_MAX_BODY_BYTES } from '../../runtime/config';
import type { StackConfig } from '../config';
import { CnpgDatabase, POSTGRES_PORT } from './cnpg-database';
import { NetworkPolicies } from './network-policies';
import { RuntimeScaling } from './runtime-scaling';
import { RuntimeWorkload } from './runtime-workload';
import { Traffic } from './traffic';

export interface KubernetesPlatformArgs {
  config: StackConfig;
  stack: string;
}

export class KubernetesPlatform extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly writerHost: pulumi.Output<string>;
  readonly readerHost: pulumi.Output<string>;
  readonly shardBuckets: string[];
  /** The model store the pods poll, when the stack has one. */
  readonly modelStore?: string;

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:Platform', name, {}, opts);
    const c = args.config;
    const kc = c.kubernetes!;
    const provider = new k8s.Provider(`${name}-cluster`, { context: kc.context, enableServerSideApply: true }, { parent: this });
    const parent = { parent: this, provider };
    const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: kc.namespace, labels: { 'app.kubernetes.io/part-of': 'onnx-fleet', 'onnx-fleet/environment': c.environment } } }, parent);
    const namespace = ns.metadata.name;

    // Database: in-cluster CloudNativePG (writer = -rw, readers = -ro), or an external endpoint.
    let writerHost: pulumi.Output<string>;
    let readerHost: pulumi.Output<string>;
    let secretName: pulumi.Input<string>;
    let database: CnpgDatabase | undefined;
    if (kc.database.mode === 'cnpg') {
      database = new CnpgDatabase(`${name}-db`, { namespace, replicas: c.database.readers, storageSize: kc.database.storageSize }, parent);
      writerHost = database.writerHost;
      readerHost = database.readerHost;
      secretName = database.appSecretName;
    } else {
      writerHost = pulumi.output(kc.database.writerHost!);
      readerHost = pulumi.output(kc.database.readerHost ?? kc.database.writerHost!);
      secretName = kc.database.secretName!;
    }

    this.shardBuckets = Array.from({ length: c.shards }, (_, i) => `${kc.storage.bucketPrefix}-${i}`);
    const endpoint = kc.storage.endpoint ? `?endpoint=${encodeURIComponent(kc.storage.endpoint)}` : '';
    const dbUrl = (host: pulumi.Output<string>) => pulumi.interpolate`postgresql://$(DB_USER):$(DB_PASSWORD)@${host}:${POSTGRES_PORT}/onnx_fleet?sslmode=require`;

    // S3 credentials (model store and shards): an IAM role for the pods' service account, else static keys from a Secret.
    const serviceAccount = kc.serviceAccountRoleArn
      ? new k8s.core.v1.ServiceAccount(`${name}-runtime`, { metadata: { name: `${name}-runtime`, namespace, annotations: { 'eks.amazonaws.com/role-arn': kc.serviceAccountRoleArn } }, automountServiceAccountToken: false }, parent)
      : undefined;
    const workloadArgs = {
      namespace,
      image: kc.image,
      replicas: c.minSize,
      resources: { cpu: kc.cpu, memory: kc.memory },
      modelClaimName: kc.modelClaim,
      modelStore: c.modelStore.location ? { location: c.modelStore.location, cacheSize: kc.modelCacheSize } : undefined,
      modelControl: { mode: c.modelControlMode, pollSecs: c.repositoryPollSecs },
      webIdentity: serviceAccount ? { serviceAccountName: serviceAccount.metadata.name, roleArn: kc.serviceAccountRoleArn! } : undefined,
      // $(DB_USER)/$(DB_PASSWORD) are expanded by the kubelet from the Secret-backed variables below.
      secretEnv: {
        DB_USER: { name: secretName, key: 'username' },
        DB_PASSWORD: { name: secretName, key: 'password' },
        ...(serviceAccount
          ? {}
          : {
              AWS_ACCESS_KEY_ID: { name: kc.storage.credentialsSecret, key: 'AWS_ACCESS_KEY_ID' },
              AWS_SECRET_ACCESS_KEY: { name: kc.storage.credentialsSecret, key: 'AWS_SECRET_ACCESS_KEY' },
            }),
      },
      env: {
        AWS_REGION: c.region,
        [ENV.captureShards]: this.shardBuckets.map((b) => `s3://${b}${endpoint}`).join(','),
        [ENV.captureJournalDir]: '/var/lib/onnx-fleet/journal',
        [ENV.databaseWriterUrl]: dbUrl(writerHost),
        [ENV.databaseReaderUrls]: dbUrl(readerHost),
      },
    };
    const workload = new RuntimeWorkload(`${name}-runtime`, workloadArgs, { ...parent, dependsOn: database ? [database] : [] });
    new RuntimeScaling(`${name}-runtime`, {
      namespace,
      deploymentName: workload.deployment.metadata.name,
      selector: workload.selector,
      minReplicas: c.minSize,
      maxReplicas: c.maxSize,
      targetCpuPercent: c.scaling.cpuTarget,
      targetSaturation: c.scaling.saturationTarget,
    }, parent);

    let canary: RuntimeWorkload | undefined;
    if (c.canaryWeight > 0) canary = new RuntimeWorkload(`${name}-canary`, { ...workloadArgs, replicas: 1, track: 'canary' }, parent);
    new Traffic(`${name}-ingress`, {
      namespace,
      ingressClassName: kc.ingressClass,
      host: kc.host,
      stableService: workload.serviceName,
      canary: canary ? { service: canary.serviceName, weight: c.canaryWeight } : undefined,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    }, parent);

    new NetworkPolicies(`${name}-netpol`, {
      namespace,
      // Both tracks share the instance-independent name label.
      runtimeSelector: { 'app.kubernetes.io/name': 'onnx-fleet', 'app.kubernetes.io/component': 'runtime' },
      ingressNamespace: kc.ingressNamespace,
      monitoringNamespace: kc.monitoringNamespace,
      database: database ? { podSelector: database.podSelector, operatorNamespace: kc.database.operatorNamespace } : undefined,
    }, parent);

    this.namespace = namespace;
    this.serviceName = workload.serviceName;
    this.writerHost = writerHost;
    this.readerHost = readerHost;
    this.modelStore = c.modelStore.location;
    this.registerOutputs({ namespace, serviceName: this.serviceName, writerHost, readerHost, shardBuckets: this.shardBuckets, modelStore: this.modelStore });
  }
}

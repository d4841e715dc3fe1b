/**
 * The replicated database on Kubernetes: a CloudNativePG Cluster (1 primary + N streaming
 * replicas spread across zones, with the operator's PDB); the runtime writes through the `-rw`
 * Service and reads through `-ro`. Requires the CloudNativePG operator in the cluster.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

export const POSTGRES_PORT = 5432;

export interface CnpgDatabaseArgs {
  namespace: pulumi.Input<string>;
  /** Streaming replicas besides the primary. Default 2. */
  replicas?: number;
  /** Volume size per instance. Default 20Gi. */
  storageSize?: string;
  storageClass?: string;
  /** PostgreSQL major version image. Default ghcr.io/cloudnative-pg/postgresql:15. */
  imageName?: string;
  database?: string;
  owner?: string;
}

export const CNPG_DATABASE_DEFAULTS = { replicas: 2, storageSize: '20Gi', imageName: 'ghcr.io/cloudnative-pg/postgresql:15', database: 'onnx_fleet', owner: 'onnx_fleet' };

export class CnpgDatabase extends pulumi.ComponentResource {
  readonly cluster: k8s.apiextensions.CustomResource;
  /** Labels the operator puts on every instance pod (for NetworkPolicies). */
  readonly podSelector: Record<string, string>;
  readonly writerHost: pulumi.Output<string>;
  readonly readerHost: pulumi.Output<string>;
  /** Secret `<cluster>-app` created by the operator: keys username, password, uri. */
  readonly appSecretName: pulumi.Output<string>;
  readonly instances: number;

  constructor(name: string, args: CnpgDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:CnpgDatabase', name, {}, opts);
    const d = { ...CNPG_DATABASE_DEFAULTS, ...Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) } as typeof CNPG_DATABASE_DEFAULTS & CnpgDatabaseArgs;
    this.instances = 1 + d.replicas;
    this.podSelector = { 'cnpg.io/cluster': name };
    this.cluster = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        metadata: { name, namespace: args.namespace },
        spec: {
          instances: this.instances,
          imageName: d.imageName,
          primaryUpdateStrategy: 'unsupervised',
          enablePDB: true,
          storage: { size: d.storageSize, ...(d.storageClass ? { storageClass: d.storageClass } : {}) },
          bootstrap: { initdb: { database: d.database, owner: d.owner } },
          affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'topology.kubernetes.io/zone' },
          postgresql: { parameters: { max_connections: '200', shared_buffers: '256MB' } },
        },
      },
      { parent: this },
    );
    const ns = pulumi.output(args.namespace);
    this.writerHost = pulumi.interpolate`${name}-rw.${ns}.svc`;
    this.readerHost = pulumi.interpolate`${name}-ro.${ns}.svc`;
    this.appSecretName = pulumi.output(`${name}-app`);
    this.registerOutputs({ writerHost: this.writerHost, readerHost: this.readerHost, instances: this.instances });
  }
}

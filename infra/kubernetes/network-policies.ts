/**
 * Who may talk to whom: default deny for the namespace; only the ingress controller (and the
 * Prometheus that feeds the HPA's pods metric) reach the runtime's port; only the runtime (and
 * the database's own instances and operator) reach PostgreSQL.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_PORT } from '../../runtime/contract';
import { POSTGRES_PORT } from './cnpg-database';

export interface NetworkPoliciesArgs {
  namespace: pulumi.Input<string>;
  runtimeSelector: Record<string, string>;
  ingressNamespace: string;
  monitoringNamespace: string;
  /** Absent when the database is external to the cluster. */
  database?: { podSelector: Record<string, string>; operatorNamespace: string };
}

const fromNamespace = (ns: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });

export class NetworkPolicies extends pulumi.ComponentResource {
  readonly policies: k8s.networking.v1.NetworkPolicy[] = [];

  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:NetworkPolicies', name, {}, opts);
    const policy = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      this.policies.push(new k8s.networking.v1.NetworkPolicy(`${name}-${suffix}`, { metadata: { namespace: args.namespace }, spec }, { parent: this }));

    policy('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
    policy('runtime-ingress', {
      podSelector: { matchLabels: args.runtimeSelector },
      policyTypes: ['Ingress'],
      ingress: [{ from: [fromNamespace(args.ingressNamespace), fromNamespace(args.monitoringNamespace)], ports: [{ protocol: 'TCP', port: DEFAULT_PORT }] }],
    });
    if (args.database) {
      policy('database-ingress', {
        podSelector: { matchLabels: args.database.podSelector },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: args.runtimeSelector } }], ports: [{ protocol: 'TCP', port: POSTGRES_PORT }] },
          // Streaming replication between the cluster's own instances.
          { from: [{ podSelector: { matchLabels: args.database.podSelector } }], ports: [{ protocol: 'TCP', port: POSTGRES_PORT }] },
          // The CloudNativePG operator polls each instance's status endpoint.
          { from: [fromNamespace(args.database.operatorNamespace)], ports: [{ protocol: 'TCP', port: 8000 }] },
        ],
      });
    }
    this.registerOutputs({ count: this.policies.length });
  }
}

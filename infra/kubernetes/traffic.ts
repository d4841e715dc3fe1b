/**
 * Traffic into the runtime: an Ingress (class configurable) to the stable Service and, when a
 * canary runs, a second Ingress carrying the canary weight (ingress-nginx canary annotations).
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

export interface TrafficArgs {
  namespace: pulumi.Input<string>;
  ingressClassName: string;
  host?: string;
  stableService: pulumi.Input<string>;
  /** Canary Service and the percentage of requests it receives (1–99). */
  canary?: { service: pulumi.Input<string>; weight: number };
  /** Largest request body the ingress accepts; keep it at the runtime's --max-body-bytes. */
  maxBodyBytes: number;
}

export class Traffic extends pulumi.ComponentResource {
  readonly ingress: k8s.networking.v1.Ingress;
  readonly canaryIngress?: k8s.networking.v1.Ingress;

  constructor(name: string, args: TrafficArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:kubernetes:Traffic', name, {}, opts);
    const rule = (service: pulumi.Input<string>) => ({
      host: args.host,
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { name: 'http' } } } }] },
    });
    const common = { 'nginx.ingress.kubernetes.io/proxy-body-size': `${Math.ceil(args.maxBodyBytes / 1024 / 1024)}m` };
    this.ingress = new k8s.networking.v1.Ingress(name, { metadata: { namespace: args.namespace, annotations: common }, spec: { ingressClassName: args.ingressClassName, rules: [rule(args.stableService)] } }, { parent: this });
    if (args.canary) {
      this.canaryIngress = new k8s.networking.v1.Ingress(
        `${name}-canary`,
        {
          metadata: { namespace: args.namespace, annotations: { ...common, 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': String(args.canary.weight) } },
          spec: { ingressClassName: args.ingressClassName, rules: [rule(args.canary.service)] },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ ingress: this.ingress.metadata.name });
  }
}

/**
 * Entry point of the onnx-fleet CrossGuard policy pack (policy-pack/PulumiPolicy.yaml):
 *
 *     npm run build && pulumi preview --stack <name> --policy-pack policy-pack
 *
 * Constructing the PolicyPack serves it to the Pulumi engine (a gRPC server on a local port).
 */
import { PolicyPack } from '@pulumi/policy';
import { POLICY_PACK_NAME, POLICY_PACK_POLICIES } from './pack-policies';

new PolicyPack(POLICY_PACK_NAME, {
  policies: POLICY_PACK_POLICIES,
  enforcementLevel: 'mandatory',
  description: 'onnx-fleet: encryption at rest, no public exposure, hardened instances and buckets, managed database credentials; staging and prod: AWS hardening (access logging, Multi-AZ, backups); prod: deletion protection and HTTPS only.',
  provider: 'aws',
});

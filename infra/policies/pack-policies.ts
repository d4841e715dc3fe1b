/**
 * Every policy of the onnx-fleet policy pack, as CrossGuard runs them: the in-repo policies
 * (index.ts) and the AWS hardening checks. Constructing a PolicyPack starts its gRPC server, so
 * the pack's entry point (pack.ts) is the only place that does; tests import this list.
 */
import type { Policies } from '@pulumi/policy';
import { AWS_HARDENING_POLICIES } from './aws-hardening';
import { resourceValidationPolicy, stackValidationPolicy } from './crossguard';
import { RESOURCE_POLICIES, STACK_POLICIES } from './index';

export const POLICY_PACK_NAME = 'onnx-fleet';

export const POLICY_PACK_POLICIES: Policies = [...RESOURCE_POLICIES.map(resourceValidationPolicy), ...STACK_POLICIES.map(stackValidationPolicy), ...AWS_HARDENING_POLICIES];

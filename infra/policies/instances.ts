/** Runtime instances: IMDSv2 only, detailed monitoring, an instance profile, replaced on failed LB checks. */
import { STARTUP_BUDGET_SECONDS } from '../../runtime/contract';
import type { ResourcePolicy } from './types';

export const instanceHardening: ResourcePolicy = {
  name: 'instance-hardening',
  description: 'launch templates require IMDSv2 (hop limit 1), enable detailed monitoring and attach an instance profile; groups use ELB health checks with a grace period covering model load, and hold new instances in a launch hook until ready',
  validateResource(r) {
    const i = r.inputs as Record<string, any>;
    if (r.type === 'aws:ec2/launchTemplate:LaunchTemplate') {
      const out: string[] = [];
      if (i.metadataOptions?.httpTokens !== 'required') out.push('IMDSv2 is not required');
      if (i.metadataOptions?.httpPutResponseHopLimit !== 1) out.push('metadata hop limit is not 1');
      if (i.monitoring?.enabled !== true) out.push('detailed monitoring is off');
      if (!i.iamInstanceProfile?.arn && !i.iamInstanceProfile?.name) out.push('no instance profile');
      return out;
    }
    if (r.type === 'aws:autoscaling/group:Group') {
      const out: string[] = [];
      if (i.healthCheckType !== 'ELB') out.push(`health check type is ${i.healthCheckType ?? 'EC2'}, not ELB: instances failing the load balancer's checks would not be replaced`);
      if (!(i.healthCheckGracePeriod >= STARTUP_BUDGET_SECONDS)) out.push(`grace period ${i.healthCheckGracePeriod} s is shorter than the runtime's startup budget (${STARTUP_BUDGET_SECONDS} s)`);
      const launchHook = (i.initialLifecycleHooks ?? []).find((h: any) => h.lifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
      if (!launchHook) out.push('no launch lifecycle hook: instances would join the load balancer before the runtime is ready');
      else if (!(launchHook.heartbeatTimeout >= STARTUP_BUDGET_SECONDS) || launchHook.defaultResult !== 'ABANDON') out.push(`launch hook must wait at least ${STARTUP_BUDGET_SECONDS} s and ABANDON when it times out`);
      return out;
    }
    return [];
  },
};

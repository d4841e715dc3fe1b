/**
 * The fleet's machine image: a concrete AMI id pinned in the stack config, never looked up on
 * `pulumi up`. An SSM-parameter ImageId (`resolve:ssm:...`) would make every Amazon release a
 * fleet refresh nobody asked for, and AWS cannot roll an instance refresh back to a launch
 * template that uses one (EC2 Auto Scaling User Guide, "Undo changes with a manual or auto
 * rollback"). Changing the id is a deliberate release. No Pulumi imports: the config schema
 * and the rules use it too.
 */
import type { Arch } from '../config';

/**
 * `ami-` + 8 (older) or 17 (current) lowercase hex digits (EC2 User Guide, "Resource IDs":
 * resource ids moved from 8 to 17 characters after the prefix).
 */
export const AMI_ID_PATTERN = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** Whether an EC2 instance type is Graviton (arm64): a `g` after the generation digit (c7g, m7gd, r8g). */
export function isGravitonType(instanceType: string): boolean {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType);
}

export function isAmiId(v: string): boolean {
  return AMI_ID_PATTERN.test(v);
}

/** The public SSM parameter holding the current Amazon Linux 2023 image for an architecture. */
export function al2023Parameter(arch: Arch): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch === 'arm64' ? 'arm64' : 'x86_64'}`;
}

/** The command that prints the current Amazon Linux 2023 image id for a region and architecture. */
export function al2023LookupCommand(region: string, arch: Arch): string {
  return `aws ssm get-parameter --region ${region} --name ${al2023Parameter(arch)} --query Parameter.Value --output text`;
}

/** How to find an id to pin, for error messages and the README. */
export function amiLookupHint(region: string, arch: Arch): string {
  return `the current Amazon Linux 2023 image for ${region} (${arch}) is the SSM parameter ${al2023Parameter(arch)}: ${al2023LookupCommand(region, arch)}`;
}

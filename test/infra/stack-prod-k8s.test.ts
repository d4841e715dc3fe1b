// The graph of stacks/Pulumi.prod-k8s.yaml holds the platform's invariants (one stack per file: Pulumi's runtime state is per module registry).
import { describeStack } from './graph';

describeStack('prod-k8s');

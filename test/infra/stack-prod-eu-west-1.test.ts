// The graph of stacks/Pulumi.prod-eu-west-1.yaml holds the platform's invariants (one stack per file: Pulumi's runtime state is per module registry).
import { describeStack } from './graph';

describeStack('prod-eu-west-1');

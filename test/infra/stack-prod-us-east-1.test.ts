// The graph of stacks/Pulumi.prod-us-east-1.yaml holds the platform's invariants (one stack per file: Pulumi's runtime state is per module registry).
import { describeStack } from './graph';

describeStack('prod-us-east-1');

// The graph of stacks/Pulumi.dev.yaml holds the platform's invariants (one stack per file: Pulumi's runtime state is per module registry).
import { describeStack } from './graph';

describeStack('dev');

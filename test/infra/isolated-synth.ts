/**
 * Synthesizes stack graphs several times in one test file: each run gets its own module registry
 * (Pulumi's runtime state is per registry), so a suite can run every stack and crafted variants.
 */
import path from 'node:path';
import { readStackFile } from '../../infra/synth';
import type { ResourceRecord } from '../../infra/testing/mock-run';
import { STACKS_DIR, testBundle } from './graph';

/** A stack file's config as Pulumi hands it to the program, with the stand-in bundle. */
export function stackRawConfig(stack: string): Record<string, string> {
  return { ...readStackFile(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`)), 'onnx-fleet:runtimeBundle': testBundle() };
}

export async function synthIsolated(raw: Record<string, string>, stack: string): Promise<ResourceRecord[]> {
  let resources: ResourceRecord[] = [];
  await jest.isolateModulesAsync(async () => {
    const { runProgramUnderMocks } = await import('../../infra/testing/mock-run');
    resources = await runProgramUnderMocks(raw, stack);
  });
  return resources;
}

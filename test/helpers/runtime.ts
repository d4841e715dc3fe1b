/**
 * Starting real runtimes for tests: in-process (startRuntime on port 0) or as a child process
 * running the compiled CLI exactly as an instance does.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadRuntimeConfig } from '../../runtime/config';
import { SERVE_NODE_FLAGS } from '../../runtime/node-flags';
import { Runtime, startRuntime } from '../../runtime/server';

/** The repository root, from test/helpers (jest) or dist/test/helpers (the compiled soak). */
export const ROOT = ((): string => {
  const up = path.resolve(__dirname, '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
})();
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');
export const EXAMPLES = path.join(ROOT, 'models');
export const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
/** The npm package's launcher (its shebang passes SERVE_NODE_FLAGS). */
export const BIN = path.join(ROOT, 'bin', 'onnx-fleet');

/** A runtime on a free loopback port with its models loaded. */
export async function startTestRuntime(repository: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })): Promise<Runtime> {
  const config = loadRuntimeConfig(['--model-repository', repository, '--port', '0', '--workers', '2', '--intra-op-threads', '1', '--drain-delay', '0', '--exit-timeout', '5', ...extraArgs], env);
  const runtime = await startRuntime(config, logger);
  await runtime.loaded;
  return runtime;
}

export interface ChildRuntime {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

/**
 * Runs `node <SERVE_NODE_FLAGS> dist/cli/index.js serve ...` (as its launchers do) and waits until
 * it logs the address it listens on. `how`: other Node flags, or the npm package's bin/onnx-fleet.
 */
export async function spawnRuntime(args: string[], env: NodeJS.ProcessEnv = {}, how: { nodeFlags?: readonly string[]; bin?: boolean } = {}): Promise<ChildRuntime> {
  const [command, argv] = how.bin ? [BIN, ['serve', ...args]] : [process.execPath, [...(how.nodeFlags ?? SERVE_NODE_FLAGS), CLI, 'serve', ...args]];
  const proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        try {
          const parsed = JSON.parse(line);
          if (parsed.url && parsed.msg?.startsWith('listening')) resolve(parsed.url);
        } catch {
          /* not JSON */
        }
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
    void exited.then((code) => reject(new Error(`runtime exited with ${code} before listening:\n${logs.join('\n')}`)));
  });
  return { proc, url, logs, exited };
}

export async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 30_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

export async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/v2/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

/** A model's `parameters` in the runtime's model metadata (`GET /v2/models/<model>`). */
export async function modelParameters(url: string, model: string): Promise<Record<string, string | number>> {
  return ((await (await fetch(`${url}/v2/models/${model}`)).json()) as { parameters: Record<string, string | number> }).parameters;
}

/** Copies the model directory `from` into the repository `repo` as `name`, with `extra` merged over its config.json. */
export function copyModel(repo: string, name: string, from: string, extra: object): void {
  fs.cpSync(from, path.join(repo, name), { recursive: true });
  const file = path.join(repo, name, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...extra }));
}

/**
 * The V8 flags `onnx-fleet serve` needs (runtime/node-flags.ts) reach the process from every
 * launcher users start it with, and a runtime started without them says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SERVE_NODE_FLAGS, missingServeFlags } from '../../runtime/node-flags';
import { launcher } from '../../packaging/systemd';
import { ChildRuntime, EXAMPLES, spawnRuntime } from '../helpers/runtime';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const SERVE_ARGS = ['--model-repository', EXAMPLES, '--port', '0', '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--log-level', 'info'];

describe('which flags a process was started with', () => {
  test('a flag counts whatever its value or spelling; others do not stand in for it', () => {
    expect(SERVE_NODE_FLAGS).toEqual(['--initial-old-space-size=128', '--expose-gc']);
    expect(missingServeFlags(['--initial-old-space-size=128', '--expose-gc'])).toEqual([]);
    expect(missingServeFlags(['--expose-gc', '--initial-old-space-size=512'])).toEqual([]);
    expect(missingServeFlags(['--initial_old_space_size=256', '--expose-gc'])).toEqual([]);
    expect(missingServeFlags(['--max-old-space-size=4096', '--expose-gc'])).toEqual(['--initial-old-space-size=128']);
    expect(missingServeFlags(['--initial-old-space-size=128'])).toEqual(['--expose-gc']);
    expect(missingServeFlags([])).toEqual([...SERVE_NODE_FLAGS]);
  });
});

describe('every launcher passes the flags', () => {
  const flags = SERVE_NODE_FLAGS.join(' ');

  test("the bundle's bin/onnx-fleet (systemd, the container image, the pods)", () => {
    expect(launcher()).toContain(`exec "$here/../node/bin/node" ${flags} "$here/../lib/main.js" "$@"`);
  });

  test("the npm package's bin/onnx-fleet (its shebang) and npm start", () => {
    expect(fs.readFileSync(path.join(ROOT, 'bin', 'onnx-fleet'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toContain(`node ${flags} dist/cli/index.js serve`);
  });
});

describe('a running runtime', () => {
  let rt: ChildRuntime | undefined;
  afterEach(async () => {
    rt?.proc.kill('SIGKILL');
    await rt?.exited;
    rt = undefined;
  });

  const warned = (logs: string[]) => logs.some((l) => /started without --initial-old-space-size=128 --expose-gc/.test(l));

  test('started by bin/onnx-fleet, node runs with the flags and the runtime does not warn', async () => {
    rt = await spawnRuntime(SERVE_ARGS, {}, { bin: true });
    const cmdline = fs.readFileSync(`/proc/${rt.proc.pid}/cmdline`, 'utf8').split('\0');
    for (const f of SERVE_NODE_FLAGS) expect(cmdline).toContain(f);
    expect(warned(rt.logs)).toBe(false);
  });

  test('started by plain `node dist/cli/index.js serve`, it serves and warns, naming the flag', async () => {
    rt = await spawnRuntime(SERVE_ARGS, {}, { nodeFlags: [] });
    expect((await fetch(`${rt.url}/v2/health/ready`)).status).toBe(200);
    expect(warned(rt.logs)).toBe(true);
    const line = JSON.parse(rt.logs.find((l) => /started without/.test(l))!) as { level: number; missing: string[] };
    expect(line.level).toBe(40);
    expect(line.missing).toEqual([...SERVE_NODE_FLAGS]);
  });
});

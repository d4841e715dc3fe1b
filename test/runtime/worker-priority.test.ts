/**
 * Event-loop priority (issue 15): the inference worker threads run at a higher nice value than the
 * main thread (--worker-nice), so the event loop gets a core as soon as it wakes while inference
 * keeps the cores busy. Read from Linux /proc of a child runtime: the main thread keeps the
 * process's nice value, the worker threads get the increment.
 */
import fs from 'node:fs';
import { EXAMPLES, spawnRuntime, isReady, waitFor } from '../helpers/runtime';

jest.setTimeout(60_000);

const niceOf = (pid: number, tid: string) => {
  // Fields after the parenthesised command: state is field 3, nice is field 19.
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};
const names = (pid: number, tid: string) => fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();

test.each([
  [7, 2],
  [0, 2],
])('--worker-nice %i: the worker threads run at that increment, the main thread at the process\'s own', async (nice, workers) => {
  const rt = await spawnRuntime(['--model-repository', EXAMPLES, '--port', '0', '--workers', String(workers), '--intra-op-threads', '1', '--worker-nice', String(nice)]);
  try {
    await waitFor(() => isReady(rt.url), 30_000);
    const pid = rt.proc.pid!;
    const tids = fs.readdirSync(`/proc/${pid}/task`);
    expect(niceOf(pid, String(pid))).toBe(0);
    const raised = tids.filter((t) => niceOf(pid, t) === nice && t !== String(pid));
    if (nice === 0) {
      expect(tids.every((t) => niceOf(pid, t) === 0)).toBe(true);
    } else {
      // Each worker thread (and any thread onnxruntime started inside one) has the increment; nothing else does.
      expect(raised.length).toBeGreaterThanOrEqual(workers);
      expect(tids.filter((t) => niceOf(pid, t) !== 0 && niceOf(pid, t) !== nice)).toEqual([]);
      expect(raised.some((t) => names(pid, t) === 'node')).toBe(true);
    }
  } finally {
    rt.proc.kill('SIGKILL');
    await rt.exited;
  }
});

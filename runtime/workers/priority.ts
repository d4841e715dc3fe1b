/**
 * Inference workers can run at a lower CPU priority than the main thread (--worker-nice): on a
 * box whose cores the workers keep busy, the event loop (HTTP, health probes, shedding) then gets
 * a core as soon as it wakes instead of waiting for the scheduler to rotate a worker out, so
 * readiness and 503s stay fast while saturated. Linux nice values are per thread (a tid given to
 * setpriority(PRIO_PROCESS) affects that thread only) and threads onnxruntime starts later inherit
 * them; raising one needs no privilege.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENV } from '../contract';

/** The pool passes --worker-nice to its threads in the variable that configures it. */
export const WORKER_NICE_ENV = ENV.workerNice;

/** This thread's kernel id (Linux), or undefined elsewhere. */
export function currentThreadId(): number | undefined {
  try {
    return Number(path.basename(fs.readlinkSync('/proc/thread-self')));
  } catch {
    return undefined;
  }
}

/** Applies the nice increment the pool passed in the environment; returns the nice value set, if any. */
export function lowerWorkerPriority(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const nice = Number(env[WORKER_NICE_ENV] ?? 0);
  if (!Number.isInteger(nice) || nice <= 0) return undefined;
  const tid = currentThreadId();
  if (tid === undefined || !Number.isInteger(tid)) return undefined;
  try {
    const target = Math.min(19, os.getPriority(tid) + nice);
    os.setPriority(tid, target);
    return target;
  } catch {
    return undefined; // not Linux, or not allowed: run at the process's priority
  }
}

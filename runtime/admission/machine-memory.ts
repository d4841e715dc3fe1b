/**
 * How much memory this process may use: the cgroup's limit when the runtime runs in a container
 * or a systemd slice that sets one (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`), else the
 * machine's total memory. The request bytes budget is derived from it.
 */
import fs from 'node:fs';
import os from 'node:os';

const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** A cgroup limit file's value in bytes, or undefined for "max", unreadable or absurd values (v1 reports ~2^63 when unlimited). */
export function parseCgroupLimit(text: string, totalMem: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < totalMem ? n : undefined;
}

export function machineMemoryBytes(files: readonly string[] = CGROUP_LIMIT_FILES): { bytes: number; source: string } {
  const total = os.totalmem();
  for (const file of files) {
    try {
      const limit = parseCgroupLimit(fs.readFileSync(file, 'utf8'), total);
      if (limit !== undefined) return { bytes: limit, source: file };
    } catch {
      /* no such cgroup controller here */
    }
  }
  return { bytes: total, source: 'os.totalmem()' };
}

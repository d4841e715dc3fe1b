/**
 * Will a model version fit beside what is loaded? Checked before every load, so a version too
 * large for the instance is refused with a reason instead of the process being OOM-killed.
 *
 * Need: the version's file bytes × workers (one session each) × the RSS growth per file byte
 * measured on this process's earlier loads (onnxruntime's footprint is not the file size: weights
 * are copied, optimised graphs and arenas added), or a conservative 2 before any measurement.
 * Room: the cgroup's limit minus its usage where the process runs in one with a limit (cgroup v2
 * memory.max/memory.current, v1 memory.limit_in_bytes/usage_in_bytes), else MemAvailable from
 * /proc/meminfo. `root` lets tests point at a directory laid out like those kernel files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Growth per file byte assumed before the first measured load. */
export const DEFAULT_GROWTH_PER_BYTE = 2;
/** Room kept free beside every load. */
export const HEADROOM_BYTES = 64 * 1024 * 1024;

export interface MemoryRoom {
  bytes: number;
  source: string;
}

const MiB = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

export class MemoryCheck {
  private growthPerByte?: number;

  constructor(private readonly root = '/') {}

  private read(rel: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.root, rel), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Free memory for this process: cgroup limit − usage, else MemAvailable. */
  room(): MemoryRoom {
    const v2max = this.read('sys/fs/cgroup/memory.max');
    const v2cur = this.read('sys/fs/cgroup/memory.current');
    if (v2max && v2max !== 'max' && v2cur && /^\d+$/.test(v2max)) {
      return { bytes: Number(v2max) - Number(v2cur), source: `cgroup memory.max ${MiB(Number(v2max))}, memory.current ${MiB(Number(v2cur))}` };
    }
    const v1max = this.read('sys/fs/cgroup/memory/memory.limit_in_bytes');
    const v1cur = this.read('sys/fs/cgroup/memory/memory.usage_in_bytes');
    // v1 reports "no limit" as a huge number (page-aligned LONG_MAX).
    if (v1max && v1cur && /^\d+$/.test(v1max) && Number(v1max) < 2 ** 60) {
      return { bytes: Number(v1max) - Number(v1cur), source: `cgroup memory.limit_in_bytes ${MiB(Number(v1max))}, usage ${MiB(Number(v1cur))}` };
    }
    const meminfo = this.read('proc/meminfo');
    const m = meminfo && /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
    if (m) return { bytes: Number(m[1]) * 1024, source: `MemAvailable ${MiB(Number(m[1]) * 1024)}` };
    return { bytes: os.freemem(), source: `free memory ${MiB(os.freemem())}` };
  }

  /** Bytes a version of `fileBytes` is expected to add with `workers` sessions. */
  estimate(fileBytes: number, workers: number): number {
    return Math.ceil(fileBytes * workers * (this.growthPerByte ?? DEFAULT_GROWTH_PER_BYTE));
  }

  /** Undefined when the version fits; else why it does not. */
  refuse(fileBytes: number, workers: number): string | undefined {
    const need = this.estimate(fileBytes, workers);
    const room = this.room();
    if (need + HEADROOM_BYTES <= room.bytes) return undefined;
    const basis = this.growthPerByte === undefined ? `${DEFAULT_GROWTH_PER_BYTE}× (no load measured yet)` : `${this.growthPerByte.toFixed(2)}× as measured on earlier loads`;
    return (
      `not enough memory to load it beside the versions in use: needs about ${MiB(need)} (${MiB(fileBytes)} of files × ${workers} workers × ${basis}) ` +
      `plus ${MiB(HEADROOM_BYTES)} headroom, but only ${MiB(Math.max(0, room.bytes))} is free (${room.source}); unload a version or give the instance more memory`
    );
  }

  /** Records a load's measured RSS growth (the largest ratio seen wins: better refuse than be killed). */
  observe(fileBytes: number, workers: number, rssGrowth: number): void {
    if (fileBytes < 1024 * 1024 || rssGrowth <= 0) return; // too small to say anything
    const ratio = rssGrowth / (fileBytes * workers);
    this.growthPerByte = Math.max(this.growthPerByte ?? 0, ratio);
  }

  get measuredGrowthPerByte(): number | undefined {
    return this.growthPerByte;
  }
}

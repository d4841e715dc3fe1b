/** Test data for the scaling suites. */
import type { InstanceProfile } from '../../infra/scaling/instance-profile';

/** A profile shaped like plan's output for a CNN instance (test data, not a measurement). */
export const PROFILE: InstanceProfile = {
  cpuModel: 'test cpu',
  cores: 2,
  workers: 2,
  sloP99Ms: 50,
  capacityRps: 1000,
  peakRps: 1100,
  queueBound: 256,
  saturationAtCapacity: 8,
  startupSeconds: 3,
  ramp: [
    { concurrency: 1, rps: 300, p50Ms: 2, p99Ms: 5, saturation: 0.5, cpuPercent: 30 },
    { concurrency: 4, rps: 700, p50Ms: 5, p99Ms: 12, saturation: 2, cpuPercent: 65 },
    { concurrency: 16, rps: 1000, p50Ms: 15, p99Ms: 45, saturation: 8, cpuPercent: 92 },
    { concurrency: 64, rps: 1100, p50Ms: 55, p99Ms: 120, saturation: 32, cpuPercent: 99 },
  ],
};


/**
 * A model's release manifest, `<model>/release.json`, written by `onnx-fleet models` and polled by
 * every instance, so the whole fleet follows one decision:
 *
 *   {"stable": 2, "canary": {"version": 3, "weight_percent": 10, "bake_secs": 600, ...bounds}}
 *
 * Without one, the model's version policy alone decides what is served. With one, `stable` (and
 * the canary's version) are what is served. The per-model canary here is traffic between two
 * versions of one model inside each runtime; the stack's `canaryWeight` is unrelated (a second
 * target group for fleet releases).
 */

export const RELEASE_MANIFEST = 'release.json';

export interface CanaryBounds {
  /** Bake time: the canary is judged during this many seconds after it started serving. */
  bakeSecs: number;
  /** Neither side is compared before it has this many requests. */
  minRequests: number;
  /** Routed out when canary failure rate − stable failure rate exceeds this (0.01 = one point). */
  maxFailureRateIncrease: number;
  /** Routed out when canary p99 exceeds stable p99 × this. */
  maxP99Ratio: number;
}

export interface ModelCanary extends CanaryBounds {
  version: number;
  /** Share of requests that do not name a version sent to the canary, 0 < w < 100. */
  weightPercent: number;
}

export interface ReleaseManifest {
  stable: number;
  canary?: ModelCanary;
}

export const DEFAULT_CANARY_BOUNDS: CanaryBounds = { bakeSecs: 600, minRequests: 100, maxFailureRateIncrease: 0.01, maxP99Ratio: 2 };

const KEYS: Record<keyof CanaryBounds | 'version' | 'weightPercent', string> = {
  version: 'version',
  weightPercent: 'weight_percent',
  bakeSecs: 'bake_secs',
  minRequests: 'min_requests',
  maxFailureRateIncrease: 'max_failure_rate_increase',
  maxP99Ratio: 'max_p99_ratio',
};

const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

export function parseReleaseManifest(text: string, where: string): ReleaseManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: expected an object`);
  for (const k of Object.keys(json)) if (k !== 'stable' && k !== 'canary') throw new Error(`${where}: unknown key "${k}"; allowed: stable, canary`);
  if (!isVersion(json.stable)) throw new Error(`${where}: "stable": got ${JSON.stringify(json.stable)}, expected a version number ≥ 1`);
  const out: ReleaseManifest = { stable: json.stable };
  if (json.canary !== undefined) {
    const c = json.canary as Record<string, unknown>;
    if (typeof c !== 'object' || c === null) throw new Error(`${where}: "canary" must be an object`);
    const allowed = Object.values(KEYS);
    for (const k of Object.keys(c)) if (!allowed.includes(k)) throw new Error(`${where}: canary: unknown key "${k}"; allowed: ${allowed.join(', ')}`);
    const num = (key: keyof typeof KEYS, ok: (n: number) => boolean, expected: string, dflt?: number): number => {
      const v = c[KEYS[key]] ?? dflt;
      if (typeof v !== 'number' || !ok(v)) throw new Error(`${where}: canary.${KEYS[key]}: got ${JSON.stringify(v)}, expected ${expected}`);
      return v;
    };
    const d = DEFAULT_CANARY_BOUNDS;
    const canary: ModelCanary = {
      version: num('version', isVersion, 'a version number ≥ 1'),
      weightPercent: num('weightPercent', (n) => n > 0 && n < 100, 'a percentage above 0 and below 100'),
      bakeSecs: num('bakeSecs', (n) => Number.isSafeInteger(n) && n >= 1, 'whole seconds ≥ 1', d.bakeSecs),
      minRequests: num('minRequests', (n) => Number.isSafeInteger(n) && n >= 1, 'an integer ≥ 1', d.minRequests),
      maxFailureRateIncrease: num('maxFailureRateIncrease', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1', d.maxFailureRateIncrease),
      maxP99Ratio: num('maxP99Ratio', (n) => n >= 1, 'a ratio ≥ 1', d.maxP99Ratio),
    };
    if (canary.version === out.stable) throw new Error(`${where}: canary.version ${canary.version} is the stable version; a canary needs a different one`);
    out.canary = canary;
  }
  return out;
}

export function formatReleaseManifest(m: ReleaseManifest): string {
  const json: Record<string, unknown> = { stable: m.stable };
  if (m.canary) {
    const c: Record<string, number> = {};
    for (const [k, name] of Object.entries(KEYS)) c[name] = m.canary[k as keyof ModelCanary];
    json.canary = c;
  }
  return JSON.stringify(json, null, 2) + '\n';
}

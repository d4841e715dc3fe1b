/**
 * Traffic traces for the simulator: requests per second, one value per second. Three built in,
 * scaled to a base rate, or a CSV of requests per second.
 */

export const BUILT_IN_TRACES = ['burst', 'diurnal', 'flash'] as const;
export type BuiltInTrace = (typeof BUILT_IN_TRACES)[number];

export const TRACE_DESCRIPTIONS: Record<BuiltInTrace, string> = {
  burst: '10× burst: base rate for 10 min, up to 10× within 60 s, held 15 min, back within 60 s, base for 15 min',
  diurnal: 'a day: base rate at night, 5× at the 14:00 peak (cosine), 24 h',
  flash: 'flash crowd: base rate, 20× within 10 s, decaying back with a 10 min time constant, 1 h',
};

const ramp = (from: number, to: number, seconds: number) => Array.from({ length: seconds }, (_, i) => from + ((to - from) * (i + 1)) / seconds);
const hold = (rate: number, seconds: number) => new Array<number>(seconds).fill(rate);

/**
 * A built-in trace at `baseRps`; `scale` < 1 compresses its time axis (CI runs the same shape in
 * less time: 0.1 turns the 52-minute burst into about 5 minutes).
 */
export function builtInTrace(name: BuiltInTrace, baseRps: number, scale = 1): number[] {
  const s = (seconds: number) => Math.max(1, Math.round(seconds * scale));
  switch (name) {
    case 'burst':
      // The ramp is 60 s whatever the scale: a burst is a burst.
      return [...hold(baseRps, s(600)), ...ramp(baseRps, 10 * baseRps, 60), ...hold(10 * baseRps, s(900)), ...ramp(10 * baseRps, baseRps, 60), ...hold(baseRps, s(900))];
    case 'diurnal': {
      const day = s(86_400);
      return Array.from({ length: day }, (_, i) => baseRps * (1 + 2 * (1 - Math.cos((2 * Math.PI * (i / day - 2 / 24))))));
    }
    case 'flash': {
      const before = s(300);
      const total = s(3600);
      const tau = s(600);
      return Array.from({ length: total }, (_, i) => {
        if (i < before) return baseRps;
        const since = i - before;
        if (since < 10) return baseRps * (1 + (19 * (since + 1)) / 10);
        return baseRps * (1 + 19 * Math.exp(-(since - 10) / tau));
      });
    }
  }
}

/**
 * A CSV of requests per second: one value per line (one line per second), or `second,rps` rows
 * (gaps are held at the previous rate). A header line and blank lines are ignored.
 */
export function parseTraceCsv(text: string, source = 'trace'): number[] {
  const rows: Array<{ second: number; rps: number }> = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    const numeric = cells.every((c) => /^-?\d+(\.\d+)?$/.test(c));
    if (!numeric) {
      if (rows.length === 0 && i === lines.findIndex((l) => l.trim() !== '')) return; // header
      throw new Error(`${source}:${i + 1}: got ${JSON.stringify(line)}, expected a number of requests per second or "second,rps"`);
    }
    if (cells.length > 2) throw new Error(`${source}:${i + 1}: got ${cells.length} columns, expected 1 (rps) or 2 (second,rps)`);
    const second = cells.length === 2 ? Number(cells[0]) : rows.length;
    const rps = Number(cells[cells.length - 1]);
    if (rps < 0) throw new Error(`${source}:${i + 1}: got ${rps} requests per second, expected 0 or more`);
    if (rows.length > 0 && second <= rows[rows.length - 1].second) throw new Error(`${source}:${i + 1}: second ${second} is not after ${rows[rows.length - 1].second}; rows must be in increasing time`);
    if (!Number.isInteger(second) || second < 0) throw new Error(`${source}:${i + 1}: got second ${cells[0]}, expected a whole number of seconds from 0`);
    rows.push({ second, rps });
  });
  if (rows.length === 0) throw new Error(`${source}: no rows; expected one requests-per-second value per line`);
  const out: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    const end = r + 1 < rows.length ? rows[r + 1].second : rows[r].second + 1;
    for (let t = rows[r].second; t < end; t++) out[t] = rows[r].rps;
  }
  for (let t = 0; t < out.length; t++) if (out[t] === undefined) out[t] = 0;
  return out;
}

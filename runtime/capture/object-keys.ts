/**
 * Object keys range-partitioned by model and time:
 *   model=<model>/date=YYYY-MM-DD/hour=HH/<record id>.json
 * so a time window of one model is listed with a handful of prefix listings, never a scan.
 * The key depends only on the record (model, capture time, id): a replay writes the same key.
 */
import { randomBytes } from 'node:crypto';

/** Model names are repository directory names; anything outside [A-Za-z0-9._-] is percent-encoded. */
export function encodeModel(model: string): string {
  return model.replace(/[^A-Za-z0-9._-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`));
}

const pad = (n: number) => String(n).padStart(2, '0');

export function datePart(time: Date): string {
  return `${time.getUTCFullYear()}-${pad(time.getUTCMonth() + 1)}-${pad(time.getUTCDate())}`;
}

export function hourPrefix(model: string, time: Date): string {
  return `model=${encodeModel(model)}/date=${datePart(time)}/hour=${pad(time.getUTCHours())}/`;
}

export function objectKey(model: string, time: Date, id: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new Error(`record id ${JSON.stringify(id)} is not a valid object name`);
  return `${hourPrefix(model, time)}${id}.json`;
}

const HOUR_MS = 3_600_000;

/** The hour prefixes covering [since, until]; at most `maxPrefixes` (the window is cut at the oldest end). */
export function prefixesForWindow(model: string, since: Date, until: Date, maxPrefixes = 24 * 31): string[] {
  const start = Math.floor(since.getTime() / HOUR_MS) * HOUR_MS;
  const end = until.getTime();
  const out: string[] = [];
  for (let t = Math.max(start, Math.floor(end / HOUR_MS) * HOUR_MS - (maxPrefixes - 1) * HOUR_MS); t <= end; t += HOUR_MS) {
    out.push(hourPrefix(model, new Date(t)));
  }
  return out;
}

/**
 * Record ids: UUID version 7 (48-bit Unix milliseconds, then random bits), so ids sort by capture
 * time and are unique without coordination.
 */
export function newRecordId(now = Date.now(), random: Buffer = randomBytes(10)): string {
  const b = Buffer.alloc(16);
  b.writeUIntBE(now, 0, 6);
  random.copy(b, 6, 0, 10);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

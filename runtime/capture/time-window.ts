/** `--since` / `--until` values: an ISO 8601 time, or a duration back from now (90s, 15m, 2h, 7d). */
export function parseTime(text: string, now = Date.now()): Date {
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(t)) {
    throw new Error(`${JSON.stringify(text)} is not a time: give an ISO 8601 time (2025-01-31T12:00:00Z) or a duration back from now (90s, 15m, 2h, 7d)`);
  }
  return new Date(t);
}

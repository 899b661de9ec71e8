// RFC 3339 §5.6 date-time, strictly: Date.parse alone accepts far more (and rolls 02-30 into March).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Epoch ms (fractions past the millisecond are truncated), or undefined when not an RFC 3339 date-time. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = DATE_TIME.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // Leap seconds (second 60) are not representable in epoch ms; refuse rather than guess.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  // Date.UTC maps years 0–99 to 1900–1999; no scan finished before the epoch anyway.
  if (year < 1970) return undefined;
  const millis = Number((m[7] ?? '.0').slice(1, 4).padEnd(3, '0'));
  const sign = m[9] === '-' ? -1 : 1;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** `2021-08-25T12:20:30Z`: UTC, whole seconds, for messages. */
export function formatRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

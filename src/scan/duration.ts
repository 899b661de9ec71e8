// Durations in the policy file (`maxAge: 7d`): one positive integer and one unit.

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type Unit = keyof typeof UNIT_MS;
const SHAPE = /^(\d+)([a-zA-Z]*)$/;

/** `'7d'` → 604800000. Throws a TypeError naming the problem (the policy schema reports it per field). */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new TypeError(`duration must be a string like "7d", not ${typeof text}`);
  const m = SHAPE.exec(text.trim());
  if (m === null) throw new TypeError(`duration "${text}" must be a whole number followed by a unit: s, m, h, d or w (e.g. "7d")`);
  const [, digits = '', unit = ''] = m;
  if (unit === '') throw new TypeError(`duration "${text}" has no unit; add one of s, m, h, d, w (e.g. "${digits}d")`);
  if (!Object.hasOwn(UNIT_MS, unit)) throw new TypeError(`duration "${text}" has unknown unit "${unit}"; use s, m, h, d or w`);
  const ms = Number(digits) * UNIT_MS[unit as Unit];
  if (ms === 0) throw new TypeError(`duration "${text}" must be greater than zero`);
  if (!Number.isSafeInteger(ms)) throw new TypeError(`duration "${text}" is too large`);
  return ms;
}

const PARTS: ReadonlyArray<[string, number]> = [
  ['d', UNIT_MS.d],
  ['h', UNIT_MS.h],
  ['m', UNIT_MS.m],
  ['s', UNIT_MS.s],
];

/** `9d`, `1d12h`, `45s`: the largest unit and, when not exact, the next one (rounded down). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  const index = PARTS.findIndex(([, size]) => total >= size);
  if (index === -1) return '0s';
  const [unit, size] = PARTS[index]!;
  const whole = Math.floor(total / size);
  const next = PARTS[index + 1];
  const rest = next === undefined ? 0 : Math.floor((total - whole * size) / next[1]);
  return rest === 0 || next === undefined ? `${whole}${unit}` : `${whole}${unit}${rest}${next[0]}`;
}

// What one check of `trustgate doctor` prints: `ok`, `warn` or `fail`, its name and what it found.

export type Status = 'ok' | 'warn' | 'fail';

export interface Line {
  readonly status: Status;
  readonly check: string;
  readonly detail: string;
}

export const DAY = 86_400_000;

export const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
export const iso = (ms: number): string => new Date(ms).toISOString();
export const days = (ms: number): string => {
  const n = Math.floor(Math.abs(ms) / DAY);
  return ms >= 0 ? `in ${n} ${n === 1 ? 'day' : 'days'}` : `${n} ${n === 1 ? 'day' : 'days'} ago`;
};

/** "2026-06-01 18:00 UTC": one unambiguous form for every time the console shows. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return String(value);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "in 3 h 20 min", "12 min ago". */
export function relative(ms: number, now: number = Date.now()): string {
  const minutes = Math.round(Math.abs(ms - now) / 60_000);
  const hours = Math.floor(minutes / 60);
  const span =
    minutes < 60
      ? `${minutes} min`
      : minutes < 2880
        ? `${hours} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`
        : `${Math.round(minutes / 1440)} days`;
  return ms >= now ? `in ${span}` : `${span} ago`;
}

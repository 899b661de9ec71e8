// How often a denial may notify (docs/notifications.md "Denials"): per image name and primary reason,
// at most once per window, in bounded memory.

export interface DenialLimit {
  /** True when no notice for `key` went out in the last window (and one counts now). */
  take(key: string, now: number): boolean;
  readonly size: number;
}

/**
 * At most `maxKeys` keys, least recently seen dropped first (a dropped key may notify again
 * early: the bound wins over the limit). A key's window runs from the notice that opened it.
 */
export function createDenialLimit(windowMs: number, maxKeys: number): DenialLimit {
  if (!(windowMs > 0) || !(maxKeys >= 1)) throw new TypeError('denial limit: windowMs and maxKeys must be positive');
  const opened = new Map<string, number>();
  return {
    take(key, now) {
      const at = opened.get(key);
      opened.delete(key);
      if (at !== undefined && now - at < windowMs && at <= now) {
        opened.set(key, at); // most recently seen
        return false;
      }
      if (opened.size >= maxKeys) opened.delete(opened.keys().next().value as string);
      opened.set(key, now);
      return true;
    },
    get size() {
      return opened.size;
    },
  };
}

import type { Allowance, Liveness, VerdictCache } from '../verdicts/types.ts';
import type { BreakGlassStore } from '../breakglass/entries.ts';

/**
 * Where an allowance comes from (docs/integrity.md "Allowances"), written into every grant so the
 * allowance ends when its source does: a verdict leaves the cache (its TTL, its notAfter, a scan
 * posted, a trust or policy change), a break-glass entry ends or expires. A grant whose source is
 * of no kind named here (an older version's) never counts.
 */
export const AllowanceSource = {
  verdict: (id: string): string => `verdict:${id}`,
  breakGlass: (id: string): string => `breakglass:${id}`,
  /** A signature artifact, recognised by its content: its blobs are checked again when served. */
  artifact: (digest: string): string => `artifact:${digest}`,
} as const;

export interface LivenessDeps {
  readonly verdicts: VerdictCache;
  readonly breakGlass: BreakGlassStore | undefined;
  readonly now: () => number;
}

/** The kind of an allowance's source (`verdict`, `breakglass`, `artifact`, or anything older). */
export function sourceKind(source: string): string {
  return source.slice(0, source.indexOf(':'));
}

export function createLiveness(deps: LivenessDeps): Liveness {
  return async (allowance: Allowance) => {
    const kind = sourceKind(allowance.source);
    const id = allowance.source.slice(kind.length + 1);
    const now = deps.now();
    switch (kind) {
      case 'verdict':
        return deps.verdicts.allows(id, now);
      case 'breakglass':
        return deps.breakGlass !== undefined && deps.breakGlass.active(now).some((entry) => entry.id === id);
      case 'artifact':
        return allowance.format !== undefined; // only checked blobs: an artifact never grants a stream
      default:
        return false;
    }
  };
}

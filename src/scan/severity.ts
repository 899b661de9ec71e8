import type { Severity } from './types.ts';

/** Most severe first: the order counts and messages are written in. */
export const SEVERITIES_DESC: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

// Trivy's ordering (pkg/types severity: UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL). UNKNOWN ranks
// lowest here, but a rule never compares it: `blockUnknown` alone decides it (types.ts).
const RANK: Readonly<Record<Severity, number>> = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

export const severityRank = (severity: Severity): number => RANK[severity];

/** Upper-cased and trimmed; anything that is not one of Trivy's five names is UNKNOWN. */
export function normalizeSeverity(value: string): Severity {
  const upper = value.trim().toUpperCase();
  return Object.hasOwn(RANK, upper) ? (upper as Severity) : 'UNKNOWN';
}

export function emptyCounts(): Record<Severity, number> {
  return { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
}

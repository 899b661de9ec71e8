import type { Digest } from '../oci/reference.ts';

/** Trivy's severities, in order. UNKNOWN is handled explicitly by the rule (see ScanRequirement). */
export type Severity = 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface Finding {
  readonly id: string;
  readonly severity: Severity;
  readonly pkg: string;
  readonly installed: string;
  /** Empty when no fixed version exists ("unfixed"). */
  readonly fixedIn: string;
}

/** One scan of one manifest digest, normalized from a Trivy report or a vuln attestation. */
export interface ScanRecord {
  readonly digest: Digest;
  /** Who scanned: the scanner's name and version, or the attestation's signer id. */
  readonly scanner: string;
  /** When the scan finished (report `CreatedAt`, attestation `scanFinishedOn`), epoch ms. */
  readonly finishedAt: number;
  readonly source: 'report' | 'attestation';
  readonly findings: readonly Finding[];
  readonly counts: Readonly<Record<Severity, number>>;
}

export interface Exemption {
  readonly id: string;
  /** Image pattern over canonical names; omitted: every image the rule covers. */
  readonly repository?: string;
  /** Epoch ms after which the exemption no longer applies. */
  readonly expires: number;
  readonly reason?: string;
}

/** A rule's scan requirement (policy file `scan:`). */
export interface ScanRequirement {
  readonly required: boolean;
  /** The highest severity that may pass. */
  readonly maxSeverity: Severity;
  /** Whether UNKNOWN findings block (true) or pass (false). */
  readonly blockUnknown: boolean;
  /** A scan older than this (ms) is stale. */
  readonly maxAgeMs: number;
  /** Findings without a fixed version do not block. */
  readonly ignoreUnfixed: boolean;
  readonly allow: readonly Exemption[];
}

/** `unscanned` is its own state, not a failure (docs/design.md §3). */
export type ScanState = 'unscanned' | 'pending' | 'passed' | 'failed' | 'stale';

// Why a scan report was refused. `field` is the JSON path of the offending value ('' for the
// document itself); the admin API turns this into a 400 naming the field.

export class ScanReportError extends Error {
  readonly code = 'SCAN_REPORT_INVALID' as const;
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string) {
    super(field === '' ? `invalid scan report: ${problem}` : `invalid scan report: ${field} ${problem}`);
    this.name = 'ScanReportError';
    this.field = field;
    this.problem = problem;
  }
}

export function isScanReportError(value: unknown): value is ScanReportError {
  return value instanceof ScanReportError;
}

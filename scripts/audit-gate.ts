// The npm audit gate (CI, `.ci/run`): `npm audit --omit=dev --json`, so only production
// dependencies count, and any advisory of severity moderate or higher must be listed in
// audit-exceptions.json with a reason and an expiry date. Run: `node --import tsx scripts/audit-gate.ts`.
// Fails closed: an unreachable audit endpoint fails the gate too (AUDIT_GATE_ALLOW_UNREACHABLE=1
// turns that one case into a warning, for machines without access to the registry's audit API).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical';
const RANK: Record<Severity, number> = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 };
const GATED = RANK.moderate;
/** An exception may be granted for at most this long. */
const MAX_EXCEPTION_DAYS = 366;

/** One advisory from `npm audit --json` (auditReportVersion 2): a `via` entry that is an object. */
export interface Advisory {
  /** `GHSA-…` when the advisory URL carries one, else npm's numeric `source`. */
  readonly id: string;
  readonly source: string;
  readonly url: string;
  /** The vulnerable package. */
  readonly package: string;
  readonly title: string;
  readonly severity: Severity;
}

export interface AuditException {
  /** A GHSA id, the advisory URL, or npm's numeric advisory id. */
  readonly advisory: string;
  readonly package: string;
  readonly reason: string;
  /** YYYY-MM-DD; the exception holds through that day (UTC). */
  readonly expires: string;
}

export interface GateResult {
  readonly ok: boolean;
  /** False when the audit endpoint gave no report (then `ok` only with AUDIT_GATE_ALLOW_UNREACHABLE). */
  readonly checked: boolean;
  readonly failures: readonly string[];
  readonly warnings: readonly string[];
  /** Advisories let through by an exception, for the log. */
  readonly excepted: readonly string[];
}

export interface GateOptions {
  /** YYYY-MM-DD (UTC). */
  readonly today: string;
  readonly allowUnreachable?: boolean;
}

const GHSA = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function normalizeAdvisory(value: string): string {
  const ghsa = GHSA.exec(value)?.[0];
  return ghsa === undefined ? value.trim() : `GHSA${ghsa.slice(4).toLowerCase()}`;
}

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && value in RANK;
}

/** The advisories of a report, or why there is no report (the endpoint failed, or the output is not one). */
export function advisoriesOf(report: unknown): { readonly advisories: readonly Advisory[] } | { readonly unreachable: string } {
  if (typeof report !== 'object' || report === null) return { unreachable: 'npm audit printed no JSON report' };
  const r = report as Record<string, unknown>;
  const vulnerabilities = r['vulnerabilities'];
  if (r['error'] !== undefined || typeof vulnerabilities !== 'object' || vulnerabilities === null) {
    const error = (r['error'] ?? {}) as Record<string, unknown>;
    const why = [
      r['message'],
      error['code'],
      error['summary'],
      r['statusCode'] === undefined ? undefined : `HTTP ${String(r['statusCode'])}`,
    ]
      .filter((part) => typeof part === 'string' || typeof part === 'number')
      .filter((part) => part !== '')
      .join('; ');
    return { unreachable: why === '' ? 'npm audit answered without a vulnerabilities report' : why };
  }
  const seen = new Map<string, Advisory>();
  for (const entry of Object.values(vulnerabilities as Record<string, unknown>)) {
    const via = (entry as { via?: unknown } | null)?.via;
    if (!Array.isArray(via)) continue;
    for (const item of via) {
      if (typeof item !== 'object' || item === null) continue; // a string names another vulnerable package
      const v = item as Record<string, unknown>;
      const url = typeof v['url'] === 'string' ? v['url'] : '';
      const source = v['source'] ?? v['id'];
      const pkg = typeof v['name'] === 'string' ? v['name'] : String((entry as { name?: unknown }).name ?? '');
      const severity = isSeverity(v['severity']) ? v['severity'] : 'critical'; // unknown severity: treat as the worst
      const ghsa = GHSA.exec(url)?.[0];
      const advisory: Advisory = {
        id: ghsa === undefined ? String(source ?? url) : normalizeAdvisory(ghsa),
        source: source === undefined ? '' : String(source),
        url,
        package: pkg,
        title: typeof v['title'] === 'string' ? v['title'] : '',
        severity,
      };
      seen.set(`${advisory.id}|${advisory.package}`, advisory);
    }
  }
  return { advisories: [...seen.values()] };
}

/** Reads audit-exceptions.json's shape; every problem names the entry and field. */
export function parseExceptions(
  file: unknown,
  today: string,
): { readonly exceptions: readonly AuditException[]; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const list = (file as { exceptions?: unknown } | null)?.exceptions;
  if (!Array.isArray(list)) return { exceptions: [], problems: ['audit-exceptions.json: "exceptions" must be an array'] };
  const latest = addDays(today, MAX_EXCEPTION_DAYS);
  const exceptions: AuditException[] = [];
  list.forEach((raw, i) => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = `audit-exceptions.json: exceptions[${i}]`;
    const text = (key: string): string | undefined =>
      typeof e[key] === 'string' && (e[key] as string).trim() !== '' ? (e[key] as string) : undefined;
    const [advisory, pkg, reason, expires] = [text('advisory'), text('package'), text('reason'), text('expires')];
    if (advisory === undefined) problems.push(`${where}.advisory: required (a GHSA id or the advisory URL)`);
    if (pkg === undefined) problems.push(`${where}.package: required`);
    if (reason === undefined)
      problems.push(`${where}.reason: required (why the advisory does not affect trustgate, or what is being done)`);
    if (expires === undefined || !DATE.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`))) {
      problems.push(`${where}.expires: required, a date YYYY-MM-DD`);
    } else if (expires < today) {
      problems.push(
        `${where} (${advisory ?? '?'} in ${pkg ?? '?'}) expired on ${expires}: update the dependency, or renew the exception with a current reason`,
      );
    } else if (expires > latest) {
      problems.push(`${where}.expires: ${expires} is more than ${MAX_EXCEPTION_DAYS} days away; exceptions are reviewed at least yearly`);
    }
    if (advisory !== undefined && pkg !== undefined && reason !== undefined && expires !== undefined)
      exceptions.push({ advisory, package: pkg, reason, expires });
  });
  return { exceptions, problems };
}

/** The gate's decision for one `npm audit --json` report and one exceptions file. */
export function evaluateAudit(report: unknown, exceptionsFile: unknown, options: GateOptions): GateResult {
  const failures: string[] = [];
  const warnings: string[] = [];
  const excepted: string[] = [];
  const { exceptions, problems } = parseExceptions(exceptionsFile, options.today);
  failures.push(...problems);
  const found = advisoriesOf(report);
  if ('unreachable' in found) {
    const message = `the npm audit endpoint gave no report (${found.unreachable})`;
    if (options.allowUnreachable === true)
      warnings.push(`${message}; AUDIT_GATE_ALLOW_UNREACHABLE is set: dependencies NOT checked, continuing`);
    else failures.push(`${message}; the gate fails closed: it cannot tell whether production dependencies have advisories`);
    return { ok: failures.length === 0, checked: false, failures, warnings, excepted };
  }
  const used = new Set<AuditException>();
  for (const advisory of found.advisories) {
    if (RANK[advisory.severity] < GATED) continue;
    const keys = new Set([advisory.id, advisory.source, advisory.url].filter((k) => k !== '').map(normalizeAdvisory));
    const exception = exceptions.find((e) => e.package === advisory.package && keys.has(normalizeAdvisory(e.advisory)));
    const line = `${advisory.severity} ${advisory.id} in ${advisory.package}: ${advisory.title} ${advisory.url}`.trim();
    if (exception === undefined) {
      failures.push(`${line} (not in audit-exceptions.json)`);
    } else {
      used.add(exception);
      excepted.push(`${line} (excepted until ${exception.expires}: ${exception.reason})`);
    }
  }
  for (const e of exceptions)
    if (!used.has(e)) warnings.push(`exception ${e.advisory} (${e.package}) matches no current advisory: remove it`);
  return { ok: failures.length === 0, checked: true, failures, warnings, excepted };
}

function addDays(date: string, days: number): string {
  const at = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(at) ? date : new Date(at + days * 86_400_000).toISOString().slice(0, 10);
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--exceptions');
  const exceptionsPath = resolve(at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : 'audit-exceptions.json');
  const audit = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1_048_576 });
  let report: unknown;
  try {
    report = JSON.parse(audit.stdout);
  } catch {
    report = { message: audit.error?.message ?? (audit.stderr.trim().split('\n').at(-1) || 'npm audit printed no JSON') };
  }
  let exceptionsFile: unknown;
  try {
    exceptionsFile = JSON.parse(readFileSync(exceptionsPath, 'utf8'));
  } catch (error) {
    process.stderr.write(`npm audit gate: FAILED: cannot read ${exceptionsPath}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const result = evaluateAudit(report, exceptionsFile, {
    today: new Date().toISOString().slice(0, 10),
    allowUnreachable: process.env['AUDIT_GATE_ALLOW_UNREACHABLE'] === '1',
  });
  for (const line of result.excepted) process.stderr.write(`npm audit gate: excepted: ${line}\n`);
  for (const line of result.warnings) process.stderr.write(`npm audit gate: warning: ${line}\n`);
  if (!result.ok) {
    process.stderr.write(
      `npm audit gate: FAILED (production dependencies, severity moderate or higher; exceptions in ${exceptionsPath}):\n`,
    );
    for (const line of result.failures) process.stderr.write(`  - ${line}\n`);
    process.exit(1);
  }
  process.stderr.write(
    result.checked
      ? 'npm audit gate: passed (production dependencies, severity moderate or higher)\n'
      : 'npm audit gate: NOT CHECKED (no report from the audit endpoint; allowed by AUDIT_GATE_ALLOW_UNREACHABLE=1)\n',
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();

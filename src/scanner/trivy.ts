import { execFile, type ExecFileException } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { printable } from '../oci/reference.ts';
import type { ScanTarget } from './target.ts';

// Running `trivy image --format json` (aquasecurity/trivy) on one image, straight from its registry.

export const TRIVY_HOME = 'https://aquasecurity.github.io/trivy';

/** What the worker says when it has no trivy to run. */
export function trivyNotFound(trivy: string): string {
  return `trivy not found at "${trivy}": install it (${TRIVY_HOME}) or pass --trivy <path>`;
}

/**
 * The executable `trivy` names: a path (anything with a slash) as given, a bare name looked up in
 * `searchPath` (a PATH value). undefined when it is not an executable file.
 */
export function findTrivy(trivy: string, searchPath: string | undefined): string | undefined {
  const candidates = trivy.includes('/')
    ? [resolve(trivy)]
    : (searchPath ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, trivy));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * trivy's arguments. Registry credentials are not among them: trivy reads TRIVY_USERNAME and
 * TRIVY_PASSWORD from its environment itself (argv would show them in `ps`).
 */
export function trivyArgs(target: ScanTarget): string[] {
  return ['image', '--format', 'json', '--quiet', ...(target.insecure ? ['--insecure'] : []), target.reference];
}

export interface TrivyRun {
  /** The executable, as findTrivy returned it. */
  readonly executable: string;
  /** trivy's whole environment (its credentials, proxy and cache settings); never the scanner token. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs: number;
  /** The largest report read from its stdout; more is a failure. */
  readonly maxReportBytes: number;
}

export type TrivyResult = { readonly ok: true; readonly report: Buffer } | { readonly ok: false; readonly problem: string };

/** Runs trivy once; never rejects. A non-zero exit, a timeout, no output or too much are failures. */
export function runTrivy(target: ScanTarget, run: TrivyRun): Promise<TrivyResult> {
  return new Promise((done) => {
    execFile(
      run.executable,
      trivyArgs(target),
      { env: { ...run.env }, timeout: run.timeoutMs, maxBuffer: run.maxReportBytes, encoding: 'buffer', windowsHide: true },
      (error, stdout, stderr) => {
        if (error !== null) done({ ok: false, problem: describeFailure(error, stderr, run) });
        else if (stdout.length === 0) done({ ok: false, problem: `trivy exited 0 with no report on stdout${lastLine(stderr)}` });
        else done({ ok: true, report: stdout });
      },
    );
  });
}

function describeFailure(error: ExecFileException, stderr: Buffer, run: TrivyRun): string {
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `trivy wrote more than ${run.maxReportBytes} bytes; stopped`;
  if (error.killed === true) return `trivy did not finish within ${run.timeoutMs} ms; stopped`;
  if (error.code === 'ENOENT' || error.code === 'EACCES') return `${trivyNotFound(run.executable)} (${error.code})`;
  const how =
    typeof error.code === 'number'
      ? `exited ${error.code}`
      : error.signal
        ? `was killed by ${error.signal}`
        : `failed (${String(error.code ?? error.message)})`;
  return `trivy ${how}${lastLine(stderr)}`;
}

/** The tail of trivy's stderr (where it says why), single-lined and bounded. */
function lastLine(stderr: Buffer): string {
  const lines = stderr
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const tail = lines.slice(-3).join(' | ');
  return tail === '' ? '' : `: ${printable(tail, 500)}`;
}

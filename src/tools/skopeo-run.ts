// Runs skopeo for `trustgate demo` and keeps what it printed, exactly.
import { execFile } from 'node:child_process';

export const SKOPEO_BIN = 'skopeo';

export interface SkopeoRun {
  /** The command line as a user would type it. */
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runSkopeo(args: readonly string[], timeoutMs = 60_000): Promise<SkopeoRun> {
  const command = ['skopeo', ...args].join(' ');
  return new Promise((resolve) => {
    execFile(SKOPEO_BIN, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const extra = error !== null && code === -1 ? `\n${error.message}` : '';
      resolve({ command, code, stdout: stdout.toString(), stderr: stderr.toString() + extra });
    });
  });
}

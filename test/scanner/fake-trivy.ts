// A stand-in for the trivy binary: a shell script that records each call (argv, and whether the
// scanner token or trivy's credentials reached its environment) and then behaves as told.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type FakeBehavior =
  | { readonly report: Buffer; readonly delaySeconds?: number }
  | { readonly exitCode: number; readonly stderr: string }
  | { readonly hangSeconds: number };

export interface FakeTrivy {
  readonly path: string;
  /** Each call's argv (without argv[0]). */
  calls(): string[][];
  /** Each call's `token=<TRUSTGATE_SCANNER_TOKEN or unset> user=<TRIVY_USERNAME or unset>`. */
  envs(): string[];
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function fakeTrivy(parent: string, behavior: FakeBehavior): FakeTrivy {
  const dir = mkdtempSync(join(parent, 'fake-trivy-'));
  const calls = join(dir, 'calls');
  const envs = join(dir, 'envs');
  let act: string;
  if ('report' in behavior) {
    writeFileSync(join(dir, 'report.json'), behavior.report);
    act = `${behavior.delaySeconds === undefined ? '' : `sleep ${behavior.delaySeconds}\n`}cat ${q(join(dir, 'report.json'))}`;
  } else if ('exitCode' in behavior) {
    act = `printf '%s\\n' ${q(behavior.stderr)} >&2\nexit ${behavior.exitCode}`;
  } else {
    act = `exec sleep ${behavior.hangSeconds}`;
  }
  const path = join(dir, 'trivy');
  writeFileSync(
    path,
    `#!/bin/sh
{ for arg in "$@"; do printf '%s\\n' "$arg"; done; printf -- '--end--\\n'; } >> ${q(calls)}
printf 'token=%s user=%s\\n' "\${TRUSTGATE_SCANNER_TOKEN:-unset}" "\${TRIVY_USERNAME:-unset}" >> ${q(envs)}
${act}
`,
  );
  chmodSync(path, 0o755);
  const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(0, -1) : []);
  return {
    path,
    calls: () => {
      const out: string[][] = [[]];
      for (const line of lines(calls)) {
        if (line === '--end--') out.push([]);
        else out[out.length - 1]!.push(line);
      }
      return out.slice(0, -1);
    },
    envs: () => lines(envs),
  };
}

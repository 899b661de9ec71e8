// Reads the policy file from disk; parsing and compiling are pure, in policy/parse.ts.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../input/config-error.ts';
import { parsePolicy, type IdentityCheck, type SigstoreRootKind } from '../policy/parse.ts';
import type { Policy } from '../policy/types.ts';

export function loadPolicy(path: string, checkIdentity: IdentityCheck, rootKind?: SigstoreRootKind): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, '', `cannot read the policy file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parsePolicy(text, path, checkIdentity, rootKind);
}

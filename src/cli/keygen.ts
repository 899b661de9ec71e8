import { join } from 'node:path';
import { displayPath as rel } from '../tools/display-path.ts';
import { generateKey } from '../tools/keygen.ts';
import { KEYGEN_USAGE } from './usage.ts';
import { noPositionals, parseFlags, required } from './args.ts';

export function keygenCommand(args: readonly string[], print: (line: string) => void): number {
  const { values, positionals } = parseFlags(args, {
    out: { type: 'string' },
    id: { type: 'string' },
    scope: { type: 'string', multiple: true },
    keys: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(KEYGEN_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const out = required(values.out, '--out');
  const files = generateKey({
    out,
    keysDir: values.keys ?? join(out, 'keys'),
    id: required(values.id, '--id'),
    scopes: values.scope ?? [],
  });
  print(`private key: ${rel(files.privateKeyFile)} (mode 0600; keep it secret, never commit it)`);
  print(`public key:  ${rel(files.publicKeyFile)}`);
  print(`metadata:    ${rel(files.metadataFile)} (scopes: ${(values.scope ?? []).join(', ')})`);
  return 0;
}

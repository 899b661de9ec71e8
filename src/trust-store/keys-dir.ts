import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { compilePattern } from '../oci/pattern.ts';
import { KEY_ID } from '../trust/key-id.ts';
import type { TrustEntry } from '../trust/types.ts';

// keys/<id>.pub (PEM public key, cosign) or keys/<id>.crt (PEM certificate, a notation root), each
// with keys/<id>.yaml beside it. The format is documented in keys/README.md.
const metadata = z.strictObject({
  scopes: z.array(z.string().min(1)).min(1),
  purposes: z
    .array(z.enum(['sign', 'scan']))
    .min(1)
    .default(['sign']),
  notBefore: z.iso.datetime({ offset: true }).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

/** Reads the trust store's declarations. Refuses private keys, unknown files and entries without scopes. */
export function loadKeysDir(dir: string): TrustEntry[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => !f.startsWith('.') && f !== 'README.md');
  const entries: TrustEntry[] = [];
  for (const file of files) {
    const match = /^(.+)\.(pub|crt)$/.exec(file);
    if (match === null) {
      if (!/\.ya?ml$/.test(file))
        throw new ConfigError(join(dir, file), '', 'unexpected file in keys/: use <id>.pub or <id>.crt with <id>.yaml');
      continue;
    }
    const [, id, ext] = match as unknown as [string, string, 'pub' | 'crt'];
    const path = join(dir, file);
    if (!KEY_ID.test(id)) throw new ConfigError(path, '', `key id "${id}" must be lowercase letters, digits, ".", "_" or "-"`);
    const pem = readFileSync(path, 'utf8');
    if (/PRIVATE KEY/.test(pem)) throw new ConfigError(path, '', 'is a private key: keys/ holds public trust material only');
    try {
      if (ext === 'pub') createPublicKey(pem);
      else new X509Certificate(pem);
    } catch {
      throw new ConfigError(path, '', ext === 'pub' ? 'not a PEM public key' : 'not a PEM certificate');
    }
    entries.push({ id, kind: ext === 'pub' ? 'key' : 'notation-root', pem, ...readMetadata(dir, id), origin: 'file' });
  }
  return entries;
}

function readMetadata(dir: string, id: string): Pick<TrustEntry, 'scopes' | 'purposes' | 'notBefore' | 'notAfter'> {
  const path = [join(dir, `${id}.yaml`), join(dir, `${id}.yml`)].find((p) => existsSync(p));
  if (path === undefined) throw new ConfigError(join(dir, `${id}.yaml`), '', 'missing: every key needs its metadata (scopes at least)');
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(path, '', 'not valid YAML');
  }
  const parsed = metadata.safeParse(raw ?? {});
  if (!parsed.success) throw fromZod(path, parsed.error);
  parsed.data.scopes.forEach((scope, i) => {
    try {
      compilePattern(scope);
    } catch (error) {
      throw new ConfigError(path, `scopes[${i}]`, (error as Error).message);
    }
  });
  return {
    scopes: parsed.data.scopes,
    purposes: parsed.data.purposes,
    ...(parsed.data.notBefore === undefined ? {} : { notBefore: Date.parse(parsed.data.notBefore) }),
    ...(parsed.data.notAfter === undefined ? {} : { notAfter: Date.parse(parsed.data.notAfter) }),
  };
}

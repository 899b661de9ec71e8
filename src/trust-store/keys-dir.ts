import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { compilePattern } from '../oci/pattern.ts';
import { KEY_ID } from '../trust/key-id.ts';
import type { TrustEntry, TrustKind } from '../trust/types.ts';
import { compileSigstoreRoot } from '../trust/sigstore-root.ts';

// keys/<id>.pub (PEM public key, cosign), keys/<id>.crt (PEM certificates: a notation root, or with
// `kind: tsa` a timestamp authority root, or with `kind: sigstore-root` a bring-your-own PKI) or
// keys/<id>.json (a sigstore trusted_root.json), each with keys/<id>.yaml beside it. The format is
// documented in keys/README.md.
const metadata = z.strictObject({
  kind: z.enum(['key', 'notation-root', 'tsa', 'sigstore-root']).optional(),
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
    const match = /^(.+)\.(pub|crt|json)$/.exec(file);
    if (match === null) {
      if (!/\.ya?ml$/.test(file))
        throw new ConfigError(join(dir, file), '', 'unexpected file in keys/: use <id>.pub, <id>.crt or <id>.json with <id>.yaml');
      continue;
    }
    const [, id, ext] = match as unknown as [string, string, 'pub' | 'crt' | 'json'];
    const path = join(dir, file);
    if (!KEY_ID.test(id)) throw new ConfigError(path, '', `key id "${id}" must be lowercase letters, digits, ".", "_" or "-"`);
    const text = readFileSync(path, 'utf8');
    if (/PRIVATE KEY/.test(text)) throw new ConfigError(path, '', 'is a private key: keys/ holds public trust material only');
    const { kind: declared, ...meta } = readMetadata(dir, id);
    const kind = kindOf(ext, declared, join(dir, `${id}.yaml`));
    const entry: TrustEntry =
      ext === 'json' ? { id, kind, pem: '', trustedRoot: text, ...meta, origin: 'file' } : { id, kind, pem: text, ...meta, origin: 'file' };
    checkMaterial(entry, path);
    entries.push(entry);
  }
  return entries;
}

/** The file's extension names the material; `kind:` in the YAML picks among the kinds a certificate file can be. */
function kindOf(ext: 'pub' | 'crt' | 'json', declared: TrustKind | undefined, yamlPath: string): TrustKind {
  const allowed: Record<typeof ext, readonly TrustKind[]> = {
    pub: ['key'],
    crt: ['notation-root', 'tsa', 'sigstore-root'],
    json: ['sigstore-root'],
  };
  const kind = declared ?? allowed[ext][0]!;
  if (!allowed[ext].includes(kind))
    throw new ConfigError(yamlPath, 'kind', `a .${ext} file holds ${allowed[ext].join(' or ')}, not ${kind}`);
  return kind;
}

/** Parses the material as the trust store will compile it, so a bad file fails at load with its path. */
function checkMaterial(entry: TrustEntry, path: string): void {
  try {
    if (entry.kind === 'key') createPublicKey(entry.pem);
    else if (entry.kind === 'sigstore-root') compileSigstoreRoot(entry);
    else new X509Certificate(entry.pem);
  } catch (error) {
    if (entry.kind === 'key') throw new ConfigError(path, '', 'not a PEM public key');
    if (entry.kind === 'sigstore-root') throw new ConfigError(path, '', `not a usable sigstore root: ${(error as Error).message}`);
    throw new ConfigError(path, '', 'not a PEM certificate');
  }
}

function readMetadata(dir: string, id: string): Pick<TrustEntry, 'scopes' | 'purposes' | 'notBefore' | 'notAfter'> & { kind?: TrustKind } {
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
    ...(parsed.data.kind === undefined ? {} : { kind: parsed.data.kind }),
    scopes: parsed.data.scopes,
    purposes: parsed.data.purposes,
    ...(parsed.data.notBefore === undefined ? {} : { notBefore: Date.parse(parsed.data.notBefore) }),
    ...(parsed.data.notAfter === undefined ? {} : { notAfter: Date.parse(parsed.data.notAfter) }),
  };
}

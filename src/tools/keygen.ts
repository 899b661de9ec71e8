// `trustgate keygen`: an ECDSA P-256 key pair for cosign-format signatures. The private key
// (PKCS#8 PEM, mode 0600) goes to one directory, the public key and its keys/ metadata to
// another (keys/README.md): private and public material never share a directory.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compilePattern } from '../oci/pattern.ts';
import { KEY_ID } from '../trust/key-id.ts';
import { UsageError } from './usage-error.ts';

export interface KeygenOptions {
  /** Directory for `<id>.key`. */
  readonly out: string;
  /** Directory for `<id>.pub` and `<id>.yaml`: a trust store (keys/) or a place to copy from. */
  readonly keysDir: string;
  readonly id: string;
  /** Image patterns the key may sign for (keys/<id>.yaml `scopes`). */
  readonly scopes: readonly string[];
}

export interface GeneratedKey {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly metadataFile: string;
}

/** Throws UsageError for a bad invocation; refuses (Error) to overwrite an existing file. */
export function generateKey(options: KeygenOptions): GeneratedKey {
  if (!KEY_ID.test(options.id)) throw new UsageError(`--id "${options.id}": lowercase letters, digits, ".", "_" or "-", at most 63`);
  if (options.scopes.length === 0)
    throw new UsageError('at least one --scope <pattern> is required: the images this key may sign for (keys/README.md)');
  for (const scope of options.scopes) {
    try {
      compilePattern(scope);
    } catch (error) {
      throw new UsageError(`--scope: ${(error as Error).message}`);
    }
  }
  const out = resolve(options.out);
  const keysDir = resolve(options.keysDir);
  if (samePath(out, keysDir)) {
    throw new UsageError(
      `--out and --keys are the same directory (${out}): a private key must never sit in a trust store directory, which holds public material only (trustgate refuses to start on it)`,
    );
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  mkdirSync(keysDir, { recursive: true });
  const files = {
    privateKeyFile: join(out, `${options.id}.key`),
    publicKeyFile: join(keysDir, `${options.id}.pub`),
    metadataFile: join(keysDir, `${options.id}.yaml`),
  };
  const taken = Object.values(files).find((file) => existsSync(file));
  if (taken !== undefined) throw new Error(`${taken} already exists; not overwriting it (remove it first to make a new key)`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const metadata = [
    `# trustgate keys/ entry for ${options.id}.pub, written by \`trustgate keygen\`; see keys/README.md.`,
    'scopes:',
    ...options.scopes.map((scope) => `  - ${JSON.stringify(scope)}`),
    'purposes: [sign]',
    '',
  ].join('\n');
  // 'wx': never overwrite a key someone may already trust or use.
  writeOnce(files.privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  writeOnce(files.publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  writeOnce(files.metadataFile, metadata, 0o644);
  return files;
}

function writeOnce(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`${path} already exists; not overwriting it (remove it first to make a new key)`);
    throw error;
  }
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return a === b || real(a) === real(b);
}

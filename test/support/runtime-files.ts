import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A policy that lets every allowlisted image through: for tests of the pull path itself. */
export const OPEN_POLICY = 'version: 1\nrules:\n  - { name: open, images: ["**"], mode: off }\n';

export interface KeyFile {
  readonly id: string;
  /** PEM public key (.pub), certificate (.crt), or a sigstore trusted_root.json (.json). */
  readonly pem: string;
  readonly kind?: 'pub' | 'crt' | 'json';
  readonly scopes: readonly string[];
  readonly purposes?: readonly string[];
  /** More metadata YAML lines (notBefore, notAfter). */
  readonly extra?: string;
}

export interface RuntimeFiles {
  readonly dir: string;
  /** YAML lines to append to a trustgate config so it uses these files. */
  readonly configLines: string;
  writePolicy(text: string): void;
  writeKey(key: KeyFile): void;
  remove(): void;
}

/** A temp directory with policy.yaml and keys/, laid out as a user would. */
export function runtimeFiles(policy = OPEN_POLICY, keys: readonly KeyFile[] = []): RuntimeFiles {
  const dir = mkdtempSync(join(tmpdir(), 'tg-runtime-'));
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir);
  const files: RuntimeFiles = {
    dir,
    configLines: `policy: { file: ${join(dir, 'policy.yaml')} }\nkeys: { dir: ${keysDir} }\n`,
    writePolicy: (text) => writeFileSync(join(dir, 'policy.yaml'), text),
    writeKey: (key) => {
      writeFileSync(join(keysDir, `${key.id}.${key.kind ?? 'pub'}`), key.pem);
      writeFileSync(
        join(keysDir, `${key.id}.yaml`),
        `scopes: ${JSON.stringify(key.scopes)}\npurposes: ${JSON.stringify(key.purposes ?? ['sign'])}\n${key.extra ?? ''}`,
      );
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  files.writePolicy(policy);
  for (const key of keys) files.writeKey(key);
  return files;
}

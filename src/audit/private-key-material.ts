import { createPrivateKey } from 'node:crypto';
import { holdsPrivateKeyText } from '../input/private-key-text.ts';

/*
 * Private key material in any encoding a person might paste (the rules: src/input/private-key-text.ts,
 * shared with the console), confirmed by node:crypto's parser for whole DER that opens in an unusual
 * way. Lives with the audit log because the audit scrubber uses it too (defence in depth); the admin
 * API refuses any input holding it.
 */

/** Whether `text` holds private key material in any encoding src/input/private-key-text.ts names. */
export function holdsPrivateKeyMaterial(text: string): boolean {
  return holdsPrivateKeyText(text, parsesAsPrivateKey);
}

/** Whether a JWK object (any depth is the caller's walk) is a private one. */
export const isPrivateJwk = (value: Record<string, unknown>): boolean => typeof value['kty'] === 'string' && typeof value['d'] === 'string';

/**
 * The path of the first field of a parsed JSON or YAML value holding private key material (a
 * string, a field name, or a private JWK object), as `scopes[0]` or `rules[1].name`; `''` for the
 * value itself; undefined when there is none.
 */
export function privateKeyField(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return holdsPrivateKeyMaterial(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = privateKeyField(item, `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (isPrivateJwk(record)) return path;
  for (const [name, item] of Object.entries(record)) {
    const here = path === '' ? name : `${path}.${name}`;
    if (holdsPrivateKeyMaterial(name)) return `${path === '' ? '' : `${path}.`}(a field name)`;
    const found = privateKeyField(item, here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const DER_TYPES = ['pkcs8', 'sec1', 'pkcs1'] as const;

function parsesAsPrivateKey(der: Uint8Array): boolean {
  for (const type of DER_TYPES) {
    try {
      createPrivateKey({ key: Buffer.from(der), format: 'der', type });
      return true;
    } catch (error) {
      // An encrypted PKCS#8 key parses as far as needing its passphrase: it is a private key all the same.
      if ((error as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE') return true;
    }
  }
  return false;
}

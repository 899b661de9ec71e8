// Trust entries for tests. The PEM is never parsed by the store, so any text will do.
import type { TrustEntry } from '../../src/trust/types.ts';

export function entry(id: string, overrides: Partial<TrustEntry> = {}): TrustEntry {
  return {
    id,
    kind: 'key',
    pem: `-----BEGIN PUBLIC KEY-----\n${id}\n-----END PUBLIC KEY-----\n`,
    scopes: ['docker.io/library/**'],
    purposes: ['sign'],
    origin: 'file',
    ...overrides,
  };
}

export const T0 = Date.parse('2030-01-01T00:00:00Z');

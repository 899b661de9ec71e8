import { createHash } from 'node:crypto';
import type { Digest } from './reference.ts';

/** sha256 over the exact bytes; never re-serialize JSON before hashing (image-spec descriptor.md "Digests"). */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

export function algorithmOf(digest: Digest): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** distribution-spec "Referrers Tag Schema": alg truncated to 32, '-', encoded truncated to 64. */
export function referrersTag(digest: Digest): string {
  const [alg = '', encoded = ''] = digest.split(':');
  return `${alg.slice(0, 32)}-${encoded.slice(0, 64)}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

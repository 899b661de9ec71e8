// Test-time PKIs and envelopes for the notation verifier, from the kit's independent signer.
import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after } from 'node:test';
import { makeNotationPki } from '../../kit/notation-pki.ts';
import type { NotationPki, NotationPkiOptions } from '../../kit/notation-pki.ts';
import { signNotation } from '../../kit/notation-sign.ts';
import type { NotationAlg, SignNotationOptions } from '../../kit/notation-sign.ts';
import type { Digest } from '../../../src/oci/reference.ts';
import type { Subject, TrustMaterial } from '../../../src/verify/types.ts';

export const DAY = 86_400_000;
/** A little ahead of the wall clock: certificates made during the tests start "now", to the second. */
export const NOW = Date.now() + 10 * 60_000;

export const SUBJECT: Subject = {
  digest: `sha256:${'ab'.repeat(32)}` as Digest,
  size: 1234,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  bytes: Buffer.alloc(0),
};

const made: string[] = [];
after(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A PKI in a temp dir removed after the file's tests. */
export async function pki(options: NotationPkiOptions = {}): Promise<NotationPki> {
  const p = await makeNotationPki(options);
  made.push(p.dir);
  return p;
}

export const trustRoot = (p: NotationPki, id = 'ca:test'): TrustMaterial => ({
  keys: [],
  roots: [{ id, certificate: new X509Certificate(p.root.certPem) }],
  sigstoreRoots: [],
  tsaRoots: [],
});

export function sign(p: NotationPki, alg: NotationAlg, extra: Partial<SignNotationOptions> = {}): Buffer {
  return signNotation({ leafKeyPem: p.leaf.keyPem, chainPem: p.chainPem, alg, subject: SUBJECT, ...extra });
}

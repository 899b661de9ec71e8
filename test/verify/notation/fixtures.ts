// Loads test/fixtures/notation-go into the verifier's input types.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NotationSignature, Subject, TrustedRoot, TrustMaterial } from '../../../src/verify/types.ts';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/notation-go/', import.meta.url));
export const read = (path: string): Buffer => readFileSync(`${FIXTURES}${path}`);

export type FixtureEnvelope = `${'ca' | 'sa'}_${'valid' | 'invalid' | 'expired'}`;
export const envelopeBytes = (name: FixtureEnvelope): Buffer => read(`envelopes/${name}_sig_env.json`);

/** The fixtures' target descriptor (README "Bytes"); there are no manifest bytes upstream. */
export const FIXTURE_SUBJECT: Subject = {
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  bytes: Buffer.alloc(0),
};

export const jws = (envelope: Buffer, source = 'test', mediaType = 'application/jose+json'): NotationSignature => ({
  scheme: 'notation',
  source,
  mediaType,
  envelope,
});
export const fixture = (name: FixtureEnvelope): NotationSignature => jws(envelopeBytes(name), name);

const root = (id: string, path: string): TrustedRoot => ({ id, certificate: new X509Certificate(read(path)) });
const trust = (...roots: TrustedRoot[]): TrustMaterial => ({ keys: [], roots, sigstoreRoots: [], tsaRoots: [] });

/** Named trust stores as the cases use them; the ids say where each root came from. */
export const STORES = {
  'ca:valid-trust-store': trust(
    root('ca:valid-trust-store/NotationTestRoot.pem', 'truststore/x509/ca/valid-trust-store/NotationTestRoot.pem'),
  ),
  'signingAuthority:valid-trust-store': trust(
    root(
      'signingAuthority:valid-trust-store/NotationTestRoot.pem',
      'truststore/x509/signingAuthority/valid-trust-store/NotationTestRoot.pem',
    ),
  ),
  // README ng-09: upstream's signingAuthority/valid-trust-store-2 is byte-identical to this one.
  'ca:valid-trust-store-2': trust(
    root('ca:valid-trust-store-2/GlobalSign.der', 'truststore/x509/ca/valid-trust-store-2/GlobalSign.der'),
    root('ca:valid-trust-store-2/GlobalSignRootCA.crt', 'truststore/x509/ca/valid-trust-store-2/GlobalSignRootCA.crt'),
  ),
} as const;

export const FIXTURE_IDENTITY = 'x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US';

// test/fixtures (copied from the shared fixtures, with their NOTICE): the Trivy report (trivy-1), the cosign vuln
// predicate (trivy-2), and the manifest whose config the report scanned.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Digest } from '../../src/oci/reference.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const readFixture = (path: string): Buffer => readFileSync(`${FIXTURES}${path}`);

export const GOLDEN = readFixture('trivy/alpine-310.json.golden');
export const DOCS_PREDICATE = readFixture('trivy/cosign-vuln-predicate.alpine-3.10.docs-example.json');

const manifestBytes = readFixture('containers-image/raw/dir-img-cosign-valid/manifest.json');
/** `sha256:634a8f35…6a00`, the manifest the report's image belongs to. */
export const MANIFEST_DIGEST: Digest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
/** `sha256:961769…66dd4`: the manifest's config digest, which the report gives as Metadata.ImageID. */
export const CONFIG_DIGEST = (JSON.parse(manifestBytes.toString('utf8')) as { config: { digest: Digest } }).config.digest;

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

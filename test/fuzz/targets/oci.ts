// References, digests, media types, routes and manifests (src/oci, src/proxy/route.ts): the
// parsers every pull goes through before anything reaches the gate.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TrustgateError } from '../../../src/errors/errors.ts';
import { digestOf, referrersTag } from '../../../src/oci/digest.ts';
import { parseManifest } from '../../../src/oci/manifest.ts';
import { bareMediaType, isSchema1, MediaType, SUPPORTED_MANIFEST_TYPES, upstreamAccept } from '../../../src/oci/media-types.ts';
import {
  isDigest,
  isRepositoryName,
  isTag,
  NAME_MAX_LENGTH,
  parseDigest,
  parseReference,
  parseRepositoryName,
  referenceString,
} from '../../../src/oci/reference.ts';
import { signatureCandidate } from '../../../src/oci/signature-artifact.ts';
import { parseRoute } from '../../../src/oci/route.ts';
import { anyBytes, anyDigest, anyText, applyEdits, assertTyped, jsonEdit, jsonish, jsonText, settle } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';

// Grammar of distribution-spec "Pulling manifests", written again here so the generator is not the parser.
const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}$/);
export const repositoryName = fc
  .array(component, { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join('/'))
  .filter((n) => n.length <= NAME_MAX_LENGTH);
export const tag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/);
const sha512 = fc.uint8Array({ maxLength: 64 }).map((b) => digestOf(b, 'sha512'));
const digest = fc.oneof(anyDigest, sha512);
/** Near misses: other algorithms, upper case, wrong length, separators. */
const digestLike = fc.oneof(
  digest.map((d) => d.toUpperCase()),
  digest.map((d) => d.replace('sha256', 'sha384')),
  fc.tuple(digest, fc.integer({ min: -3, max: 3 })).map(([d, n]) => (n < 0 ? d.slice(0, n) : d + 'a'.repeat(n))),
  fc.tuple(fc.stringMatching(/^[a-z0-9+._-]{1,10}$/), fc.stringMatching(/^[a-zA-Z0-9=_-]{0,70}$/)).map(([a, e]) => `${a}:${e}`),
);
const referenceInput = fc.oneof(anyText, tag, digest, digestLike);

/** Messages carry printable ASCII only (and the ellipsis printable() adds): no control bytes into logs. */
const PRINTABLE = /^[\x20-\x7e\u2026]*$/;

function assertCoded(error: unknown, codes: readonly string[]): void {
  assertTyped(error, TrustgateError);
  const e = error as TrustgateError;
  assert.ok(codes.includes(e.code), `unexpected code ${e.code}`);
  assert.match(e.message, PRINTABLE);
}

const layerTypes = fc.constantFrom(
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.dev.cosign.simplesigning.v1+json',
  'application/vnd.dsse.envelope.v1+json',
  'application/jose+json',
  'application/vnd.oci.empty.v1+json',
);
const descriptor = (types: fc.Arbitrary<string>) =>
  fc.record({ mediaType: types, digest: anyDigest, size: fc.nat() }, { requiredKeys: ['digest'] });
const imageManifest = fc.record(
  {
    schemaVersion: fc.constant(2),
    mediaType: fc.constantFrom(MediaType.ociManifest, MediaType.dockerManifest),
    config: descriptor(
      fc.constantFrom(
        'application/vnd.oci.image.config.v1+json',
        'application/vnd.oci.empty.v1+json',
        'application/vnd.cncf.notary.signature',
      ),
    ),
    layers: fc.array(descriptor(layerTypes), { maxLength: 5 }),
    subject: descriptor(fc.constant(MediaType.ociManifest)),
    artifactType: fc.constantFrom(
      'application/vnd.cncf.notary.signature',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/x-other',
    ),
  },
  { requiredKeys: ['schemaVersion', 'mediaType', 'config', 'layers'] },
);
const indexManifest = fc.record({
  schemaVersion: fc.constant(2),
  mediaType: fc.constantFrom(MediaType.ociIndex, MediaType.dockerManifestList),
  manifests: fc.array(
    fc.record(
      {
        mediaType: fc.constant(MediaType.ociManifest),
        digest: anyDigest,
        size: fc.nat(),
        artifactType: fc.constantFrom('application/vnd.cncf.notary.signature', 'application/x-other'),
      },
      { requiredKeys: ['digest'] },
    ),
    { maxLength: 5 },
  ),
});
const contentType = fc.oneof(
  fc.constantFrom(...SUPPORTED_MANIFEST_TYPES, MediaType.dockerSchema1, MediaType.dockerSchema1Signed, '', 'application/json'),
  anyText,
);

export const ociTarget: FuzzTarget = {
  name: 'oci',
  async open() {
    return {
      properties: [
        {
          name: 'parseReference: a tag or digest that prints back as given, or DIGEST_INVALID/MANIFEST_INVALID',
          property: fc.property(referenceInput, (input) => {
            const result = settle(() => parseReference(input));
            if (!result.ok) return assertCoded(result.error, ['DIGEST_INVALID', 'MANIFEST_INVALID']);
            assert.equal(referenceString(result.value), input);
            assert.ok(result.value.kind === 'tag' ? isTag(input) && !input.includes(':') : isDigest(input));
          }),
        },
        {
          name: 'parseDigest: sha256/sha512 of any bytes round-trips; anything else is DIGEST_INVALID',
          property: fc.property(fc.oneof(digest, digestLike, anyText), (input) => {
            const result = settle(() => parseDigest(input));
            if (!result.ok) return assertCoded(result.error, ['DIGEST_INVALID']);
            assert.equal(result.value, input);
            assert.match(input, /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
          }),
        },
        {
          name: 'referrersTag of a valid digest is a valid tag',
          property: fc.property(digest, (d) => {
            assert.ok(isTag(referrersTag(d)), referrersTag(d));
          }),
        },
        {
          name: 'parseRepositoryName: grammar names are kept; anything else is NAME_INVALID',
          property: fc.property(
            fc.oneof(
              repositoryName,
              anyText,
              repositoryName.map((n) => `${n}/`),
              repositoryName.map((n) => n.toUpperCase()),
            ),
            (input) => {
              const result = settle(() => parseRepositoryName(input));
              if (!result.ok) return assertCoded(result.error, ['NAME_INVALID']);
              assert.equal(result.value, input);
              assert.ok(input.length <= NAME_MAX_LENGTH && !input.startsWith('/') && !input.includes('//'));
            },
          ),
        },
        {
          name: 'parseRoute: a pull route that names what the path says, or a coded refusal',
          property: fc.property(
            fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'),
            fc.oneof(
              anyText.map((t) => `/v2/${t}`),
              fc
                .tuple(repositoryName, fc.constantFrom('manifests', 'blobs', 'referrers'), referenceInput)
                .map(([n, k, r]) => `/v2/${n}/${k}/${r}`),
              repositoryName.map((n) => `/v2/${n}/tags/list`),
              repositoryName.map((n) => `/v2/${n}/blobs/uploads/`),
            ),
            (method, path) => {
              const result = settle(() => parseRoute(method, path));
              if (!result.ok)
                return assertCoded(result.error, ['NAME_INVALID', 'NAME_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_INVALID', 'UNSUPPORTED']);
              const route = result.value;
              assert.ok(method === 'GET' || method === 'HEAD');
              if (route.kind === 'ping') return assert.ok(path === '/v2/' || path === '/v2');
              assert.ok(isRepositoryName(route.name));
              if (route.kind === 'tags') return assert.equal(path, `/v2/${route.name}/tags/list`);
              const last = route.kind === 'manifest' ? referenceString(route.reference) : route.digest;
              assert.equal(
                path,
                `/v2/${route.name}/${route.kind === 'manifest' ? 'manifests' : route.kind === 'blob' ? 'blobs' : 'referrers'}/${last}`,
              );
            },
          ),
        },
        {
          name: 'media types: bare types are lower-case without parameters; the upstream Accept never asks for schema 1 or a wildcard',
          property: fc.property(
            fc.array(
              fc.oneof(
                anyText,
                contentType,
                contentType.map((t) => `${t.toUpperCase()} ; q=0.5`),
                fc.constant('*/*'),
              ),
              { maxLength: 6 },
            ),
            (parts) => {
              const header = parts.join(',');
              const bare = bareMediaType(header);
              assert.ok(!bare.includes(';') && bare === bare.trim() && bare === bare.toLowerCase());
              const accept = upstreamAccept(header);
              const sent = accept.split(',').map((p) => p.trim());
              assert.ok(sent.length > 0 && sent.every((p) => p !== ''));
              for (const part of sent) assert.ok(!isSchema1(bareMediaType(part)) && !bareMediaType(part).includes('*'), part);
            },
          ),
        },
        {
          name: 'parseManifest: any bytes and Content-Type give parsed or a refusal of a known kind, never a throw',
          property: fc.property(
            fc.oneof(
              anyBytes,
              jsonish.map((v) => Buffer.from(jsonText(v))),
            ),
            fc.option(contentType, { nil: undefined }),
            (bytes, type) => {
              const result = settle(() => parseManifest(bytes, type));
              assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
              const parsed = result.value;
              if (!parsed.ok) return assert.ok(['schema1', 'unsupported', 'invalid'].includes(parsed.kind));
              assertParsedShape(parsed.manifest);
              assert.ok(!isSchema1(bareMediaType(type)));
            },
          ),
        },
        {
          name: 'parseManifest: generated manifests and indexes list exactly their digests; edited ones never throw',
          property: fc.property(
            fc.oneof(imageManifest, indexManifest),
            fc.array(jsonEdit, { maxLength: 3 }),
            fc.boolean(),
            (doc, edits, withHeader) => {
              const bytes = Buffer.from(JSON.stringify(doc));
              const parsed = parseManifest(bytes, withHeader ? doc.mediaType : undefined);
              assert.ok(parsed.ok, !parsed.ok ? parsed.problem : '');
              if ('manifests' in doc)
                assert.deepEqual(
                  parsed.manifest.children,
                  doc.manifests.map((m) => m.digest),
                );
              else {
                assert.deepEqual(parsed.manifest.blobs, [doc.config.digest, ...doc.layers.map((l) => l.digest)]);
                assert.equal(parsed.manifest.subject, doc.subject?.digest);
                // A runnable image (any tar layer) is never taken for a signature artifact.
                if (doc.layers.some((l) => l.mediaType?.includes('tar'))) assert.equal(signatureCandidate(parsed.manifest), undefined);
              }
              const edited = settle(() =>
                parseManifest(Buffer.from(jsonText(applyEdits(doc, edits))), withHeader ? doc.mediaType : undefined),
              );
              assert.ok(edited.ok, `threw ${String(!edited.ok && edited.error)}`);
              if (edited.value.ok) {
                assertParsedShape(edited.value.manifest);
                assert.doesNotThrow(() => signatureCandidate(edited.value.ok ? edited.value.manifest : (undefined as never)));
              }
            },
          ),
        },
      ],
    };
  },
};

function assertParsedShape(m: import('../../../src/oci/manifest.ts').ParsedManifest): void {
  assert.ok(SUPPORTED_MANIFEST_TYPES.includes(m.mediaType));
  for (const d of [...m.children, ...m.blobs]) assert.ok(isDigest(d), d);
  assert.ok(m.subject === undefined || isDigest(m.subject));
  assert.ok(m.layerMediaTypes.every((t) => typeof t === 'string'));
  assert.ok(m.childArtifactTypes.every((t) => t === undefined || typeof t === 'string'));
}

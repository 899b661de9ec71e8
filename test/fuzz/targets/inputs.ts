// The pure input checks behind the admin API (src/admin/key-input.ts, src/trust/trust-pem.ts, the
// break-glass image check) and the identity parsers policy relies on (cosign docker references,
// notation trusted identities and subject names): typed refusals only, and what they accept is
// what they said.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { parseAdd, parsePatch, parseRevoke, parseRotate } from '../../../src/admin/key-input.ts';
import { TrustgateError } from '../../../src/errors/errors.ts';
import { imageProblem } from '../../../src/breakglass/entries.ts';
import { checkTrustPem } from '../../../src/trust/trust-pem.ts';
import { parseNormalizedNamed, referenceString } from '../../../src/verify/cosign/docker-reference.ts';
import { matchesSignedReference } from '../../../src/verify/cosign/identity.ts';
import { matchesTrustedIdentity, parseTrustedIdentities, parseTrustedIdentity } from '../../../src/verify/notation/identity.ts';
import { parseSubjectName } from '../../../src/verify/notation/subject-name.ts';
import { anyDigest, anyText, assertTyped, hostileKey, jsonish, objectOf, settle } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { repositoryName, tag } from './oci.ts';

const pem = (type: 'ec' | 'rsa1024' | 'ed25519'): string =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 1024 })
  ).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();

const field = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: jsonish });
const time = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 42 }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom(
    '2030-02-30T00:00:00Z',
    '2030-13-01T00:00:00Z',
    '2030-01-01T24:00:00Z',
    '2030-01-01T00:00:60Z',
    '2030-01-01T00:00:00+24:00',
    '0000-01-01T00:00:00Z',
  ),
  anyText,
);
const domain = fc.constantFrom('docker.io', 'index.docker.io', 'registry.test:5000', 'localhost', 'Reg.Example', '[::1]:5000', '');

export const inputsTarget: FuzzTarget = {
  name: 'inputs',
  async open() {
    const pems = fc.oneof(
      fc.constantFrom(
        pem('ec'),
        pem('rsa1024'),
        pem('ed25519'),
        `${pem('ec')}${pem('ec')}`,
        '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      ),
      anyText,
    );
    const body = (fields: Record<string, fc.Arbitrary<unknown>>) =>
      fc.oneof(
        jsonish,
        fc.record(Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, field(a)])), { requiredKeys: [] }),
        fc.array(fc.tuple(hostileKey, jsonish), { maxLength: 3 }).map(objectOf),
      );
    return {
      properties: [
        {
          name: 'key bodies (add, patch, revoke, rotate): parsed as sent or BAD_REQUEST',
          property: fc.property(
            fc.constantFrom('add', 'patch', 'revoke', 'rotate'),
            body({
              id: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/),
              newId: fc.stringMatching(/^[a-z0-9]{1,8}$/),
              pem: pems,
              kind: fc.constantFrom('key', 'notation-root'),
              scopes: fc.array(fc.constantFrom('**', 'registry.test/**', '[x', ''), { maxLength: 3 }),
              purposes: fc.subarray(['sign', 'scan']),
              notBefore: time,
              notAfter: time,
              keepOldUntil: time,
              reason: anyText,
            }),
            (kind, input) => {
              const parse = { add: parseAdd, patch: parsePatch, revoke: parseRevoke, rotate: parseRotate }[kind];
              const result = settle(() => parse(input));
              if (!result.ok) {
                assertTyped(result.error, TrustgateError);
                return assert.equal((result.error as TrustgateError).code, 'BAD_REQUEST');
              }
              const out = result.value as Record<string, unknown>;
              for (const key of ['notBefore', 'notAfter', 'keepOldUntil']) {
                if (out[key] !== undefined && out[key] !== null) assert.ok(Number.isFinite(out[key]), `${key} ${String(out[key])}`);
              }
              if (kind === 'add') {
                const add = result.value as ReturnType<typeof parseAdd>;
                assert.ok(add.scopes.length > 0 && add.purposes.length > 0);
                if (add.notBefore !== undefined && add.notAfter !== undefined) assert.ok(add.notAfter > add.notBefore);
              }
            },
          ),
        },
        {
          name: 'trust PEM: a public key or certificate re-exported, or a refusal; private keys always refused',
          property: fc.property(
            fc.constantFrom('key' as const, 'notation-root' as const),
            fc.oneof(
              pems,
              fc.tuple(anyText, pems, anyText).map((p) => p.join('\n')),
            ),
            (kind, text) => {
              const result = settle(() => checkTrustPem(kind, text));
              assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
              const check = result.value;
              if (/PRIVATE KEY/i.test(text)) assert.ok(!check.ok && check.privateKey);
              if (check.ok) {
                assert.match(
                  check.pem,
                  kind === 'key'
                    ? /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/
                    : /^-----BEGIN CERTIFICATE-----/,
                );
                assert.match(check.fingerprint, /^sha256:[0-9a-f]{64}$/);
              }
            },
          ),
        },
        {
          name: 'break-glass image: accepted only as <host>/<pattern> or <host>/<repository>@<digest>',
          property: fc.property(
            fc.oneof(
              anyText,
              fc.tuple(domain, repositoryName, anyDigest).map(([d, n, g]) => `${d}/${n}@${g}`),
              fc.tuple(domain, fc.constantFrom('**', 'team/*', '[x')).map(([d, p]) => `${d}/${p}`),
            ),
            (image) => {
              const result = settle(() => imageProblem(image));
              assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
              if (result.value !== undefined) return assert.equal(typeof result.value, 'string');
              assert.ok(
                image.length > 0 && image.length <= 300 && image.indexOf('/') > 0 && !image.slice(0, image.indexOf('/')).includes('*'),
              );
            },
          ),
        },
        {
          name: 'docker references: parse or undefined, never a throw; written references read back normalized',
          property: fc.property(
            fc.oneof(
              anyText,
              fc
                .tuple(domain, repositoryName, fc.option(tag, { nil: undefined }), fc.option(anyDigest, { nil: undefined }))
                .map(([d, n, t, g]) => `${d === '' ? '' : `${d}/`}${n}${t === undefined ? '' : `:${t}`}${g === undefined ? '' : `@${g}`}`),
            ),
            fc.oneof(
              anyText,
              repositoryName.map((n) => `registry.test:5000/${n}:v1`),
            ),
            fc.constantFrom('exact' as const, 'repository' as const),
            (text, other, mode) => {
              const parsed = settle(() => parseNormalizedNamed(text));
              assert.ok(parsed.ok, `threw ${String(!parsed.ok && parsed.error)}`);
              if (parsed.value !== undefined) {
                const again = parseNormalizedNamed(referenceString(parsed.value));
                assert.deepEqual(again, parsed.value, 'the normalized form parses to itself');
                assert.ok(!parsed.value.name.startsWith('index.docker.io/'));
              }
              const match = settle(() => matchesSignedReference(text, { mode, reference: other }));
              assert.ok(match.ok && typeof match.value === 'boolean');
              if (parsed.value !== undefined && (parsed.value.tag !== undefined || parsed.value.digest !== undefined))
                assert.ok(matchesSignedReference(text, { mode, reference: text }));
            },
          ),
        },
        {
          name: 'notation identities and subjects: a TypeError or a parse, matching never throws, C/ST/O always required',
          property: fc.property(
            fc.oneof(
              anyText,
              fc.constant('*'),
              fc
                .array(
                  fc.tuple(
                    fc.constantFrom('C', 'ST', 'S', 'O', 'OU', 'CN', 'st', '1.2.3', 'bad type'),
                    fc.oneof(anyText, fc.constantFrom('US', 'WA', 'acme', 'a\\,b', '\\ x', 'x+y')),
                  ),
                  { maxLength: 5 },
                )
                .map((attrs) => `x509.subject: ${attrs.map(([k, v]) => `${k}=${v}`).join(', ')}`),
            ),
            fc.oneof(anyText, fc.constantFrom('C=US\nST=WA\nO=acme\nCN=signer', 'C=US\nST=WA\nO=acme + OU=a\nCN=x', 'CN=\\ a\\,b\\2C')),
            (identity, subject) => {
              const parsed = settle(() => parseTrustedIdentity(identity));
              if (!parsed.ok) assertTyped(parsed.error, TypeError);
              else if (parsed.value.kind === 'x509.subject') for (const k of ['C', 'ST', 'O']) assert.ok(k in parsed.value.attributes);
              const list = settle(() => parseTrustedIdentities([identity, '*']));
              if (!list.ok) assertTyped(list.error, TypeError);
              const names = settle(() => parseSubjectName(subject));
              assert.ok(names.ok, `parseSubjectName threw ${String(!names.ok && names.error)}`);
              const match = settle(() => matchesTrustedIdentity(names.value, identity));
              assert.ok(match.ok && typeof match.value === 'boolean');
              if (identity.trim() === '*') assert.equal(match.value, true);
            },
          ),
        },
      ],
    };
  },
};

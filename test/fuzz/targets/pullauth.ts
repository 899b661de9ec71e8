// Pull-side access control (src/pullauth): token-request scopes, Basic credentials, grants and the
// ES256 pull tokens (JWS). Scopes read back as written; a grant never reaches a name the identity's
// patterns do not allow; a pull token verifies only as issued.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, UnsecuredJWT } from 'jose';
import { loadConfigText } from '../../../src/config/load.ts';
import { compilePattern } from '../../../src/oci/pattern.ts';
import { grantPulls } from '../../../src/pullauth/grants.ts';
import { createPullTokens } from '../../../src/pullauth/pull-token.ts';
import { parseScopes, ScopeError } from '../../../src/pullauth/scope.ts';
import { basicCredentials } from '../../../src/pullauth/token-endpoint.ts';
import { isRepositoryName } from '../../../src/oci/reference.ts';
import { anyText, assertTyped, bitFlip, flipBit, jsonish, jsonText, settle, settleAsync, type BitFlip } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { repositoryName } from './oci.ts';

const scopeType = fc.stringMatching(/^[a-z0-9]{1,10}$/);
const scopeName = fc.oneof(
  repositoryName,
  fc.tuple(fc.constantFrom('registry.test:5000', 'localhost:5000'), repositoryName).map(([h, n]) => `${h}/${n}`),
  fc.stringMatching(/^[\x21-\x7e]{1,30}$/),
);
const action = fc.stringMatching(/^[a-z*]{0,6}$/);
const writtenScope = fc
  .record({ type: scopeType, name: scopeName, actions: fc.array(action, { minLength: 1, maxLength: 4 }) })
  .filter((s) => !s.name.includes(' ') && !/:[a-z*]*(?:,[a-z*]*)*$/.test(s.name));

type TokenMutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip'; readonly part: 0 | 1 | 2; readonly flip: BitFlip }
  | { readonly kind: 'alg-none' }
  | { readonly kind: 'hs256-with-public-key' }
  | { readonly kind: 'attacker-key' }
  | { readonly kind: 'claims'; readonly claim: 'aud' | 'iss' | 'exp' }
  | { readonly kind: 'text'; readonly text: string };

const tokenMutation: fc.Arbitrary<TokenMutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), part: fc.constantFrom(0 as const, 1 as const, 2 as const), flip: bitFlip }),
  fc.constant({ kind: 'alg-none' as const }),
  fc.constant({ kind: 'hs256-with-public-key' as const }),
  fc.constant({ kind: 'attacker-key' as const }),
  fc.record({ kind: fc.constant('claims' as const), claim: fc.constantFrom('aud' as const, 'iss' as const, 'exp' as const) }),
  fc.record({ kind: fc.constant('text' as const), text: fc.oneof(anyText, jsonish.map(jsonText)) }),
);

export const pullAuthTarget: FuzzTarget = {
  name: 'pullauth',
  async open() {
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const config = loadConfigText(
      'listen: { plainHttp: true }\nupstreams:\n  - { name: hub, url: "https://registry.test", default: true, repositories: ["registry.test/**"] }\n' +
        '  - { name: ghcr, url: "https://ghcr.test", repositories: ["ghcr.test/team/**"] }\npullAuth: { signingKey: { env: FUZZ_PULL_KEY }, service: fuzz }\n',
      'fuzz.yaml',
      { env: { FUZZ_PULL_KEY: signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } },
    );
    const pullAuth = config.pullAuth!;
    const NOW = Date.parse('2025-06-01T12:00:00Z');
    const tokens = await createPullTokens(pullAuth, () => NOW);
    const later = await createPullTokens(pullAuth, () => NOW + 3_600_000);
    const sign = (claims: Record<string, unknown>, key = signing.privateKey, iat = Math.floor(NOW / 1000)) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .setIssuer('trustgate')
        .setSubject('robot:ci')
        .setAudience('fuzz')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(key);
    return {
      properties: [
        {
          name: 'parseScopes: any query value gives well-formed scopes or a ScopeError; written scopes read back',
          property: fc.property(
            fc.oneof(
              jsonish,
              anyText,
              fc.array(anyText, { maxLength: 70 }),
              fc.array(
                fc.array(writtenScope, { maxLength: 3 }).map((ss) => ss.map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`).join(' ')),
                { maxLength: 3 },
              ),
            ),
            (raw) => {
              const result = settle(() => parseScopes(raw));
              if (!result.ok) return assertTyped(result.error, ScopeError);
              for (const s of result.value) {
                assert.match(s.type, /^[a-z0-9]+$/);
                assert.match(s.name, /^[\x21-\x7e]+$/);
                assert.ok(
                  s.actions.length > 0 && new Set(s.actions).size === s.actions.length && s.actions.every((a) => /^[a-z*]+$/.test(a)),
                );
              }
            },
          ),
        },
        {
          name: 'parseScopes: scopes written by the grammar read back, actions deduplicated, empty ones dropped',
          property: fc.property(fc.array(writtenScope, { minLength: 1, maxLength: 10 }), (written) => {
            const parsed = parseScopes(written.map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`).join(' '));
            const expected = written
              .map((s) => ({ type: s.type, name: s.name, actions: [...new Set(s.actions.filter((a) => a !== ''))] }))
              .filter((s) => s.actions.length > 0);
            assert.deepEqual(parsed, expected);
          }),
        },
        {
          name: 'Basic credentials: any header gives undefined or a pair; encoded pairs read back',
          property: fc.property(
            fc.oneof(
              anyText,
              anyText.map((t) => `Basic ${Buffer.from(t).toString('base64')}`),
            ),
            fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((u) => !u.includes(':')),
            fc.string({ unit: 'grapheme', maxLength: 60 }),
            (header, username, password) => {
              const any = settle(() => basicCredentials(header));
              assert.ok(any.ok);
              if (any.value !== undefined) assert.ok(any.value.username.length > 0 && !any.value.username.includes(':'));
              assert.deepEqual(basicCredentials(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`), {
                username,
                password,
              });
            },
          ),
        },
        {
          name: "grants: only repository pulls of valid names, only canonical names the identity's patterns allow",
          property: fc.property(
            fc.array(writtenScope, { maxLength: 6 }),
            fc.array(fc.constantFrom('registry.test/**', 'registry.test/library/*', 'ghcr.test/team/**', '**', 'registry.test/app'), {
              minLength: 1,
              maxLength: 3,
            }),
            (scopes, patterns) => {
              const identity = { subject: 'robot:fuzz', patterns: patterns.map(compilePattern) };
              const requested = scopes
                .map((s) => ({ ...s, actions: [...new Set(s.actions.filter((a) => a !== ''))] }))
                .filter((s) => s.actions.length > 0);
              const grants = grantPulls(requested, identity, config.upstreams);
              for (const g of grants) {
                assert.ok(requested.some((s) => s.type === 'repository' && s.name === g.name && s.actions.includes('pull')));
                assert.ok(isRepositoryName(g.name) && g.canonical.length > 0);
                for (const c of g.canonical)
                  assert.ok(
                    identity.patterns.some((p) => p.test(c)),
                    `granted ${c}`,
                  );
              }
            },
          ),
        },
        {
          name: 'pull tokens (JWS): an issued token verifies as issued; flipped, unsigned, HMAC, foreign-key, expired or mis-addressed ones never do',
          weight: 0.5,
          property: fc.asyncProperty(
            tokenMutation,
            fc.array(fc.tuple(repositoryName, fc.constantFrom('registry.test', 'ghcr.test')), { maxLength: 3 }),
            async (m, access) => {
              const grants = access.map(([name, host]) => ({ name, canonical: [`${host}/${name}`] }));
              const issued = (await tokens.issue('robot:ci', grants)).token;
              let presented = issued;
              let verifier = tokens;
              switch (m.kind) {
                case 'none':
                  break;
                case 'flip': {
                  const parts = issued.split('.');
                  parts[m.part] = flipBit(Buffer.from(parts[m.part]!, 'base64url'), m.flip).toString('base64url');
                  presented = parts.join('.');
                  break;
                }
                case 'alg-none':
                  presented = new UnsecuredJWT({ access: grants })
                    .setIssuer('trustgate')
                    .setSubject('robot:ci')
                    .setAudience('fuzz')
                    .setIssuedAt(Math.floor(NOW / 1000))
                    .setExpirationTime('1h')
                    .encode();
                  break;
                case 'hs256-with-public-key': {
                  const secret = Buffer.from(signing.publicKey.export({ type: 'spki', format: 'pem' }).toString());
                  presented = await new SignJWT({ access: grants })
                    .setProtectedHeader({ alg: 'HS256' })
                    .setIssuer('trustgate')
                    .setSubject('robot:ci')
                    .setAudience('fuzz')
                    .setIssuedAt(Math.floor(NOW / 1000))
                    .setExpirationTime(Math.floor(NOW / 1000) + 300)
                    .sign(secret);
                  break;
                }
                case 'attacker-key':
                  presented = await sign({ access: grants }, attacker.privateKey);
                  break;
                case 'claims':
                  if (m.claim === 'exp')
                    verifier = later; // an hour on, the 5-minute token has expired
                  else
                    presented = await new SignJWT({ access: grants })
                      .setProtectedHeader({ alg: 'ES256' })
                      .setIssuer(m.claim === 'iss' ? 'someone-else' : 'trustgate')
                      .setSubject('robot:ci')
                      .setAudience(m.claim === 'aud' ? 'other-service' : 'fuzz')
                      .setIssuedAt(Math.floor(NOW / 1000))
                      .setExpirationTime(Math.floor(NOW / 1000) + 300)
                      .sign(signing.privateKey);
                  break;
                case 'text':
                  presented = m.text;
                  break;
              }
              const result = await settleAsync(() => verifier.verify(presented));
              const unchanged = presented === issued && verifier === tokens;
              assert.equal(result.ok, unchanged, `${m.kind}: ${result.ok ? 'verified' : String(result.error)}`);
              if (result.ok) {
                assert.equal(result.value.subject, 'robot:ci');
                assert.deepEqual(result.value.grants, grants);
              }
            },
          ),
        },
      ],
    };
  },
};

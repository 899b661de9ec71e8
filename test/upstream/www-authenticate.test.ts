import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseChallenges, type Challenge } from '../../src/upstream/www-authenticate.ts';

/** Challenges as plain objects, for deepEqual (params have no prototype). */
function plain(challenges: Challenge[]): unknown[] {
  return challenges.map((c) => ({ ...c, params: { ...c.params } }));
}

describe('parseChallenges', () => {
  it('reads a Docker Bearer challenge with realm, service and scope', () => {
    const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"';
    assert.deepEqual(plain(parseChallenges(header)), [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull',
        },
      },
    ]);
  });

  it('keeps commas inside quoted values (multi-action scopes)', () => {
    const [c] = parseChallenges('Bearer realm="https://a/t",scope="repository:samalba/my-app:pull,push",error="insufficient_scope"');
    assert.equal(c?.params['scope'], 'repository:samalba/my-app:pull,push');
    assert.equal(c?.params['error'], 'insufficient_scope');
  });

  it('reads a Basic challenge', () => {
    assert.deepEqual(plain(parseChallenges('Basic realm="Registry Realm"')), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });

  it('splits several challenges in one header, in order', () => {
    const header = 'Basic realm="r1", Bearer realm="https://x/token",service="s", Negotiate';
    assert.deepEqual(plain(parseChallenges(header)), [
      { scheme: 'basic', params: { realm: 'r1' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', service: 's' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });

  it('lower-cases schemes and parameter names but not values', () => {
    const [c] = parseChallenges('BEARER Realm="https://A/Token",SERVICE=Reg');
    assert.equal(c?.scheme, 'bearer');
    assert.deepEqual({ ...c?.params }, { realm: 'https://A/Token', service: 'Reg' });
  });

  it('unescapes quoted-pairs', () => {
    const [c] = parseChallenges(String.raw`Bearer realm="a\"b\\c\d"`);
    assert.equal(c?.params['realm'], 'a"b\\cd');
  });

  it('accepts unquoted token values, spaces around "=", and empty list elements', () => {
    const [c, d] = parseChallenges(' , Bearer realm = "x" ,, service = reg.example ,  , Basic realm=y ,');
    assert.deepEqual({ ...c?.params }, { realm: 'x', service: 'reg.example' });
    assert.equal(d?.scheme, 'basic');
    assert.equal(d?.params['realm'], 'y');
  });

  it('reads the token68 form', () => {
    assert.deepEqual(plain(parseChallenges('Negotiate YWJjZA==, Basic realm="r"')), [
      { scheme: 'negotiate', params: {}, token68: 'YWJjZA==' },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  describe('with hostile or odd input', () => {
    it('returns nothing for empty, blank or separator-only headers', () => {
      for (const header of ['', '   ', ',,,', ' , , ']) assert.deepEqual(parseChallenges(header), []);
    });

    it('drops a parameter whose quoted string never ends', () => {
      assert.deepEqual(plain(parseChallenges('Bearer service="s",realm="https://evil/')), [{ scheme: 'bearer', params: { service: 's' } }]);
    });

    it('drops a parameter whose quoted value holds control characters', () => {
      const [c] = parseChallenges('Bearer realm="https://a/\r\nX-Injected: 1",service="s"');
      assert.equal(c?.params['realm'], undefined);
      assert.equal(c?.params['service'], 's');
    });

    it('keeps the first of duplicated parameters', () => {
      const [c] = parseChallenges('Bearer realm="https://good/token",realm="https://evil/token"');
      assert.equal(c?.params['realm'], 'https://good/token');
    });

    it('stores "__proto__" as a plain parameter without touching any prototype', () => {
      const [c] = parseChallenges('Bearer __proto__="polluted",constructor=x');
      assert.equal(c?.params['__proto__'], 'polluted');
      assert.equal(c?.params['constructor'], 'x');
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal(Object.getPrototypeOf(c?.params), null);
    });

    it('skips challenges whose scheme is not a token', () => {
      assert.deepEqual(plain(parseChallenges('"Bearer" realm=x, @@@, Basic realm=r')), [{ scheme: 'basic', params: { realm: 'r' } }]);
    });

    it('skips malformed parameters but keeps the rest', () => {
      const [c] = parseChallenges('Bearer realm="https://a/t", =oops, service=s');
      assert.equal(c?.params['realm'], 'https://a/t');
    });

    it('ignores headers longer than 16 KiB and stays fast on large inputs', () => {
      assert.deepEqual(parseChallenges(`Bearer realm="${'a'.repeat(20_000)}"`), []);
      const started = performance.now();
      parseChallenges(`Bearer ${'a=b,'.repeat(3_000)}`);
      parseChallenges('"'.repeat(16_000));
      parseChallenges('\\'.repeat(16_000));
      assert.ok(performance.now() - started < 500);
    });

    it('never throws, whatever the input', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (header) => {
          parseChallenges(header);
        }),
        { numRuns: 2_000 },
      );
    });

    it('gives back any quoted value exactly, escapes included', () => {
      const value = fc.string({ maxLength: 40 }).filter((s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s));
      fc.assert(
        fc.property(value, value, (realm, service) => {
          const quote = (s: string): string => `"${s.replace(/["\\]/g, (m) => `\\${m}`)}"`;
          const [c] = parseChallenges(`Bearer realm=${quote(realm)}, service=${quote(service)}`);
          assert.equal(c?.params['realm'], realm);
          assert.equal(c?.params['service'], service);
        }),
        { numRuns: 1_000 },
      );
    });
  });
});

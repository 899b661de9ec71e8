import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfigText, parseConfig } from '../../src/config/index.ts';
import { TufRepo } from './sigstore-tuf-repo.ts';

// `trust.sigstoreTuf` (config/README.md, "trust"): absent by default; every field checked at
// start, with the error naming it.

const dir = mkdtempSync(join(tmpdir(), 'tg-tuf-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = join(dir, 'trustgate.yaml');
mkdirSync(join(dir, 'tuf'));
writeFileSync(join(dir, 'tuf', 'root.json'), new TufRepo().initialRoot);

const BASE = `
listen: { plainHttp: true }
upstreams:
  - { name: up, url: "http://127.0.0.1:5000", default: true, repositories: ["127.0.0.1:5000/**"] }
keys: { dir: keys }
`;

function withTuf(fields: Record<string, unknown>): string {
  const tuf = {
    root: 'sigstore-public',
    mirror: 'https://tuf-repo-cdn.sigstore.dev',
    initialRoot: 'tuf/root.json',
    cacheDir: 'cache/tuf',
    ...fields,
  };
  const lines = Object.entries(tuf)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return `${BASE}trust:\n  sigstoreTuf:\n${lines.join('\n')}\n`;
}

function problem(text: string): { field: string; message: string } {
  try {
    loadConfigText(text, source);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { field: error.field, message: error.message };
  }
  assert.fail('expected a ConfigError');
}

describe('trust.sigstoreTuf in the config', () => {
  it('is absent by default: no refresh', () => {
    assert.deepEqual(loadConfigText(BASE, source).trust, { sigstoreTuf: undefined });
    assert.deepEqual(loadConfigText(`${BASE}trust: {}\n`, source).trust, { sigstoreTuf: undefined });
  });

  it('compiles: paths relative to the config file, the mirror without a trailing slash, defaults for the interval and purposes', () => {
    const config = loadConfigText(withTuf({ mirror: 'https://tuf.example/repo/' }), source);
    assert.deepEqual(config.trust.sigstoreTuf, {
      root: 'sigstore-public',
      mirror: 'https://tuf.example/repo',
      initialRoot: join(dir, 'tuf', 'root.json'),
      cacheDir: join(dir, 'cache', 'tuf'),
      intervalMs: 21_600_000,
      scopes: undefined,
      purposes: ['sign'],
    });
    const full = loadConfigText(
      withTuf({
        mirror: 'http://127.0.0.1:8080',
        intervalMs: 60_000,
        scopes: ['ghcr.io/org/**'],
        purposes: ['sign', 'scan'],
        cacheDir: '/var/lib/tuf',
      }),
      source,
    ).trust.sigstoreTuf;
    assert.deepEqual(
      { ...full, initialRoot: undefined },
      {
        root: 'sigstore-public',
        mirror: 'http://127.0.0.1:8080',
        initialRoot: undefined,
        cacheDir: '/var/lib/tuf',
        intervalMs: 60_000,
        scopes: ['ghcr.io/org/**'],
        purposes: ['sign', 'scan'],
      },
    );
    assert.equal(loadConfigText(withTuf({ mirror: 'http://[::1]:8080/' }), source).trust.sigstoreTuf?.mirror, 'http://[::1]:8080');
  });

  it('refuses a bad field, naming it', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ root: 'Sigstore' }, 'trust.sigstoreTuf.root', /a trust entry id/],
      [{ root: undefined }, 'trust.sigstoreTuf.root', /expected string/i],
      [{ mirror: undefined }, 'trust.sigstoreTuf.mirror', /expected string/i],
      [{ mirror: 'http://tuf.example' }, 'trust.sigstoreTuf.mirror', /must be https:\/\/ \(plain http only on a loopback address\)/],
      [{ mirror: 'ftp://tuf.example' }, 'trust.sigstoreTuf.mirror', /URL/i],
      [{ mirror: 'https://user:pw@tuf.example' }, 'trust.sigstoreTuf.mirror', /no credentials in the URL/],
      [{ mirror: 'https://tuf.example/?x=1' }, 'trust.sigstoreTuf.mirror', /no query or fragment/],
      [{ initialRoot: undefined }, 'trust.sigstoreTuf.initialRoot', /expected string/i],
      [{ initialRoot: '' }, 'trust.sigstoreTuf.initialRoot', /too small|at least/i],
      [{ cacheDir: undefined }, 'trust.sigstoreTuf.cacheDir', /expected string/i],
      [{ cacheDir: 'keys/tuf' }, 'trust.sigstoreTuf.cacheDir', /must be outside the trust store's keys\.dir/],
      [{ intervalMs: 1_000 }, 'trust.sigstoreTuf.intervalMs', /60000/],
      [{ intervalMs: 30 * 86_400_000 }, 'trust.sigstoreTuf.intervalMs', /604800000/],
      [{ intervalMs: '6h' }, 'trust.sigstoreTuf.intervalMs', /expected number/i],
      [{ scopes: [] }, 'trust.sigstoreTuf.scopes', /too small|at least/i],
      [{ scopes: ['ghcr.io/a b'] }, 'trust.sigstoreTuf.scopes[0]', /invalid image pattern/],
      [{ purposes: ['verify'] }, 'trust.sigstoreTuf.purposes[0]', /sign|scan/],
      [{ interval: '6h' }, 'trust.sigstoreTuf', /interval/],
    ];
    for (const [fields, field, message] of cases) {
      const found = problem(withTuf(fields));
      assert.equal(found.field, field, JSON.stringify(fields));
      assert.match(found.message, message, JSON.stringify(fields));
      assert.ok(found.message.startsWith(`${source}: ${field}: `), found.message);
    }
    assert.equal(problem(`${BASE}trust: { other: 1 }\n`).field, 'trust');
  });

  it('parsing reads nothing; reading the references checks the pinned root', () => {
    const missing = withTuf({ initialRoot: 'tuf/missing.json' });
    assert.equal(parseConfig(missing, source).trust.sigstoreTuf?.initialRoot, join(dir, 'tuf', 'missing.json'));
    assert.deepEqual(problem(missing), {
      field: 'trust.sigstoreTuf.initialRoot',
      message: `${source}: trust.sigstoreTuf.initialRoot: cannot read "${join(dir, 'tuf', 'missing.json')}"`,
    });
    writeFileSync(join(dir, 'tuf', 'garbage.json'), 'not json');
    assert.match(problem(withTuf({ initialRoot: 'tuf/garbage.json' })).message, /is not JSON$/);
    writeFileSync(join(dir, 'tuf', 'timestamp.json'), JSON.stringify({ signed: { _type: 'timestamp', version: 1 }, signatures: [] }));
    assert.match(problem(withTuf({ initialRoot: 'tuf/timestamp.json' })).message, /is not a TUF root\.json/);
  });
});

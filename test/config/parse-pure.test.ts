import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig, readReferences, type ParsedConfig } from '../../src/config/index.ts';
import { readSourceTree } from '../architecture/import-graph.ts';
import { PURE_PACKAGES } from '../architecture/layers.ts';

// parseConfig validates and compiles without reading anything; readReferences reads what the
// config names. A missing file or variable is therefore refused by the second step only.

const dir = mkdtempSync(join(tmpdir(), 'tg-config-pure-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = join(dir, 'trustgate.yaml');

const NAMES_FILES = `
listen: { plainHttp: true }
upstreams:
  - name: private
    url: https://registry.test
    repositories: ["registry.test/**"]
    allowAnonymousPulls: true
    auth: { type: bearer, token: { file: secrets/token } }
    tls: { caFile: tls/ca.pem, certFile: tls/client.crt, keyFile: tls/client.key }
  - name: basic
    url: https://other.test
    repositories: ["other.test/**"]
    allowAnonymousPulls: true
    auth: { type: basic, username: bot, password: { env: OTHER_PASSWORD } }
pullAuth:
  signingKey: { file: pull-signing.pem }
  oidc: { issuer: "https://k8s.test", jwksFile: jwks.json, audience: trustgate }
`;

function refused(parsed: ParsedConfig, env: Record<string, string>): ConfigError {
  try {
    readReferences(parsed, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('parseConfig is pure', () => {
  it('a config naming files and variables that do not exist › parses, keeping references that name their fields', () => {
    const parsed = parseConfig(NAMES_FILES, source);
    const [bearer, basic] = parsed.upstreams;
    assert.deepEqual(bearer!.credentials, {
      type: 'bearer',
      token: { field: 'upstreams[0].auth.token.file', file: join(dir, 'secrets/token'), written: 'secrets/token' },
    });
    assert.deepEqual(bearer!.tls.ca, { field: 'upstreams[0].tls.caFile', file: join(dir, 'tls/ca.pem'), written: 'tls/ca.pem' });
    assert.deepEqual(basic!.credentials, {
      type: 'basic',
      username: 'bot',
      password: { field: 'upstreams[1].auth.password.env', env: 'OTHER_PASSWORD' },
    });
    assert.deepEqual(parsed.pullAuth?.signingKey, {
      field: 'pullAuth.signingKey.file',
      file: join(dir, 'pull-signing.pem'),
      written: 'pull-signing.pem',
    });
    assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.upstreams[0]));
  });

  it('the read step refuses each missing one, naming its field, in the order of the file', () => {
    const parsed = parseConfig(NAMES_FILES, source);
    const env = { OTHER_PASSWORD: 'pw' };
    let error = refused(parsed, env);
    assert.equal(error.field, 'upstreams[0].auth.token.file');
    assert.match(error.message, /cannot read "secrets\/token"/);
    writeFileSync(join(dir, 'token'), 't0ken\n');
    const withToken = parseConfig(NAMES_FILES.replace('secrets/token', 'token'), source);
    error = refused(withToken, env);
    assert.equal(error.field, 'upstreams[0].tls.caFile');
    assert.match(error.message, /cannot read "tls\/ca.pem"/);
    const noTls = parseConfig(NAMES_FILES.replace('secrets/token', 'token').replace(/ {4}tls: .*\n/, ''), source);
    assert.equal(refused(noTls, {}).field, 'upstreams[1].auth.password.env');
    assert.equal(refused(noTls, env).field, 'pullAuth.signingKey.file');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'pull-signing.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const withKey = parseConfig(NAMES_FILES.replace('secrets/token', 'token').replace(/ {4}tls: .*\n/, ''), source);
    assert.equal(refused(withKey, env).field, 'pullAuth.oidc.jwksFile');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [] }));
    const config = readReferences(withKey, env);
    const creds = config.upstreams[0]!.credentials;
    assert.equal(creds.type === 'bearer' && creds.token.reveal(), 't0ken');
    assert.match(config.pullAuth!.signingKey.reveal(), /BEGIN PRIVATE KEY/);
    assert.ok(Object.isFrozen(config.upstreams[1]));
  });

  it('the same text and source › the same parsed config, whatever the environment holds', () => {
    const before = JSON.stringify(parseConfig(NAMES_FILES, source));
    process.env['OTHER_PASSWORD'] = 'from the process';
    try {
      assert.equal(JSON.stringify(parseConfig(NAMES_FILES, source)), before);
    } finally {
      delete process.env['OTHER_PASSWORD'];
    }
  });

  it('everything parse.ts imports, in src/, does no I/O: computation packages and node:path only, no process.env, fs or clock', () => {
    const files = new Map(readSourceTree('src').map((f) => [f.path, f]));
    const seen = new Set<string>();
    const visit = (path: string): void => {
      if (seen.has(path)) return;
      seen.add(path);
      for (const next of files.get(path)?.localImports ?? []) visit(next);
    };
    visit('config/parse.ts');
    assert.ok(!seen.has('config/references.ts') && !seen.has('config/load.ts'), 'parse.ts reaches the reading step');
    // node:util only for Secret's inspect.custom (a type import reaches secret.ts).
    const allowed = new Set([...PURE_PACKAGES, 'node:path', 'node:util']);
    for (const path of seen) {
      for (const spec of files.get(path)!.packageImports) assert.ok(allowed.has(spec), `${path} imports ${spec}`);
      const text = readFileSync(join('src', path), 'utf8');
      assert.doesNotMatch(text, /process\.env|readFileSync|Date\.now\(\)|process\.cwd\(\)/, `${path} reads the outside world`);
    }
  });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { loadConfigText, parseConfig } from '../../src/config/index.ts';
import { writeSigningKey } from '../support/pull-auth.ts';
import { configProblem } from '../support/config-problem.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-pullauth-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = writeSigningKey(dir);

const BASE = `
listen: { address: "10.0.0.7:5443", plainHttp: true }
upstreams:
  - name: local
    url: http://127.0.0.1:5000
    default: true
    repositories: ["127.0.0.1:5000/**"]
`;

const problem = configProblem;

describe('pullAuth configuration', () => {
  it('absent › off', () => {
    assert.equal(parseConfig(BASE, 'test.yaml').pullAuth, undefined);
  });

  it('defaults: issuer trustgate, service = the listener host, 300 s tokens, 10 failures a minute', () => {
    const config = parseConfig(`${BASE}pullAuth: { signingKey: { file: "${keyFile}" } }\n`, 'test.yaml');
    const pullAuth = config.pullAuth!;
    assert.equal(pullAuth.issuer, 'trustgate');
    assert.equal(pullAuth.service, '10.0.0.7');
    assert.equal(pullAuth.tokenTtlSeconds, 300);
    assert.equal(pullAuth.realm, undefined);
    assert.deepEqual(pullAuth.rateLimit, { maxFailures: 10, windowMs: 60_000 });
    assert.equal(pullAuth.oidc, undefined);
  });

  it('the key from an environment variable › read, and never printed', () => {
    const pem = readFileSync(keyFile, 'utf8');
    const config = loadConfigText(`${BASE}pullAuth: { signingKey: { env: PULL_KEY } }\n`, 'test.yaml', { env: { PULL_KEY: pem } });
    assert.equal(config.pullAuth?.signingKey.reveal(), pem);
    assert.doesNotMatch(inspect(config, { depth: 10 }) + JSON.stringify(config), /PRIVATE KEY/);
  });

  it('a missing key file › refuses to start, naming the field', () => {
    const error = problem(`${BASE}pullAuth: { signingKey: { file: "${join(dir, 'nope.pem')}" } }\n`);
    assert.equal(error.field, 'pullAuth.signingKey.file');
    assert.match(error.message, /cannot read/);
  });

  it('an unset environment variable › refuses to start, naming the field', () => {
    assert.equal(problem(`${BASE}pullAuth: { signingKey: { env: NOPE } }\n`).field, 'pullAuth.signingKey.env');
  });

  it('not a private key, or not P-256 › refuses to start, saying what it is', () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    assert.match(
      problem(`${BASE}pullAuth: { signingKey: { file: "${junk}" } }\n`).message,
      /pullAuth\.signingKey\.file: not an unencrypted PEM private key/,
    );
    const p384 = writeSigningKey(dir, 'p384.pem', 'P-384');
    assert.match(
      problem(`${BASE}pullAuth: { signingKey: { file: "${p384}" } }\n`).message,
      /must be an EC P-256 private key \(this one is ec secp384r1\)/,
    );
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    assert.match(problem(`${BASE}pullAuth: { signingKey: { file: "${rsa}" } }\n`).message, /this one is rsa/);
  });

  it('tokens shorter than 60 s › refused (the Docker token spec minimum)', () => {
    assert.equal(
      problem(`${BASE}pullAuth: { signingKey: { file: "${keyFile}" }, tokenTtlSeconds: 30 }\n`).field,
      'pullAuth.tokenTtlSeconds',
    );
  });

  it('a service or realm that would break out of its quotes › refused', () => {
    assert.equal(problem(`${BASE}pullAuth: { signingKey: { file: "${keyFile}" }, service: 'a"b' }\n`).field, 'pullAuth.service');
    assert.equal(problem(`${BASE}pullAuth: { signingKey: { file: "${keyFile}" }, realm: 'not a url' }\n`).field, 'pullAuth.realm');
  });

  it('oidc: grants compiled; a bad pattern or an unreadable JWKS named', () => {
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [] }));
    const oidc = (grants: string, file = jwks) =>
      `${BASE}pullAuth:\n  signingKey: { file: "${keyFile}" }\n  oidc: { issuer: "https://k8s.example", jwksFile: "${file}", audience: trustgate, grants: ${grants} }\n`;
    const config = parseConfig(oidc('[{ subject: "system:serviceaccount:ci:*", repositories: ["127.0.0.1:5000/ci/**"] }]'), 'test.yaml');
    assert.equal(config.pullAuth?.oidc?.usernameClaim, 'sub');
    assert.ok(config.pullAuth?.oidc?.grants[0]?.repositories[0]?.test('127.0.0.1:5000/ci/app'));
    assert.equal(problem(oidc('[{ subject: x, repositories: ["a b"] }]')).field, 'pullAuth.oidc.grants[0].repositories[0]');
    assert.equal(problem(oidc('[]', join(dir, 'missing.json'))).field, 'pullAuth.oidc.jwksFile');
  });

  it('with pullAuth on, a credentialed upstream no longer needs allowAnonymousPulls', () => {
    const credentialed = BASE.replace('default: true', 'default: true\n    auth: { type: basic, username: bot, password: { env: PW } }');
    assert.equal(problem(credentialed, { PW: 'x' }).field, 'upstreams[0].allowAnonymousPulls');
    const config = loadConfigText(`${credentialed}pullAuth: { signingKey: { file: "${keyFile}" } }\n`, 'test.yaml', { env: { PW: 'x' } });
    assert.equal(config.upstreams[0]?.credentials.type, 'basic');
  });
});

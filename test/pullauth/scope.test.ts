import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigText } from '../../src/config/index.ts';
import { compilePattern } from '../../src/oci/pattern.ts';
import { canonicalNames, grantPulls, grantsPull } from '../../src/pullauth/grants.ts';
import { MAX_SCOPES, parseScopes, ScopeError } from '../../src/pullauth/scope.ts';

const config = loadConfigText(
  `
listen: { plainHttp: true }
upstreams:
  - { name: local, url: "http://127.0.0.1:5000", default: true, repositories: ["127.0.0.1:5000/**"] }
  - { name: hub, url: "https://registry-1.docker.io", registryHost: docker.io, repositories: ["docker.io/**"] }
`,
  'test.yaml',
);
const identity = (...patterns: string[]) => ({ subject: 'robot:t', patterns: patterns.map(compilePattern) });

describe('scope parsing (distribution auth/scope.md)', () => {
  it('one scope › type, name, actions', () => {
    assert.deepEqual(parseScopes('repository:team/app:pull'), [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
  });
  it('repeated parameters and space-separated scopes › all of them, actions de-duplicated', () => {
    assert.deepEqual(parseScopes(['repository:a:pull,push,pull', 'repository:b:pull repository:c:*']), [
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b', actions: ['pull'] },
      { type: 'repository', name: 'c', actions: ['*'] },
    ]);
  });
  it('a name with host:port › the name is everything between the type and the last colon', () => {
    assert.deepEqual(parseScopes('repository:localhost:5000/foo/bar:pull'), [
      { type: 'repository', name: 'localhost:5000/foo/bar', actions: ['pull'] },
    ]);
  });
  it('no scope › no scopes (a login-only token)', () => {
    assert.deepEqual(parseScopes(undefined), []);
    assert.deepEqual(parseScopes(''), []);
  });
  it('hostile and malformed entries › dropped by the parser or by the grant, never granted', () => {
    const hostile = [
      'repository:team/app', // no actions part
      'repository::pull', // empty name
      ':team/app:pull', // empty type
      'REPOSITORY:team/app:pull', // uppercase type
      'repository(plugin):team/app:pull', // resource classes are not served
      'repository:team/app:PULL', // actions are lowercase
      'repository:team/app:pull;rm', // not an action
      'repository:team/"app:pull', // a quote would break a challenge
      'repository:team/\u0000app:pull', // control character
      'repository:team/\u00e4pp:pull', // non-ASCII
      'repository:Team/App:pull', // not a repository name
      'repository:../../etc/passwd:pull', // not a repository name
      'repository:team/app:pull\r\nx-evil:1', // header injection attempt
      `repository:${'a/'.repeat(200)}a:pull`, // longer than a name may be
    ];
    const parsed = parseScopes(hostile);
    assert.ok(
      parsed.every((s) => !/[\u0000-\u001f\u007f-\uffff]/.test(s.name)),
      JSON.stringify(parsed),
    );
    assert.deepEqual(grantPulls(parsed, identity('**'), config.upstreams), []);
  });
  it('non-text values (?scope[]=… shapes) › refused', () => {
    assert.throws(() => parseScopes([{ a: 1 }]), ScopeError);
  });
  it(`more than ${MAX_SCOPES} scopes, or one longer than 512 › refused rather than trimmed`, () => {
    assert.throws(() => parseScopes(Array.from({ length: MAX_SCOPES + 1 }, (_, i) => `repository:r${i}:pull`)), ScopeError);
    assert.throws(() => parseScopes(`repository:${'a'.repeat(600)}:pull`), ScopeError);
    assert.equal(parseScopes(Array.from({ length: MAX_SCOPES }, (_, i) => `repository:r${i}:pull`)).length, MAX_SCOPES);
  });
  it('a huge run of colons › linear, dropped', () => {
    const started = performance.now();
    assert.deepEqual(parseScopes(`repository:${':'.repeat(500)}`), []);
    assert.ok(performance.now() - started < 50);
  });
});

describe('granting pulls', () => {
  it('only pull, only on names the identity may pull; everything else is left out', () => {
    const scopes = parseScopes([
      'repository:team/app:pull,push',
      'repository:other/app:pull',
      'repository:team/lib:push',
      'registry:catalog:*',
      'repository:Team/App:pull',
    ]);
    assert.deepEqual(grantPulls(scopes, identity('127.0.0.1:5000/team/**'), config.upstreams), [
      { name: 'team/app', canonical: ['127.0.0.1:5000/team/app'] },
    ]);
  });
  it('a client name maps as a pull maps it: an upstream prefix selects that upstream', () => {
    const granted = grantPulls(parseScopes('repository:hub/library/nginx:pull'), identity('docker.io/library/*'), config.upstreams);
    assert.deepEqual(granted, [{ name: 'hub/library/nginx', canonical: ['docker.io/library/nginx'] }]);
  });
  it("the canonical names a client name can reach: without ns, and under each upstream's ns", () => {
    assert.deepEqual(canonicalNames('library/nginx', config.upstreams), ['127.0.0.1:5000/library/nginx', 'docker.io/library/nginx']);
  });
  it('a grant through one registry never stretches to the same name on another (ns)', () => {
    const grants = grantPulls(parseScopes('repository:library/nginx:pull'), identity('127.0.0.1:5000/**'), config.upstreams);
    assert.ok(grantsPull(grants, 'library/nginx', '127.0.0.1:5000/library/nginx'));
    assert.ok(!grantsPull(grants, 'library/nginx', 'docker.io/library/nginx'));
    assert.ok(!grantsPull(grants, 'library/redis', '127.0.0.1:5000/library/redis'));
  });
  it('no patterns › nothing granted', () => {
    assert.deepEqual(grantPulls(parseScopes('repository:team/app:pull'), identity(), config.upstreams), []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigText } from '../../src/config/index.ts';
import { checkSource } from '../../src/gate/source-check.ts';
import { resolveSource } from '../../src/upstream/source.ts';

const config = loadConfigText(
  `
listen: { plainHttp: true }
upstreams:
  - name: local
    url: http://127.0.0.1:5000
    default: true
    repositories: ["127.0.0.1:5000/allowed/**"]
  - name: hub
    url: https://registry-1.docker.io
    registryHost: docker.io
    aliases: [index.docker.io]
    repositories: ["docker.io/library/*"]
`,
  'test.yaml',
);

function resolved(name: string, ns?: string) {
  const r = resolveSource(config.upstreams, name, ns);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.source;
}

describe('source resolution', () => {
  it('ns wins over a path prefix', () => {
    const s = resolved('hub/library/nginx', 'index.docker.io');
    assert.equal(s.upstream.name, 'hub');
    assert.equal(s.repository, 'hub/library/nginx');
    assert.equal(s.canonicalName, 'docker.io/hub/library/nginx');
  });
  it('a path prefix naming an upstream selects it', () => {
    const s = resolved('hub/library/nginx');
    assert.equal(s.upstream.name, 'hub');
    assert.equal(s.canonicalName, 'docker.io/library/nginx');
    assert.equal(s.clientName, 'hub/library/nginx');
  });
  it('otherwise the default upstream serves the name as given', () => {
    const s = resolved('allowed/app');
    assert.equal(s.upstream.name, 'local');
    assert.equal(s.canonicalName, '127.0.0.1:5000/allowed/app');
  });
  it('an ns naming no upstream is refused, never sent to the default', () => {
    const r = resolveSource(config.upstreams, 'allowed/app', 'evil.example');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /"evil\.example" \(from ns\) is not served by this proxy/);
  });
  it('a non-ASCII ns is refused, even one that lowercases onto a served host (the Kelvin sign K to k)', () => {
    assert.equal('DOC\u212AER.IO'.toLowerCase(), 'docker.io');
    const r = resolveSource(config.upstreams, 'library/nginx', 'doc\u212Aer.io');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /"doc\?er\.io" \(from ns\) is not served by this proxy/);
    assert.equal(resolved('library/nginx', 'DOCKER.IO').canonicalName, 'docker.io/library/nginx', 'ASCII case still folds');
  });
  it('the same repository on two upstreams gets two canonical names and separate allowlists', () => {
    assert.equal(checkSource(resolved('library/nginx', 'docker.io')), undefined);
    const local = checkSource(resolved('library/nginx'));
    assert.equal(local?.reasons[0]?.code, 'source_not_allowed');
    assert.match(local!.reasons[0]!.message, /^not on the allowlist of upstream "local"$/);
  });
});

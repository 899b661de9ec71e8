// matchesSignedReference: containers/image prmExactReference / prmExactRepository semantics,
// with distribution/reference normalisation (ParseNormalizedNamed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSignedReference } from '../../../src/verify/cosign/index.ts';

const D = `sha256:${'a'.repeat(64)}`;
const exact = (signed: string | undefined, reference: string): boolean => matchesSignedReference(signed, { mode: 'exact', reference });
const repo = (signed: string | undefined, reference: string): boolean => matchesSignedReference(signed, { mode: 'repository', reference });

describe('matchesSignedReference exact', () => {
  test('same name and tag › true; other tag › false', () => {
    assert.equal(exact('192.168.64.2:5000/skopeo-signed:tag', '192.168.64.2:5000/skopeo-signed:tag'), true);
    assert.equal(exact('192.168.64.2:5000/skopeo-signed:tag', '192.168.64.2:5000/skopeo-signed:othertag'), false);
  });
  test('name-only on either side › false (no default tag is added)', () => {
    assert.equal(exact('registry.example/app', 'registry.example/app'), false);
    assert.equal(exact('registry.example/app:latest', 'registry.example/app'), false);
    assert.equal(exact('registry.example/app', 'registry.example/app:latest'), false);
  });
  test('Docker Hub normalisation: busybox:1 = docker.io/library/busybox:1 = index.docker.io/library/busybox:1', () => {
    assert.equal(exact('busybox:1', 'docker.io/library/busybox:1'), true);
    assert.equal(exact('index.docker.io/library/busybox:1', 'busybox:1'), true);
    assert.equal(exact('docker.io/busybox:1', 'busybox:1'), true);
    assert.equal(exact('acme/app:1', 'docker.io/acme/app:1'), true);
  });
  test('digests: tag+digest must match both; digest alone matches digest alone', () => {
    assert.equal(exact(`r.example/app@${D}`, `r.example/app@${D}`), true);
    assert.equal(exact(`r.example/app:v1@${D}`, `r.example/app:v1@${D}`), true);
    assert.equal(exact(`r.example/app:v1@${D}`, `r.example/app@${D}`), false);
    assert.equal(exact(`r.example/app@sha256:${'A'.repeat(64)}`, `r.example/app@sha256:${'A'.repeat(64)}`), false); // go-digest: lowercase hex
    assert.equal(exact(`r.example/app@md5:${'a'.repeat(32)}`, `r.example/app@md5:${'a'.repeat(32)}`), false); // unregistered algorithm
  });
  test('hosts: localhost, ports, IPv6, uppercase hosts are domains', () => {
    assert.equal(exact('localhost:5000/test:v', 'localhost:5000/test:v'), true);
    assert.equal(exact('localhost/test:v', 'docker.io/localhost/test:v'), false);
    assert.equal(exact('[::1]:5000/app:v', '[::1]:5000/app:v'), true);
    assert.equal(exact('Registry/app:v', 'Registry/app:v'), true);
  });
});

describe('matchesSignedReference repository', () => {
  test('same name, any tag or digest › true', () => {
    assert.equal(repo('192.168.64.2:5000/cosign-signed-single-sample', '192.168.64.2:5000/cosign-signed-single-sample:v1'), true);
    assert.equal(repo(`busybox@${D}`, 'docker.io/library/busybox:latest'), true);
  });
  test('another repository or registry › false', () => {
    assert.equal(repo('192.168.64.2:5000/cosign-signed-single-sample', 'this/does-not:match'), false);
    assert.equal(repo('registry.example/app', 'other.example/app'), false);
    assert.equal(repo('registry.example/app', 'registry.example/app2'), false);
  });
});

describe('matchesSignedReference never matches bad input', () => {
  const bad = [
    undefined,
    '',
    'upper/Case:tag',
    'App:v',
    'a'.repeat(64),
    'app:',
    'app@',
    'app:tag with space',
    `app@sha256:${'a'.repeat(63)}`,
    '/app',
    'app/',
    'app//x',
    `r.example/${'a'.repeat(256)}`,
    'app:-tag',
    'ex ample/app',
  ];
  for (const signed of bad) {
    test(`signed ${JSON.stringify(signed)?.slice(0, 40)} › false`, () => {
      assert.equal(exact(signed, signed ?? 'x:y'), false);
      assert.equal(repo(signed, signed ?? 'x'), false);
    });
  }
  test('a bad expected reference › false', () => {
    assert.equal(repo('registry.example/app', 'registry.example/App'), false);
  });
});

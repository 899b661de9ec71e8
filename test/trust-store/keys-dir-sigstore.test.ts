// keys/ for the kinds beyond .pub keys and notation roots: <id>.json (a sigstore trusted_root.json),
// <id>.crt with `kind: tsa` or `kind: sigstore-root`, and the refusals that name the file or field.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileTrust } from '../../src/trust/compile.ts';
import { loadKeysDir } from '../../src/trust-store/keys-dir.ts';
import { makeNotationTsa } from '../kit/notation-sign.ts';
import { ec, spki } from '../admin/key-material.ts';

const repoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const PUBLIC_GOOD = repoFile('config/sigstore/public-good.trusted_root.json');
const PKI =
  repoFile('test/fixtures/containers-image/keys/pki_root_crts.pem') +
  repoFile('test/fixtures/containers-image/keys/pki_intermediate_crts.pem');
const INTERMEDIATE = repoFile('test/fixtures/containers-image/keys/pki_intermediate_crts.pem');

const dirs: string[] = [];
let tsaPem: string;
before(async () => {
  tsaPem = (await makeNotationTsa(new Date())).rootPem;
});
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A keys/ directory holding `files` (name → text). */
function keysDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-keys-dir-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
const meta = (kind?: string): string => `scopes: ["registry.example/**"]\n${kind === undefined ? '' : `kind: ${kind}\n`}`;

describe('keys/ › sigstore-root and tsa entries', () => {
  it('<id>.json › a sigstore-root holding the trusted_root.json text, no PEM; it compiles into the sigstore roots', () => {
    const dir = keysDir({ 'public-good.json': PUBLIC_GOOD, 'public-good.yaml': meta() });
    const entries = loadKeysDir(dir);
    assert.deepEqual(entries, [
      {
        id: 'public-good',
        kind: 'sigstore-root',
        pem: '',
        trustedRoot: PUBLIC_GOOD,
        scopes: ['registry.example/**'],
        purposes: ['sign'],
        origin: 'file',
      },
    ]);
    const compiled = compileTrust({ version: 1, entries, revocations: [] });
    assert.deepEqual(compiled.broken, []);
    assert.deepEqual(
      compiled.material.sigstoreRoots.map((r) => [r.id, r.pki]),
      [['public-good', false]],
    );
  });

  it('<id>.crt with kind: tsa › a tsa root; with kind: sigstore-root › a PKI sigstore-root; with no kind › a notation root', () => {
    const dir = keysDir({
      'tsa.crt': tsaPem,
      'tsa.yaml': meta('tsa'),
      'byo.crt': PKI,
      'byo.yaml': meta('sigstore-root'),
      'notary.crt': tsaPem,
      'notary.yaml': meta(),
    });
    const entries = loadKeysDir(dir);
    assert.deepEqual(entries.map((e) => `${e.id}:${e.kind}`).sort(), ['byo:sigstore-root', 'notary:notation-root', 'tsa:tsa']);
    assert.equal(entries.find((e) => e.id === 'byo')?.pem, PKI);
    assert.equal(entries.find((e) => e.id === 'byo')?.trustedRoot, undefined);
    const { material, broken } = compileTrust({ version: 1, entries, revocations: [] });
    assert.deepEqual(broken, []);
    assert.deepEqual(
      material.tsaRoots.map((r) => r.id),
      ['tsa'],
    );
    assert.deepEqual(
      material.roots.map((r) => r.id),
      ['notary'],
    );
    assert.deepEqual(
      material.sigstoreRoots.map((r) => [r.id, r.pki]),
      [['byo', true]],
      'a PEM root lists no transparency log: bring-your-own PKI',
    );
  });

  it('<id>.pub with kind: tsa › refused, naming the YAML file and its kind field', () => {
    const dir = keysDir({ 'ci.pub': spki(ec('P-256').publicKey), 'ci.yaml': meta('tsa') });
    assert.throws(() => loadKeysDir(dir), {
      name: 'ConfigError',
      message: `${join(dir, 'ci.yaml')}: kind: a .pub file holds key, not tsa`,
    });
  });

  it('<id>.json with kind: tsa › refused, naming kind', () => {
    const dir = keysDir({ 'root.json': PUBLIC_GOOD, 'root.yaml': meta('tsa') });
    assert.throws(() => loadKeysDir(dir), {
      name: 'ConfigError',
      message: `${join(dir, 'root.yaml')}: kind: a .json file holds sigstore-root, not tsa`,
    });
  });

  it('a broken <id>.json › refused, naming the file and the problem', () => {
    const cases: [string, string][] = [
      ['{"mediaType": ', 'trustedRoot is not JSON'],
      [
        JSON.stringify({ ...JSON.parse(PUBLIC_GOOD), mediaType: 'application/json' }),
        'trustedRoot.mediaType is not application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      ],
      [
        JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }),
        'trustedRoot lists no certificate authority and no transparency log',
      ],
    ];
    for (const [text, problem] of cases) {
      const dir = keysDir({ 'broken.json': text, 'broken.yaml': meta() });
      assert.throws(() => loadKeysDir(dir), {
        name: 'ConfigError',
        message: `${join(dir, 'broken.json')}: not a usable sigstore root: ${problem}`,
      });
    }
  });

  it('an intermediate alone as <id>.crt with kind: sigstore-root › refused, naming the file', () => {
    const dir = keysDir({ 'half.crt': INTERMEDIATE, 'half.yaml': meta('sigstore-root') });
    assert.throws(() => loadKeysDir(dir), {
      name: 'ConfigError',
      message: `${join(dir, 'half.crt')}: not a usable sigstore root: no self-signed root certificate: intermediates alone are never trust anchors`,
    });
  });
});

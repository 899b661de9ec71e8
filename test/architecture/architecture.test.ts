// Imports run one way (docs/architecture.md): no folder-level cycle, no import into a higher layer,
// and a pure core that does no I/O. Each rule is also shown failing on a planted violation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSourceTree, type SourceFile } from './import-graph.ts';
import { readLayers, type Layer } from './layers.ts';
import { checkArchitecture } from './rules.ts';

const SRC = join(import.meta.dirname, '../../src');
const layers = readLayers(join(import.meta.dirname, '../../docs/architecture.md'));
const files = readSourceTree(SRC);
const text = (path: string): string => readFileSync(join(SRC, path), 'utf8');

describe('architecture: src/ against docs/architecture.md', () => {
  it('the layer table names the pure core and every folder once', () => {
    const pure = layers.filter((l) => l.pure).flatMap((l) => l.folders);
    for (const folder of ['oci', 'verify', 'policy', 'scan', 'decision']) assert.ok(pure.includes(folder), `${folder}/ is pure core`);
    const all = layers.flatMap((l) => l.folders);
    assert.equal(new Set(all).size, all.length, 'a folder sits in one layer');
    assert.ok(files.length > 200, `read ${files.length} files`);
  });

  it('holds every rule: no cycle, no upward import, no I/O in the pure core', () => {
    assert.deepEqual(checkArchitecture(files, layers, text), []);
  });
});

describe('architecture rules catch planted violations', () => {
  const planted: Layer[] = [
    { rank: 1, name: 'pure core', folders: ['oci', 'scan'], pure: true },
    { rank: 2, name: 'infrastructure', folders: ['redis'], pure: false },
    { rank: 3, name: 'edges', folders: ['pull'], pure: false },
  ];
  const file = (path: string, localImports: string[] = [], packageImports: string[] = []): SourceFile => ({
    path,
    localImports,
    packageImports,
  });
  const rules = (tree: SourceFile[], source: Record<string, string> = {}): string[] =>
    checkArchitecture(tree, planted, (p) => source[p] ?? '').map((v) => `${v.rule}: ${v.detail}`);

  it('a clean tree passes', () => {
    assert.deepEqual(rules([file('oci/a.ts'), file('scan/b.ts', ['oci/a.ts']), file('pull/c.ts', ['scan/b.ts'], ['node:http'])]), []);
  });
  it('a folder cycle', () => {
    const found = rules([file('redis/a.ts', ['pull/b.ts']), file('pull/b.ts', ['redis/a.ts'])]);
    assert.ok(found.includes('cycle: pull ⇄ redis'), found.join('\n'));
  });
  it('an import into a higher layer', () => {
    assert.deepEqual(rules([file('redis/a.ts', ['pull/b.ts']), file('pull/b.ts')]), [
      'upward-import: redis/a.ts (infrastructure) imports pull/b.ts (edges)',
    ]);
  });
  it('a folder in no layer', () => {
    assert.deepEqual(rules([file('misc/a.ts')]), ['unplaced-folder: misc/ is in no layer of docs/architecture.md']);
  });
  it('the pure core importing ioredis, express, undici, prom-client, node:fs or the network', () => {
    for (const pkg of ['ioredis', 'express', 'undici', 'prom-client', 'node:fs', 'node:fs/promises', 'node:net', 'node:http', 'fs']) {
      assert.deepEqual(rules([file('scan/a.ts', [], [pkg])]), [`impure-package: scan/a.ts (pure core) imports ${pkg}`]);
    }
    assert.deepEqual(rules([file('redis/a.ts', [], ['ioredis'])]), [], 'infrastructure may');
  });
  it('the pure core reading the clock or the environment', () => {
    assert.deepEqual(rules([file('oci/a.ts')], { 'oci/a.ts': 'const t = Date.now();' }), [
      'impure-call: oci/a.ts (pure core) uses Date.now(); take it as a parameter',
    ]);
    assert.deepEqual(rules([file('oci/a.ts')], { 'oci/a.ts': 'const u = process.env.X;' }), [
      'impure-call: oci/a.ts (pure core) uses process.env; take it as a parameter',
    ]);
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe('the repository is self-contained', () => {
  it('no source, test, benchmark, script or CI file reads anything beside the repository (../shared and the like)', () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'test', 'bench', 'scripts', '.ci', 'config', 'deploy']) {
      for (const file of filesUnder(dir)) {
        if (file === join('test', 'architecture', 'self-contained.test.ts')) continue;
        const text = readFileSync(join(ROOT, file), 'utf8');
        if (/\.\.\/shared\b|\.\.\/\.\.\/shared\b|shared\/fixtures/.test(text)) offenders.push(file);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('carries the Apache-2.0 LICENSE that package.json names, and the fixtures carry their licence, notice and sources', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    assert.equal(pkg.license, 'Apache-2.0');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(license, /^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    assert.match(license, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
    for (const file of ['LICENSE', 'NOTICE', 'README.md']) assert.ok(statSync(join(ROOT, 'test', 'fixtures', file)).isFile(), file);
    const readme = readFileSync(join(ROOT, 'test', 'fixtures', 'README.md'), 'utf8');
    for (const dir of readdirSync(join(ROOT, 'test', 'fixtures'))) {
      if (statSync(join(ROOT, 'test', 'fixtures', dir)).isDirectory())
        assert.ok(readme.includes(`\`${dir}/\``), `test/fixtures/README.md names ${dir}/`);
    }
  });
});

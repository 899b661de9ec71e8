import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// The console renders everything from outside (image names, reasons, certificate subjects, audit
// fields) as text: Preact text nodes, never markup. This keeps the ways to turn a string into HTML
// or code out of its source altogether, and the page free of inline script and style (the CSP has
// no 'unsafe-inline').
const ROOT = join(import.meta.dirname, '..', '..', 'console');
const SINKS: readonly [string, RegExp][] = [
  ['innerHTML', /\binnerHTML\b/],
  ['outerHTML', /\bouterHTML\b/],
  ['dangerouslySetInnerHTML', /dangerouslySetInnerHTML/],
  ['insertAdjacentHTML', /insertAdjacentHTML/],
  ['document.write', /document\.write/],
  ['createContextualFragment', /createContextualFragment/],
  ['DOMParser', /\bDOMParser\b/],
  ['eval(', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\b/],
  ['string timers', /set(Timeout|Interval)\(\s*['"`]/],
  ['javascript: URLs', /javascript:/i],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the console source', () => {
  it('has no HTML or code sinks', () => {
    const sources = files(join(ROOT, 'src')).filter((f) => /\.(ts|tsx)$/.test(f));
    assert.ok(sources.length >= 5, 'found the console sources');
    const found: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const [name, pattern] of SINKS) if (pattern.test(text)) found.push(`${relative(ROOT, file)}: ${name}`);
    }
    assert.deepEqual(found, []);
  });

  it('index.html has no inline script, style or event handler', () => {
    const html = readFileSync(join(ROOT, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every <script> names a file');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
  });

  it('sends requests only to the same origin', () => {
    const api = readFileSync(join(ROOT, 'src', 'api.ts'), 'utf8');
    assert.match(api, /fetch\(`\/admin\/v1\$\{path\}`/);
    assert.match(api, /credentials: 'omit'/);
    const fetches = files(join(ROOT, 'src')).filter((f) => /\bfetch\(/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(
      fetches.map((f) => relative(ROOT, f)),
      // oidc.ts: GET /admin/v1/console/config (no token) and the code exchange at the issuer's token
      // endpoint, the one other origin the CSP's connect-src names (docs/console.md).
      [join('src', 'api.ts'), join('src', 'oidc.ts')],
    );
  });
});

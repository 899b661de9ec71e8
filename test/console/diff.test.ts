import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffLines, lineOffset, splitLines } from '../../console/src/diff.ts';

// The policy page's line diff (console/src/diff.ts): an LCS over lines, shown before apply.
const show = (a: string, b: string): string[] =>
  diffLines(a, b).map((l) => `${l.kind === 'added' ? '+' : l.kind === 'removed' ? '-' : ' '}${l.text}`);

describe('console line diff', () => {
  it('equal texts are all unchanged lines, numbered on both sides', () => {
    assert.deepEqual(diffLines('a\nb\n', 'a\nb'), [
      { kind: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { kind: 'same', text: 'b', oldLine: 2, newLine: 2 },
    ]);
  });

  it('a changed line is removed, then added; the rest is kept in order', () => {
    assert.deepEqual(show('version: 1\nrules:\n  - name: a\n    images: [x]\n', 'version: 1\nrules:\n  - name: b\n    images: [x]\n'), [
      ' version: 1',
      ' rules:',
      '-  - name: a',
      '+  - name: b',
      '     images: [x]',
    ]);
  });

  it('insertions and deletions in the middle keep the longest common subsequence', () => {
    assert.deepEqual(show('a\nb\nc\nd\ne', 'a\nc\nx\nd\ne\nf'), [' a', '-b', ' c', '+x', ' d', ' e', '+f']);
    const lines = diffLines('a\nb\nc\nd\ne', 'a\nc\nx\nd\ne\nf');
    assert.deepEqual(
      lines.filter((l) => l.kind === 'added').map((l) => l.newLine),
      [3, 6],
    );
    assert.deepEqual(
      lines.filter((l) => l.kind === 'removed').map((l) => l.oldLine),
      [2],
    );
  });

  it('from and to an empty text; CRLF is read as LF', () => {
    assert.deepEqual(show('', 'a\nb'), ['+a', '+b']);
    assert.deepEqual(show('a\r\nb\r\n', ''), ['-a', '-b']);
    assert.deepEqual(show('a\r\nb', 'a\nb'), [' a', ' b']);
    assert.deepEqual(splitLines(''), []);
  });

  it('a large rewrite stays fast (the common start and end are set aside)', () => {
    const old = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    const next = old.replace('line 2500', 'changed');
    const started = performance.now();
    const lines = diffLines(old, next);
    assert.ok(performance.now() - started < 500);
    assert.equal(lines.filter((l) => l.kind !== 'same').length, 2);
  });

  it('lineOffset: where a 1-based line starts, for moving the caret', () => {
    const text = 'one\ntwo\nthree';
    assert.equal(lineOffset(text, 1), 0);
    assert.equal(lineOffset(text, 2), 4);
    assert.equal(lineOffset(text, 3), 8);
    assert.equal(lineOffset(text, 9), text.length);
  });
});
